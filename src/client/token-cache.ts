// Tokens kept between commands, so that a command does not pay for a login: Keystone hashes the
// password on each one, which costs more than most commands' own requests. A kept token is
// validated before use (a cheap GET that also brings the current roles and catalog), so a
// revoked or expired one only costs a fresh login.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from './errors.ts';
import { send } from './http.ts';
import { identityV3, Session, type SessionOptions, type Token } from './session.ts';

/** A token is reused only while it has at least this long to live. */
const MARGIN_MS = 60_000;

interface Kept {
  token: string;
  expiresAt: string;
}

/** Where tokens are kept: $XDG_CACHE_HOME/nubo/tokens, readable by the user alone. */
export function tokenCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nubo', 'tokens');
}

/** Where the clouds' microversion ranges are kept, beside the tokens. */
export function versionCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nubo', 'versions');
}

/** One file per login: the cloud, the credentials (secret included, so a new password is a new
 * login) and the scope. Only logins that cost a hash on the server are kept. */
function fileOf(dir: string, options: SessionOptions): string | undefined {
  if (options.credentials.method === 'token') return undefined;
  const login = JSON.stringify([identityV3(options.authUrl), options.credentials, options.scope ?? null]);
  return join(dir, `${createHash('sha256').update(login).digest('hex')}.json`);
}

function read(file: string): Kept | undefined {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Kept;
    return typeof kept.token === 'string' && Date.parse(kept.expiresAt) - Date.now() > MARGIN_MS ? kept : undefined;
  } catch {
    return undefined;
  }
}

/** Writes atomically with mode 0600 in a 0700 directory, and drops the tokens that expired. */
function keep(dir: string, file: string, kept: Kept): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(kept), { mode: 0o600 });
  renameSync(tmp, file);
  for (const name of readdirSync(dir)) {
    const other = join(dir, name);
    if (other !== file && name.endsWith('.json') && !read(other)) rmSync(other, { force: true });
  }
}

/**
 * A session for these options: a kept token that the cloud still accepts, or a fresh login that
 * is then kept. Failures to read or write the cache only cost the login.
 */
export async function cachedSession(options: SessionOptions, dir: string): Promise<Session> {
  const file = fileOf(dir, options);
  const kept = file && read(file);
  if (kept) {
    try {
      const res = await send<{ token: Token }>(
        { method: 'GET', url: `${identityV3(options.authUrl)}/auth/tokens`, token: kept.token, headers: { 'x-subject-token': kept.token } },
        options.log,
      );
      return Session.resume(options, kept.token, res.body.token);
    } catch (err) {
      if (!(err instanceof HttpError && (err.status === 401 || err.status === 404))) throw err;
      rmSync(file, { force: true });
    }
  }
  const session = await Session.authenticate(options);
  if (file) {
    try {
      keep(dir, file, { token: session.token, expiresAt: session.auth.expires_at });
    } catch {
      // A cache that cannot be written (read-only home) is no reason to fail the command.
    }
  }
  return session;
}
