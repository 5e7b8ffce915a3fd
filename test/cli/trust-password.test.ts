import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cliAs, nubo, openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';

// nubo trust … and nubo user password set take openstack's grammar and print what it prints.
let cloud: SpawnedNubo;
let ids: { alice: string; bob: string; project: string };
const home = tempDir('nubo-cli-home-');
before(async () => {
  cloud = await spawnNubo();
  const admin = cliAs(() => cloud.env);
  ids = { project: JSON.parse(await admin('project', 'create', 'tp', '-f', 'json')).id, alice: '', bob: '' };
  ids.alice = JSON.parse(await admin('user', 'create', '--project', 'tp', '--password', 'alice-pw', 'alice', '-f', 'json')).id;
  ids.bob = JSON.parse(await admin('user', 'create', '--password', 'bob-pw', 'bob', '-f', 'json')).id;
  await admin('role', 'add', '--project', 'tp', '--user', 'alice', 'member');
});
after(async () => {
  await cloud?.stop();
});

const env = (user: string, password: string) => ({
  ...cloud.env,
  OS_USERNAME: user,
  OS_PASSWORD: password,
  OS_PROJECT_NAME: 'tp',
  HOME: home,
  NUBO_TOKEN_CACHE: 'off',
});
const nuboOk = cliAs(() => env('alice', 'alice-pw'), nubo);

test('nubo trust create/show/list/delete print what openstack prints', async () => {
  const args = ['trust', 'create', '--project', ids.project, '--role', 'member', alice(), bob(), '-f', 'json'];
  const mine = JSON.parse(await nuboOk(...args));
  const theirs = JSON.parse(await cliAs(() => env('alice', 'alice-pw'))(...args));
  assert.deepEqual(Object.keys(mine), Object.keys(theirs));
  assert.equal(mine.roles, 'member');
  assert.equal(mine.trustor_user_id, ids.alice);

  const shownByNubo = JSON.parse(await nuboOk('trust', 'show', mine.id, '-f', 'json'));
  const shownByOpenstack = JSON.parse(await cliAs(() => env('alice', 'alice-pw'))('trust', 'show', mine.id, '-f', 'json'));
  assert.deepEqual(shownByNubo, shownByOpenstack);

  const adminEnv = { ...cloud.env, HOME: home, NUBO_TOKEN_CACHE: 'off' };
  const listed = JSON.parse(await cliAs(() => adminEnv, nubo)('trust', 'list', '-f', 'json'));
  assert.deepEqual(listed, JSON.parse(await cliAs(() => adminEnv)('trust', 'list', '-f', 'json')));
  assert.equal(listed.length, 2);

  await nuboOk('trust', 'delete', mine.id, theirs.id);
  assert.deepEqual(JSON.parse(await cliAs(() => adminEnv, nubo)('trust', 'list', '-f', 'json')), []);
});

test('nubo user password set: the new password works, the old one no longer', async () => {
  const bobEnv = (password: string) => {
    const { OS_PROJECT_NAME: _, ...rest } = env('bob', password);
    return rest;
  };
  await cliAs(() => bobEnv('bob-pw'), nubo)('user', 'password', 'set', '--original-password', 'bob-pw', '--password', 'bob-pw-2');
  assert.notEqual((await openstack(bobEnv('bob-pw'), 'token', 'issue')).code, 0);
  assert.equal((await openstack(bobEnv('bob-pw-2'), 'token', 'issue')).code, 0);
  const wrong = await nubo(bobEnv('bob-pw-2'), 'user', 'password', 'set', '--original-password', 'nope', '--password', 'x');
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /HTTP 401|authentication/i);
});

const alice = () => ids.alice;
const bob = () => ids.bob;
