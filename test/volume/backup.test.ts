import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { adminEnv, cliAs, cliFails, openstack, startTestCloud, type TestCloud } from '../helpers/cloud.ts';

// Volume backups on the file backend (storage local), through the real openstack CLI: backups are
// files under the data directory, an incremental one needs a parent and keeps it, a restore into a
// new or an existing volume gives back the bytes exactly, and quotas count backups.
const exec = promisify(execFile);
let c: TestCloud;
let env: Record<string, string>;
let token: string;
let project: string;

before(async () => {
  c = await startTestCloud();
  env = adminEnv(c.url, c.cloud.credentials!.password);
  token = await c.adminToken();
  project = (await json('project', 'show', 'admin')).id;
});
after(() => c?.stop());

const ok = cliAs(() => env);
const fails = (...args: string[]) => cliFails(env, ...args);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
/** `openstack volume backup restore`: openstackclient 6.0 sends the restore, then fails to print
 * cinderclient's answer (its ShowOne unpacks a resource object); anything else is a failure. */
async function restore(...args: string[]): Promise<void> {
  const r = await openstack(env, 'volume', 'backup', 'restore', ...args);
  if (r.code !== 0) assert.match(r.stderr, /^cannot unpack non-iterable VolumeBackupsRestore object\s*$/, `openstack volume backup restore ${args.join(' ')} failed: ${r.stderr}`);
}
/** A volume or backup by name, as the API's detail list shows it. */
async function shown(kind: 'volume' | 'volume backup', name: string): Promise<Record<string, any> | undefined> {
  const collection = kind === 'volume' ? 'volumes' : 'backups';
  const res = await c.request('GET', `/volume/v3/${project}/${collection}/detail?name=${encodeURIComponent(name)}`, { token, headers: { 'openstack-api-version': 'volume 3.44' } });
  assert.equal(res.status, 200);
  return res.body[collection][0];
}
const volumePath = (id: string) => join(c.dataDir, 'volumes', 'volumes', `${id}.raw`);
const backupDir = () => join(c.dataDir, 'backups');
const qemuIo = async (id: string, command: string) => {
  const { stdout } = await exec('qemu-io', ['-f', 'raw', '-c', command, volumePath(id)]);
  assert.doesNotMatch(stdout, /fail|error|Pattern verification/i, `qemu-io ${command}: ${stdout}`);
};
const identical = async (a: string, b: string) =>
  exec('cmp', ['--quiet', volumePath(a), volumePath(b)]).then(
    () => true,
    () => false,
  );

async function settled(kind: 'volume' | 'volume backup', name: string): Promise<Record<string, any>> {
  for (let i = 0; i < 240; i++) {
    const now = await shown(kind, name);
    if (now && !['creating', 'deleting', 'restoring', 'restoring-backup', 'backing-up'].includes(now.status)) return now;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} ${name} did not settle`);
}

async function gone(backup: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (!(await shown('volume backup', backup))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`backup ${backup} is still there`);
}

const api = (method: string, path: string, body?: unknown) => c.request(method, `/volume/v3/${project}${path}`, { token, body });

let src: string;
let full: string;

test('a full backup is a copy of the volume under the data directory, listed and shown as Cinder shows it', async () => {
  src = (await json('volume', 'create', '--size', '1', 'src')).id;
  assert.equal((await settled('volume', 'src')).status, 'available');
  await qemuIo(src, 'write -P 0xa1 0 4M');
  full = (await json('volume', 'backup', 'create', '--name', 'full', 'src')).id;
  const b = await settled('volume backup', 'full');
  assert.deepEqual([b.status, b.volume_id, b.size, b.is_incremental, b.container], ['available', src, 1, false, 'backups']);
  assert.equal((await settled('volume', 'src')).status, 'available');
  assert.ok(existsSync(join(backupDir(), `${full}.raw`)));
});

test('an incremental backup builds on the last one, which then cannot go first; lists filter by name, status and volume', async () => {
  await qemuIo(src, 'write -P 0xb2 512M 1M');
  await json('volume', 'backup', 'create', '--incremental', '--name', 'incr', 'src');
  assert.equal((await settled('volume backup', 'incr')).is_incremental, true);
  assert.equal((await json('volume', 'backup', 'show', 'full')).has_dependent_backups, true);
  assert.match(await fails('volume', 'backup', 'delete', 'full'), /Incremental backups exist for this backup/);
  const names = async (...filters: string[]) => (await json('volume', 'backup', 'list', ...filters)).map((b: { Name: string }) => b.Name).sort();
  assert.deepEqual(await names(), ['full', 'incr']);
  assert.deepEqual(await names('--name', 'incr'), ['incr']);
  assert.deepEqual(await names('--status', 'available', '--volume', 'src'), ['full', 'incr']);
  assert.deepEqual(await names('--status', 'error'), []);
  const long = await json('volume', 'backup', 'list', '--long', '--name', 'full');
  assert.equal(long[0].Volume, src);
});

test('an incremental backup of a volume never backed up is refused', async () => {
  await json('volume', 'create', '--size', '1', 'fresh');
  await settled('volume', 'fresh');
  assert.match(await fails('volume', 'backup', 'create', '--incremental', 'fresh'), /No backups available to do an incremental backup/);
});

test('a restore into a new volume gives the bytes of the backup exactly', async () => {
  await restore('incr', 'restored');
  const restored = await settled('volume', 'restored');
  assert.equal(restored.status, 'available');
  assert.equal(restored.size, 1);
  assert.equal((await settled('volume backup', 'incr')).status, 'available');
  assert.ok(await identical(src, restored.id));
});

test('a restore into an existing volume needs --force and overwrites it, zeros included', async () => {
  const target = (await json('volume', 'show', 'fresh')).id;
  await qemuIo(target, 'write -P 0xcc 0 1G');
  assert.match(await fails('volume', 'backup', 'restore', 'full', 'fresh'), /--force/);
  await restore('--force', 'full', 'fresh');
  assert.equal((await settled('volume', 'fresh')).status, 'available');
  await qemuIo(target, 'read -P 0xa1 0 4M');
  // Written after the full backup, and 0xcc before the restore: both gone.
  await qemuIo(target, 'read -P 0 4M 1020M');
});

test('an in-use volume is backed up only with --force, and keeps its status', async () => {
  const reset = (status: string) => api('POST', `/volumes/${src}/action`, { 'os-reset_status': { status } });
  assert.equal((await reset('in-use')).status, 202);
  try {
    assert.match(await fails('volume', 'backup', 'create', '--name', 'busy', 'src'), /in-use volume must use the force flag/);
    await ok('volume', 'backup', 'create', '--force', '--name', 'busy', 'src');
    assert.equal((await settled('volume backup', 'busy')).status, 'available');
    assert.equal((await json('volume', 'show', 'src')).status, 'in-use');
  } finally {
    await reset('available');
  }
  await ok('volume', 'backup', 'delete', 'busy');
  await gone('busy');
});

test('quotas count backups and their gigabytes', async () => {
  const usage = (await api('GET', `/os-quota-sets/${project}?usage=true`)).body.quota_set;
  assert.deepEqual([usage.backups.in_use, usage.backup_gigabytes.in_use], [2, 2]);
  await ok('quota', 'set', '--backups', '2', 'admin');
  try {
    assert.match(await fails('volume', 'backup', 'create', 'src'), /BackupLimitExceeded/);
  } finally {
    await ok('quota', 'set', '--backups', '10', 'admin');
  }
  await ok('quota', 'set', '--backup-gigabytes', '2', 'admin');
  try {
    assert.match(await fails('volume', 'backup', 'create', 'src'), /VolumeBackupSizeExceedsAvailableQuota/);
  } finally {
    await ok('quota', 'set', '--backup-gigabytes', '1000', 'admin');
  }
});

test('a backup outlives its volume; deletes, the incremental first, leave no file behind', async () => {
  await ok('volume', 'delete', 'src');
  await ok('volume', 'backup', 'delete', 'incr');
  await gone('incr');
  await ok('volume', 'backup', 'delete', 'full');
  await gone('full');
  assert.deepEqual(await json('volume', 'backup', 'list'), []);
  assert.deepEqual(
    readdirSync(backupDir()).filter((n) => n !== 'tmp'),
    [],
  );
});
