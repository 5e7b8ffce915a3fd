import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { run, storeFiles } from './helpers.ts';

// The real openstack CLI (Debian's python3-openstackclient 6.0) against `nubo up`.
let nubo: SpawnedNubo;
let work: string;
before(async () => {
  nubo = await spawnNubo();
  work = tempDir('nubo-cli-');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', 'x.qcow2', '64M'], { cwd: work });
  await run('qemu-io', ['-c', 'write -P 0x42 0 3M', '-c', 'write -P 0x43 32M 512k', 'x.qcow2'], { cwd: work });
});
after(async () => {
  await nubo?.stop();
  if (nubo) rmSync(nubo.dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const as = (env: Record<string, string>) => async (...args: string[]) => {
  const r = await openstack(env, ...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const ok = (...args: string[]) => as(nubo.env)(...args);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('image create --file, list, set, show, save and delete, as an admin would', async () => {
  const file = join(work, 'x.qcow2');
  const bytes = readFileSync(file);
  const created = await json('image', 'create', 'Ubuntu-22.04', '--file', file, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  assert.equal(created.name, 'Ubuntu-22.04');
  assert.equal(created.visibility, 'public');

  const list = await json('image', 'list');
  assert.deepEqual(list, [{ ID: created.id, Name: 'Ubuntu-22.04', Status: 'active' }]);

  await ok('image', 'set', '--property', 'os_type=linux', '--min-ram', '512', '--min-disk', '1', 'Ubuntu-22.04');
  const shown = await json('image', 'show', 'Ubuntu-22.04');
  assert.equal(shown.status, 'active');
  assert.equal(shown.min_ram, 512);
  assert.equal(shown.min_disk, 1);
  assert.equal(shown.properties.os_type, 'linux');
  assert.equal(shown.size, bytes.length);
  assert.equal(shown.virtual_size, 64 * 1024 * 1024);
  assert.equal(shown.checksum, createHash('md5').update(bytes).digest('hex'));
  assert.equal(shown.properties.os_hash_algo, 'sha512');
  assert.equal(shown.properties.os_hash_value, createHash('sha512').update(bytes).digest('hex'));

  const out = join(work, 'out');
  await ok('image', 'save', '--file', out, 'Ubuntu-22.04');
  const saved = readFileSync(out);
  assert.ok(saved.equals(bytes), 'saved byte for byte');
  assert.equal(createHash('md5').update(saved).digest('hex'), shown.checksum);

  await ok('image', 'delete', 'Ubuntu-22.04');
  assert.deepEqual(await json('image', 'list'), []);
  assert.deepEqual(storeFiles(nubo.dataDir), { images: [], temp: [] });
});

test('image add project, then the member project accepts it with image set --accept', async () => {
  await ok('project', 'create', 'consumer');
  await ok('user', 'create', '--project', 'consumer', '--password', 'pw', 'consumer');
  await ok('role', 'add', '--project', 'consumer', '--user', 'consumer', 'member');
  const member = as({ ...nubo.env, OS_USERNAME: 'consumer', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'consumer' });

  const image = await json('image', 'create', 'golden', '--file', join(work, 'x.qcow2'), '--disk-format', 'qcow2', '--shared');
  const added = await json('image', 'add', 'project', 'golden', 'consumer');
  assert.equal(added.status, 'pending');
  assert.ok(!(await member('image', 'list')).includes('golden'), 'pending images are not listed');

  // Names are looked up in the list, which leaves out pending images: the member uses the id.
  await member('image', 'set', '--accept', image.id);
  assert.match(await member('image', 'list'), /golden/);
  const members = JSON.parse(await ok('image', 'member', 'list', 'golden', '-f', 'json'));
  assert.deepEqual(members.map((m: { Status: string }) => m.Status), ['accepted']);
  await member('image', 'save', '--file', join(work, 'member-copy'), image.id);
  assert.ok(readFileSync(join(work, 'member-copy')).equals(readFileSync(join(work, 'x.qcow2'))));

  const refused = await openstack({ ...nubo.env, OS_USERNAME: 'consumer', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'consumer' }, 'image', 'delete', image.id);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /403/);
  await ok('image', 'remove', 'project', 'golden', 'consumer');
  assert.ok(!(await member('image', 'list')).includes('golden'));
  await ok('image', 'delete', 'golden');
});

test('the CLI reports refused data clearly, and nothing is left behind', async () => {
  const r = await openstack(nubo.env, 'image', 'create', 'liar', '--file', join(work, 'x.qcow2'), '--disk-format', 'raw');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /400.*does not match disk_format raw: it is qcow2/);
  // openstacksdk deletes the image whose upload failed.
  assert.deepEqual(await json('image', 'list'), []);
  assert.deepEqual(storeFiles(nubo.dataDir), { images: [], temp: [] });
});
