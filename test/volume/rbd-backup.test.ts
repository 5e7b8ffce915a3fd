import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startCeph, type TestCeph } from '../helpers/ceph.ts';
import { adminEnv, cliAs, cliFails, openstack, startTestCloud, type TestCloud } from '../helpers/cloud.ts';

// On one single-node Ceph of the file's own, through the real openstack CLI and the APIs:
// volume backups in the `backups` pool (export-diff of a snapshot of the volume piped into
// import-diff, incremental onto the parent's image) restored byte for byte into new and existing
// volumes; the image stores info telling the rbd store; and with the cluster stopped, volume,
// backup and image requests answering 503 naming the pool, leaving nothing, and working again
// once it is back, without a restart.
const exec = promisify(execFile);
let ceph: TestCeph;
let c: TestCloud;
let env: Record<string, string>;
let token: string;
let project: string;

before(async () => {
  ceph = await startCeph();
  c = await startTestCloud({ env: ceph.env });
  env = adminEnv(c.url, c.cloud.credentials!.password);
  token = await c.adminToken();
  project = JSON.parse(await ok('project', 'show', 'admin', '-f', 'json')).id;
});
after(async () => {
  await c?.stop();
  await ceph?.stop();
});

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
/** A volume's RBD image as qemu opens it, as the cluster's admin. */
const uri = (id: string) => `rbd:volumes/volume-${id}:id=admin:conf=${ceph.conf}`;
const qemuIo = async (id: string, command: string) => {
  const { stdout } = await exec('qemu-io', ['-f', 'raw', '-c', command, uri(id)]);
  assert.doesNotMatch(stdout, /fail|error|Pattern verification/i, `qemu-io ${command}: ${stdout}`);
};
const identical = (a: string, b: string) =>
  exec('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'raw', uri(a), uri(b)]).then(
    () => true,
    () => false,
  );
const names = async (pool: string) => (await ceph.rbdJson<string[]>(['ls', pool])).sort();
const snaps = async (spec: string) => (await ceph.rbdJson<{ name: string }[]>(['snap', 'ls', spec])).map((s) => s.name).sort();

async function settled(kind: 'volume' | 'volume backup', name: string): Promise<Record<string, any>> {
  for (let i = 0; i < 480; i++) {
    const now = await shown(kind, name);
    if (now && !['creating', 'deleting', 'restoring', 'restoring-backup', 'backing-up'].includes(now.status)) return now;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} ${name} did not settle`);
}

async function gone(kind: 'volume' | 'volume backup', name: string): Promise<void> {
  for (let i = 0; i < 480; i++) {
    if (!(await shown(kind, name))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} ${name} is still there`);
}

let src: string;
let full: string;
let incr: string;

test('a full backup is an image of its own in the backups pool, from a snapshot the volume keeps for the next one', async () => {
  src = (await json('volume', 'create', '--size', '1', 'src')).id;
  assert.equal((await settled('volume', 'src')).status, 'available');
  await qemuIo(src, 'write -P 0xa1 0 6M');
  full = (await json('volume', 'backup', 'create', '--name', 'full', 'src')).id;
  const b = await settled('volume backup', 'full');
  assert.deepEqual([b.status, b.container, b.is_incremental, b.size], ['available', 'backups', false, 1]);
  assert.equal((await settled('volume', 'src')).status, 'available');
  const base = `volume-${src}.backup.${full}`;
  assert.deepEqual(await names('backups'), [base]);
  assert.deepEqual(await snaps(`backups/${base}`), [`backup.${full}`]);
  assert.deepEqual(await snaps(`volumes/volume-${src}`), [`backup.${full}`]);
});

test('an incremental backup is a snapshot of the same image, holding only what changed', async () => {
  await qemuIo(src, 'write -P 0xb2 512M 1M');
  incr = (await json('volume', 'backup', 'create', '--incremental', '--name', 'incr', 'src')).id;
  assert.equal((await settled('volume backup', 'incr')).is_incremental, true);
  const base = `volume-${src}.backup.${full}`;
  assert.deepEqual(await names('backups'), [base]);
  assert.deepEqual(await snaps(`backups/${base}`), [`backup.${full}`, `backup.${incr}`].sort());
  assert.deepEqual(await snaps(`volumes/volume-${src}`), [`backup.${incr}`], 'the volume keeps only its last backup\'s snapshot');
  // What the incremental step wrote: the one changed MiB, not the volume's 7.
  const diff = await exec('rbd', ['--conf', ceph.conf, '--id', 'admin', 'export-diff', '--no-progress', '--from-snap', `backup.${full}`, `backups/${base}@backup.${incr}`, '-'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  assert.ok(diff.stdout.length < 2 << 20, `the incremental diff is ${diff.stdout.length} bytes`);
  assert.match(await fails('volume', 'backup', 'delete', 'full'), /Incremental backups exist/);
});

test('a restore into a new volume is byte-identical to the volume backed up', async () => {
  await restore('incr', 'restored');
  const restored = await settled('volume', 'restored');
  assert.deepEqual([restored.status, restored.size], ['available', 1]);
  assert.equal((await settled('volume backup', 'incr')).status, 'available');
  assert.ok(await identical(src, restored.id));
});

test('a restore of the full backup over that volume (--force) gives back its bytes of then, zeros included', async () => {
  const target = (await json('volume', 'show', 'restored')).id;
  await restore('--force', 'full', 'restored');
  assert.equal((await settled('volume', 'restored')).status, 'available');
  await qemuIo(target, 'read -P 0xa1 0 6M');
  await qemuIo(target, 'read -P 0 512M 1M');
  assert.ok(!(await identical(src, target)));
});

test('deletes leave the backups pool empty and the volume without backup snapshots; a backup outlives its volume', async () => {
  await ok('volume', 'backup', 'delete', 'incr');
  await gone('volume backup', 'incr');
  assert.deepEqual(await snaps(`volumes/volume-${src}`), []);
  await ok('volume', 'delete', 'src', 'restored');
  await gone('volume', 'src');
  // Restored from a backup whose volume is gone.
  await restore('full', 'again');
  assert.equal((await settled('volume', 'again')).status, 'available');
  await qemuIo((await json('volume', 'show', 'again')).id, 'read -P 0xa1 0 6M');
  await ok('volume', 'backup', 'delete', 'full');
  await gone('volume backup', 'full');
  await ok('volume', 'delete', 'again');
  await gone('volume', 'again');
  assert.deepEqual(await names('backups'), []);
  assert.deepEqual(await names('volumes'), []);
});

test('the image stores info tells the rbd store, its pool and its user', async () => {
  const detail = await c.request('GET', '/image/v2/info/stores/detail', { token });
  assert.equal(detail.status, 200);
  const [store] = detail.body.stores;
  assert.deepEqual([store.id, store.type, store.default, store.properties.pool, store.properties.user], ['default', 'rbd', true, 'images', 'nubo-image']);
  const brief = await c.request('GET', '/image/v2/info/stores', { token });
  assert.match(brief.body.stores[0].description, /Ceph pool "images"/);
});

test('with Ceph stopped, volume and backup requests and image uploads answer 503 naming the pool and leave nothing; once back they work', async () => {
  const kept = (await json('volume', 'create', '--size', '1', 'kept')).id;
  assert.equal((await settled('volume', 'kept')).status, 'available');
  const volumes = (path: string, method = 'GET', body?: unknown) => c.request(method, `/volume/v3/${project}${path}`, { token, body });
  const image = (await c.request('POST', '/image/v2/images', { token, body: { name: 'while-down', disk_format: 'raw', container_format: 'bare' } })).body.id;
  await ceph.halt();
  try {
    const created = await volumes('/volumes', 'POST', { volume: { size: 1, name: 'while-down' } });
    assert.equal(created.status, 503);
    assert.match(created.body.serviceUnavailable.message, /Ceph pool "volumes"/);
    const deleted = await volumes(`/volumes/${kept}`, 'DELETE');
    assert.equal(deleted.status, 503);
    assert.match(deleted.body.serviceUnavailable.message, /Ceph pool "volumes"/);
    const backup = await volumes('/backups', 'POST', { backup: { volume_id: kept, name: 'while-down' } });
    assert.equal(backup.status, 503);
    assert.match(backup.body.serviceUnavailable.message, /Ceph pool "backups"/);
    const put = await c.request('PUT', `/image/v2/images/${image}/file`, { token, raw: 'x'.repeat(4096), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 503);
    assert.match(put.body.message, /Ceph pool "images"/);

    // Nothing was recorded, and what was there is as it was.
    const listed = (await volumes('/volumes/detail')).body.volumes;
    assert.deepEqual(
      listed.map((v: { name: string; status: string }) => [v.name, v.status]),
      [['kept', 'available']],
    );
    assert.deepEqual((await volumes('/backups')).body.backups, []);
    assert.equal((await c.request('GET', `/image/v2/images/${image}`, { token })).body.status, 'queued');
  } finally {
    await ceph.start();
  }

  await json('volume', 'create', '--size', '1', 'after');
  assert.equal((await settled('volume', 'after')).status, 'available');
  await ok('volume', 'backup', 'create', '--name', 'after', 'after');
  assert.equal((await settled('volume backup', 'after')).status, 'available');
  const put = await c.request('PUT', `/image/v2/images/${image}/file`, { token, raw: randomBytes(32 << 10).toString('hex'), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(put.status, 204);
  assert.equal((await c.request('GET', `/image/v2/images/${image}`, { token })).body.status, 'active');
  await ok('volume', 'backup', 'delete', 'after');
  await gone('volume backup', 'after');
  await ok('volume', 'delete', 'kept', 'after');
  await gone('volume', 'kept');
  await gone('volume', 'after');
  assert.deepEqual(await names('volumes'), []);
  assert.deepEqual(await names('backups'), []);
});
