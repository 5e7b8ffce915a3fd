import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cliAs, cliFails, openstack, spawnNubo, type SpawnedNubo } from '../helpers/cloud.ts';

// A user changes its own password through the real openstack CLI, under Keystone's
// [security_compliance] rules set in Nubo's configuration.
let nubo: SpawnedNubo;
let carol: { id: string };
before(async () => {
  nubo = await spawnNubo({
    env: {
      NUBO_LOCKOUT_FAILURE_ATTEMPTS: '3',
      NUBO_LOCKOUT_DURATION: '10',
      NUBO_UNIQUE_LAST_PASSWORD_COUNT: '2',
      NUBO_PASSWORD_EXPIRES_DAYS: '90',
      NUBO_PASSWORD_REGEX: '^.{8,}$',
      NUBO_PASSWORD_REGEX_DESCRIPTION: 'at least 8 characters',
    },
  });
  const admin = cliAs(() => nubo.env);
  await admin('project', 'create', 'carols');
  carol = JSON.parse(await admin('user', 'create', '--project', 'carols', '--password', 'carol-pass-1', 'carol', '-f', 'json'));
  await admin('role', 'add', '--project', 'carols', '--user', 'carol', 'member');
});
after(async () => {
  await nubo?.stop();
});

const as = (password: string) => ({ ...nubo.env, OS_USERNAME: 'carol', OS_PASSWORD: password, OS_PROJECT_NAME: 'carols' });

async function login(password: string) {
  const res = await fetch(`${nubo.url}/identity/v3/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { id: carol.id, password } } } } }),
  });
  return { status: res.status, token: res.headers.get('x-subject-token'), body: (await res.json()) as any };
}

test('a user changes its own password: the old one stops working, and so do its tokens', async () => {
  const before = await login('carol-pass-1');
  assert.equal(before.status, 201);
  await cliAs(() => as('carol-pass-1'))('user', 'password', 'set', '--original-password', 'carol-pass-1', '--password', 'carol-pass-2');

  assert.match(await cliFails(as('carol-pass-1'), 'token', 'issue'), /HTTP 401/);
  assert.equal((await openstack(as('carol-pass-2'), 'token', 'issue')).code, 0);
  const check = await fetch(`${nubo.url}/identity/v3/auth/tokens`, { headers: { 'x-auth-token': before.token!, 'x-subject-token': before.token! } });
  assert.equal(check.status, 401, 'tokens from before the change are revoked');

  // The password expires after password_expires_days, as the user and the token say.
  const shown = JSON.parse(await cliAs(() => nubo.env)('user', 'show', 'carol', '-f', 'json'));
  assert.match(shown.password_expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const days = (new Date(`${shown.password_expires_at}Z`).getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 89.9 && days <= 90, `expires in ${days} days`);
  assert.equal((await login('carol-pass-2')).body.token.user.password_expires_at, shown.password_expires_at);
});

test('a new password follows password_regex and differs from the last ones', async () => {
  const short = await cliFails(as('carol-pass-2'), 'user', 'password', 'set', '--original-password', 'carol-pass-2', '--password', 'short');
  assert.match(short, /The password does not match the requirements: at least 8 characters\. \(HTTP 400\)/);
  const reused = await cliFails(as('carol-pass-2'), 'user', 'password', 'set', '--original-password', 'carol-pass-2', '--password', 'carol-pass-1');
  assert.match(
    reused,
    /The new password cannot be identical to a previous password\. The total number which includes the new password must be unique is 2\. \(HTTP 400\)/,
  );
  const wrong = await fetch(`${nubo.url}/identity/v3/users/${carol.id}/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: { original_password: 'not-it-at-all', password: 'carol-pass-9' } }),
  });
  assert.equal(wrong.status, 401);
  // The rules hold for an administrator too.
  assert.match(await cliFails(nubo.env, 'user', 'create', '--password', 'tiny', 'dave'), /HTTP 400/);
  // Two passwords back is out of the history: allowed again.
  await cliAs(() => as('carol-pass-2'))('user', 'password', 'set', '--original-password', 'carol-pass-2', '--password', 'carol-pass-3');
  await cliAs(() => as('carol-pass-3'))('user', 'password', 'set', '--original-password', 'carol-pass-3', '--password', 'carol-pass-1');
});

test('lockout_failure_attempts wrong passwords lock the user out for lockout_duration', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await login('wrong-password')).status, 401);
  const lockedAt = Date.now();
  const locked = await login('carol-pass-1');
  assert.equal(locked.status, 401);
  assert.equal(locked.body.error.message, `The account is locked for user: ${carol.id}.`);
  assert.match(await cliFails(as('carol-pass-1'), 'token', 'issue'), /HTTP 401/);
  await new Promise((r) => setTimeout(r, Math.max(0, lockedAt + 10_100 - Date.now())));
  assert.equal((await login('carol-pass-1')).status, 201);
});

test('change_password_upon_first_use: a password an administrator set must be changed before any login', async () => {
  const other = await spawnNubo({ env: { NUBO_CHANGE_PASSWORD_UPON_FIRST_USE: 'true' } });
  try {
    const erin = JSON.parse(await cliAs(() => other.env)('user', 'create', '--password', 'given-by-admin', 'erin', '-f', 'json'));
    const attempt = (password: string) =>
      fetch(`${other.url}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { id: erin.id, password } } } } }),
      });
    const expired = await attempt('given-by-admin');
    assert.equal(expired.status, 401);
    assert.equal(((await expired.json()) as any).error.message, `The password is expired and needs to be changed for user: ${erin.id}.`);
    const change = await fetch(`${other.url}/identity/v3/users/${erin.id}/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { original_password: 'given-by-admin', password: 'chosen-by-erin' } }),
    });
    assert.equal(change.status, 204);
    assert.equal((await attempt('chosen-by-erin')).status, 201);
  } finally {
    await other.stop();
  }
});
