import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCeph, type TestCeph } from '../helpers/ceph.ts';
import { cliAs, freePort, nubo as nuboCli, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';

// nubo's container and object commands against the real radosgw, on a cluster of this file's own
// that trusts the cloud's Keystone; the real openstack CLI sees what they made.
const work = tempDir('nubo-cli-objects-');
let ceph: TestCeph;
let cloud: TestCloud;

before(async () => {
  ceph = await startCeph();
  // The cloud's port first: radosgw is told where Keystone will be, and the cloud where radosgw is.
  const port = await freePort();
  cloud = await startTestCloud({ port, env: await ceph.radosgw(`http://127.0.0.1:${port}/identity`) });
});

after(async () => {
  await cloud?.stop();
  await ceph?.stop();
  rmSync(work, { recursive: true, force: true });
});

const env = () => ({
  OS_AUTH_URL: `${cloud.url}/identity`,
  OS_IDENTITY_API_VERSION: '3',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_USERNAME: 'admin',
  OS_PASSWORD: cloud.cloud.credentials!.password,
  OS_PROJECT_NAME: 'admin',
  NUBO_TOKEN_CACHE: 'off',
});
const nubo = cliAs(env, nuboCli);
const openstack = cliAs(env);
const json = async (cli: (...a: string[]) => Promise<string>, ...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));

test('nubo creates, lists, saves and deletes containers and objects as openstack does', async () => {
  const project = (await json(openstack, 'token', 'issue')).project_id;
  const created = await json(nubo, 'container', 'create', 'backups');
  assert.equal(created.length, 1);
  assert.equal(created[0].account, `AUTH_${project}`);
  assert.equal(created[0].container, 'backups');
  assert.ok(created[0]['x-trans-id']);
  assert.deepEqual(await json(nubo, 'container', 'list'), [{ Name: 'backups' }]);

  // More than one chunk of a stream, and not a multiple of one.
  const data = randomBytes(5 * 1024 * 1024 + 3);
  const file = join(work, 'disk.img');
  writeFileSync(file, data);
  const uploaded = await json(nubo, 'object', 'create', '--name', 'nightly/disk.img', 'backups', file);
  const md5 = (await import('node:crypto')).createHash('md5').update(data).digest('hex');
  assert.deepEqual(uploaded, [{ object: 'nightly/disk.img', container: 'backups', etag: md5 }]);

  assert.deepEqual(await json(nubo, 'object', 'list', 'backups'), [{ Name: 'nightly/disk.img' }]);
  const [long] = await json(nubo, 'object', 'list', '--long', 'backups');
  assert.equal(long.Bytes, data.length);
  assert.equal(long.Hash, md5);
  // openstack sees what nubo made, and nubo shows it as openstack does.
  assert.deepEqual(await json(openstack, 'object', 'list', 'backups'), [{ Name: 'nightly/disk.img' }]);
  const shown = await json(nubo, 'object', 'show', 'backups', 'nightly/disk.img');
  const theirs = await json(openstack, 'object', 'show', 'backups', 'nightly/disk.img');
  assert.deepEqual(Object.keys(shown), Object.keys(theirs));
  assert.equal(shown['content-length'], String(data.length));
  assert.equal(shown.etag, md5);
  const container = await json(nubo, 'container', 'show', 'backups');
  assert.deepEqual(Object.keys(container), Object.keys(await json(openstack, 'container', 'show', 'backups')));
  assert.equal(container.object_count, '1');
  assert.equal(container.bytes_used, String(data.length));

  const saved = join(work, 'restored', 'disk.img');
  await nubo('object', 'save', '--file', saved, 'backups', 'nightly/disk.img');
  assert.ok(readFileSync(saved).equals(data), 'the object comes back byte for byte');

  // A missing object is Swift's 404, and leaves no file behind.
  const missing = await nuboCli(env(), 'object', 'save', '--file', join(work, 'none'), 'backups', 'nothing');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404/);
  assert.equal(existsSync(join(work, 'none')), false);
  // A full container is not deleted.
  assert.match((await nuboCli(env(), 'container', 'delete', 'backups')).stderr, /HTTP 409/);

  await nubo('object', 'delete', 'backups', 'nightly/disk.img');
  assert.deepEqual(await json(openstack, 'object', 'list', 'backups'), []);
  await nubo('container', 'delete', 'backups');
  assert.deepEqual(await json(openstack, 'container', 'list'), []);
});
