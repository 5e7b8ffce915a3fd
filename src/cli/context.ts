import type { Command } from 'commander';
import { resolveOptions, sessionOptions } from '../client/config.ts';
import { ClientError, HttpError } from '../client/errors.ts';
import { IdentityClient } from '../client/identity.ts';
import { Session } from '../client/session.ts';
import { cachedSession, tokenCacheDir, versionCacheDir } from '../client/token-cache.ts';
import { globalFlags } from './globals.ts';
import { preload } from './output.ts';

export interface Cloud {
  session: Session;
  identity: IdentityClient;
}

/** Logs in with the options of the command line, the environment and clouds.yaml, reusing the
 * token of an earlier command unless NUBO_TOKEN_CACHE=off or a fresh login is asked for. */
export async function connect(cmd: Command, opts: { fresh?: boolean } = {}): Promise<Cloud> {
  const debug = Boolean(cmd.optsWithGlobals().debug);
  const cacheOff = process.env.NUBO_TOKEN_CACHE === 'off';
  const options = {
    ...sessionOptions(await resolveOptions(globalFlags(cmd))),
    versionCacheDir: cacheOff ? undefined : versionCacheDir(),
    log: debug ? (line: string) => process.stderr.write(line + '\n') : undefined,
  };
  const fresh = opts.fresh || cacheOff;
  // The printer's modules load while the login is in flight, which is mostly server time.
  const [session] = await Promise.all([fresh ? Session.authenticate(options) : cachedSession(options, tokenCacheDir()), preload(cmd)]);
  return { session, identity: new IdentityClient(session) };
}

/** Creates, or with --or-show returns the one that already exists under that name. */
export async function createOrShow<T>(orShow: boolean | undefined, create: () => Promise<T>, existing: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (orShow && err instanceof HttpError && err.status === 409) return existing();
    throw err;
  }
}

/**
 * Deletes each named resource, going on after a failure as openstackclient does: with several
 * names, each failure gets its own line and a count ends the run; one name fails with its error.
 */
export async function deleteEach(kind: string, plural: string, refs: string[], remove: (ref: string) => Promise<void>): Promise<void> {
  if (refs.length === 1) return remove(refs[0]!);
  return deleteCounted(refs, plural, (ref) => `Failed to delete ${kind} with name or ID '${ref}'`, remove);
}

/**
 * Deletes each named resource, going on after a failure, as the openstackclient commands that
 * count even one name do: a line per failure (`failure(ref)` and the error), then the count.
 */
export async function deleteCounted(refs: string[], plural: string, failure: (ref: string) => string, remove: (ref: string) => Promise<void>): Promise<void> {
  let failed = 0;
  for (const ref of refs) {
    try {
      await remove(ref);
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      failed++;
      process.stderr.write(`${failure(ref)}: ${err.message}\n`);
    }
  }
  if (failed) throw new ClientError(`${failed} of ${refs.length} ${plural} failed to delete.`);
}
