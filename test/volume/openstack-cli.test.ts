import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { blockdevOptions, type VolumeDriver } from '../../src/volume/drivers/driver.ts';
import { openFileDriver } from '../../src/volume/drivers/file.ts';
import { cliFails, nubo as nuboCli, openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';

// Volumes through the real openstack CLI against `nubo up`; the bytes are read back through the
// file backend's own driver, on the cloud's data directory.
const run = promisify(execFile);
const GiB = 2 ** 30;
let dataDir: string;
let nubo: SpawnedNubo;
let work: string;
let driver: VolumeDriver;
/** The demo project's member, at the cloud's current address (a restart moves it to another port). */
const demo = () => ({ ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' });

before(async () => {
  dataDir = tempDir('nubo-vol-');
  work = tempDir('nubo-vol-work-');
  nubo = await spawnNubo({ dataDir });
  driver = await openFileDriver(join(dataDir, 'volumes'));
  await ok('project', 'create', 'demo');
  await ok('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
  await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
});
after(async () => {
  await nubo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const as =
  (env: () => Record<string, string>) =>
  async (...args: string[]) => {
    const r = await openstack(env(), ...args);
    assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
const ok = as(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

/** Polls `volume show` (or `volume snapshot show`) until the status is no longer a transient one. */
async function settled(kind: 'volume' | 'snapshot', name: string, env = nubo.env): Promise<Record<string, unknown>> {
  const args = kind === 'volume' ? ['volume', 'show', name] : ['volume', 'snapshot', 'show', name];
  for (let i = 0; i < 120; i++) {
    const shown = JSON.parse(await as(() => env)(...args, '-f', 'json'));
    if (!['creating', 'extending', 'deleting'].includes(shown.status)) return shown;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${kind} ${name} did not settle`);
}

/** Reads a volume through the driver, calling each(chunk, offset). */
async function scan(id: string, each: (chunk: Buffer, offset: number) => void): Promise<number> {
  let offset = 0;
  for await (const chunk of await driver.read(id)) {
    each(chunk as Buffer, offset);
    offset += (chunk as Buffer).length;
  }
  return offset;
}

const allZero = async (id: string) => {
  let zero = true;
  const n = await scan(id, (c) => (zero &&= c.every((b) => b === 0)));
  return { zero, n };
};

test('a blank volume goes available with its size and reads zeros everywhere, also after a deleted written one', async () => {
  const first = await json('volume', 'create', '--size', '1', 'scratch');
  assert.equal(first.status, 'creating');
  assert.equal((await settled('volume', 'scratch')).status, 'available');
  await run('qemu-io', ['-c', `write -P 0xa5 0 ${GiB}`, `json:${JSON.stringify(blockdevOptions(driver.connection(first.id)))}`]);
  await ok('volume', 'delete', 'scratch');
  for (let i = 0; i < 60 && (await driver.size(first.id)) !== undefined; i++) await new Promise((r) => setTimeout(r, 250));
  assert.equal(await driver.size(first.id), undefined);

  const blank = await json('volume', 'create', '--size', '1', 'blank');
  const shown = await settled('volume', 'blank');
  assert.equal(shown.status, 'available');
  assert.equal(shown.size, 1);
  assert.equal(shown.bootable, 'false');
  const { zero, n } = await allZero(blank.id);
  assert.equal(n, GiB);
  assert.ok(zero, 'a new volume read bytes that were not zero');
  const listed = await json('volume', 'list');
  assert.deepEqual(
    listed.map((v: { Name: string }) => v.Name),
    ['blank'],
  );
});

test("a volume from an image holds the image's bytes, converted to raw, and keeps its metadata", async () => {
  const image = join(work, 'disk.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', image, '48M']);
  await run('qemu-io', ['-c', 'write -P 0x42 0 3M', '-c', 'write -P 0x43 40M 512k', image]);
  const reference = join(work, 'disk.raw');
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', image, reference]);
  const expected = readFileSync(reference);
  await ok('image', 'create', 'cirros', '--file', image, '--disk-format', 'qcow2', '--container-format', 'bare', '--property', 'os_distro=cirros');

  const vol = await json('volume', 'create', '--size', '1', '--image', 'cirros', 'from-image');
  const shown = await settled('volume', 'from-image');
  assert.equal(shown.status, 'available');
  assert.equal(shown.bootable, 'true');
  const meta = shown.volume_image_metadata as Record<string, string>;
  assert.equal(meta.image_name, 'cirros');
  assert.equal(meta.disk_format, 'qcow2');
  assert.equal(meta.os_distro, 'cirros');

  let same = true;
  const n = await scan(vol.id, (chunk, offset) => {
    const want = offset < expected.length ? expected.subarray(offset, offset + chunk.length) : Buffer.alloc(0);
    same &&= chunk.subarray(0, want.length).equals(want) && chunk.subarray(want.length).every((b) => b === 0);
  });
  assert.equal(n, GiB);
  assert.ok(same, "the volume's bytes differ from qemu-img convert's");
});

test('a volume from a snapshot of a written volume holds the written bytes; delete is refused while it has snapshots', async () => {
  const src = await json('volume', 'create', '--size', '1', 'written');
  await settled('volume', 'written');
  const spec = `json:${JSON.stringify(blockdevOptions(driver.connection(src.id)))}`;
  await run('qemu-io', ['-c', 'write -P 0x5c 1M 2M', '-c', `write -P 0x6d ${GiB - 65536} 65536`, spec]);
  await json('volume', 'snapshot', 'create', '--volume', 'written', 'snap');
  assert.equal((await settled('snapshot', 'snap')).status, 'available');
  // Writes after the snapshot are not in it.
  await run('qemu-io', ['-c', 'write -P 0x11 1M 2M', spec]);

  const stderr = await cliFails(nubo.env, 'volume', 'delete', 'written');
  assert.match(stderr, /have snapshots/);
  assert.match(stderr, /HTTP 400/);

  const clone = await json('volume', 'create', '--snapshot', 'snap', '--size', '2', 'restored');
  const shown = await settled('volume', 'restored');
  assert.equal(shown.status, 'available');
  assert.equal(shown.size, 2);
  const cspec = `json:${JSON.stringify(blockdevOptions(driver.connection(clone.id)))}`;
  const { stdout } = await run('qemu-io', ['-c', 'read -P 0x5c 1M 2M', '-c', `read -P 0x6d ${GiB - 65536} 65536`, '-c', `read -P 0 ${GiB} ${GiB}`, cspec]);
  assert.doesNotMatch(stdout, /Pattern verification failed/);

  // --purge deletes the snapshots with the volume.
  await ok('volume', 'delete', '--purge', 'written');
  for (let i = 0; i < 60 && (await driver.size(src.id)) !== undefined; i++) await new Promise((r) => setTimeout(r, 250));
  assert.equal(await driver.size(src.id), undefined);
  assert.deepEqual((await driver.list()).snapshots, []);
  assert.deepEqual(await json('volume', 'snapshot', 'list'), []);
});

test("over the gigabytes quota is 413 with Cinder's message; another project's volume is not found to it", async () => {
  await ok('quota', 'set', '--gigabytes', '3', 'demo');
  const asDemo = as(demo);
  await asDemo('volume', 'create', '--size', '2', 'mine');
  const stderr = await cliFails(demo(), 'volume', 'create', '--size', '2', 'too-much');
  assert.match(
    stderr,
    /VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\. Requested 2G, quota is 3G and 2G has been consumed\. \(HTTP 413\)/,
  );
  const quota = JSON.parse(await ok('quota', 'show', 'demo', '-f', 'json'));
  assert.equal(quota.gigabytes, 3);

  // The admin's volumes are not the demo project's to see, by name or by id.
  const adminVolume = (await json('volume', 'show', 'blank')).id as string;
  assert.match(await cliFails(demo(), 'volume', 'show', adminVolume), /No volume with a name or ID/);
  assert.deepEqual(
    JSON.parse(await asDemo('volume', 'list', '-f', 'json')).map((v: { Name: string }) => v.Name),
    ['mine'],
  );
  assert.match(await cliFails(demo(), 'volume', 'delete', adminVolume), /No volume with a name or ID|Failed to delete/);
  // The admin sees every project's volumes when asked.
  const all = await json('volume', 'list', '--all-projects');
  assert.ok(all.some((v: { Name: string }) => v.Name === 'mine'));
});

test('a restart after a kill -9 mid-create leaves no volume creating, no temporary file and no orphan', async () => {
  // An image large enough that its conversions are still under way when the process dies.
  const raw = join(work, 'big.raw');
  await run('dd', ['if=/dev/urandom', `of=${raw}`, 'bs=4M', 'count=96', 'status=none']);
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(work, 'big.qcow2')]);
  rmSync(raw);
  await ok('image', 'create', 'big', '--file', join(work, 'big.qcow2'), '--disk-format', 'qcow2', '--container-format', 'bare');
  const image = (await json('image', 'show', 'big')).id as string;
  const before = new Set((await json('volume', 'list', '--all-projects')).map((v: { ID: string }) => v.ID));
  const token = (await ok('token', 'issue', '-f', 'value', '-c', 'id')).trim();
  const project = (await ok('token', 'issue', '-f', 'value', '-c', 'project_id')).trim();
  // Straight to the API, so that the kill follows the creates by milliseconds, not a CLI's start.
  const created = await Promise.all(
    [1, 2, 3].map(async (i) => {
      const res = await fetch(`${nubo.url}/volume/v3/${project}/volumes`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ volume: { size: 1, imageRef: image, name: `crash-${i}` } }),
      });
      assert.equal(res.status, 202);
      return ((await res.json()) as { volume: { id: string } }).volume;
    }),
  );
  await nubo.stop('SIGKILL');
  const unfinished = await Promise.all(created.map(async (v) => (await driver.size(v.id)) === undefined));
  assert.ok(unfinished.some(Boolean), 'every volume was finished before the kill: the test proves nothing');
  // Something left behind by a backend write that never finished, and a file with no record.
  writeFileSync(join(dataDir, 'volumes', 'tmp', `${randomUUID()}.${randomUUID()}`), 'partial');
  const orphan = randomUUID();
  writeFileSync(join(dataDir, 'volumes', 'volumes', `${orphan}.raw`), 'orphan');

  nubo = await spawnNubo({ dataDir });
  for (const v of created) assert.equal((await settled('volume', v.id)).status, 'available');
  assert.deepEqual(readdirSync(join(dataDir, 'volumes', 'tmp')), []);
  const spool = join(dataDir, 'volume-spool');
  assert.deepEqual(existsSync(spool) ? readdirSync(spool) : [], []);
  for (let i = 0; i < 60 && (await driver.size(orphan)) !== undefined; i++) await new Promise((r) => setTimeout(r, 250));
  const records = new Set([...before, ...created.map((v) => v.id)]);
  assert.deepEqual(new Set((await driver.list()).volumes), records);
});

test('nubo volume, volume snapshot and volume type print what openstack prints', async () => {
  await ok('volume', 'type', 'create', '--private', '--property', 'volume_backend_name=file', '--description', 'fast disks', 'fast');
  await ok('volume', 'snapshot', 'create', '--volume', 'blank', '--property', 'k=v', 'blank-snap');
  await settled('snapshot', 'blank-snap');
  const commands = [
    ['volume', 'list'],
    ['volume', 'list', '--long'],
    ['volume', 'list', '--all-projects', '-f', 'json'],
    ['volume', 'show', 'blank'],
    ['volume', 'show', 'from-image', '-f', 'json'],
    ['volume', 'snapshot', 'list', '--long'],
    ['volume', 'snapshot', 'show', 'blank-snap'],
    ['volume', 'type', 'list', '--long'],
    ['volume', 'type', 'show', 'fast'],
    ['volume', 'show', 'no-such-volume'],
  ];
  for (const args of commands) {
    const [theirs, ours] = await Promise.all([openstack(nubo.env, ...args), nuboCli(nubo.env, ...args)]);
    assert.equal(ours.code, theirs.code, `nubo ${args.join(' ')}: ${ours.stderr}`);
    assert.equal(ours.stdout, theirs.stdout, `nubo ${args.join(' ')}`);
  }
  // Changes made with nubo are seen by openstack.
  const asNubo = async (...args: string[]) => assert.equal((await nuboCli(nubo.env, ...args)).code, 0, args.join(' '));
  await asNubo('volume', 'set', '--name', 'renamed', '--property', 'x=y', '--bootable', 'blank');
  const shown = await json('volume', 'show', 'renamed');
  assert.equal(shown.bootable, 'true');
  assert.deepEqual(shown.properties, { x: 'y' });
  // nubo volume set --size extends it (os-extend), as openstack's does.
  await asNubo('volume', 'set', '--size', '2', 'renamed');
  assert.equal((await settled('volume', 'renamed')).size, 2);
  assert.equal(await driver.size(shown.id as string), 2 * GiB);
  await asNubo('volume', 'create', '--size', '1', '--type', 'fast', 'typed');
  assert.equal((await settled('volume', 'typed')).type, 'fast');
  await asNubo('volume', 'snapshot', 'delete', 'blank-snap');
  await asNubo('volume', 'delete', 'typed');
});

test('quota set and show, volume part: per-type limits; nubo sets and shows what openstack does', async () => {
  await ok('volume', 'type', 'create', 'quota-type');
  await ok('quota', 'set', '--volumes', '7', '--snapshots', '4', '--gigabytes', '100', '--per-volume-gigabytes', '5', 'demo');
  await ok('quota', 'set', '--volumes', '2', '--gigabytes', '9', '--volume-type', 'quota-type', 'demo');
  const shown = JSON.parse(await ok('quota', 'show', 'demo', '-f', 'json'));
  assert.equal(shown.volumes, 7);
  assert.equal(shown.snapshots, 4);
  assert.equal(shown['per-volume-gigabytes'], 5);
  assert.equal(shown['volumes_quota-type'], 2);
  assert.equal(shown['gigabytes_quota-type'], 9);
  assert.equal(shown['snapshots_quota-type'], -1);
  // Two volumes of the type reach its limit of 2: a third is refused.
  const asDemo = as(demo);
  await asDemo('volume', 'create', '--size', '1', '--type', 'quota-type', 'typed-1');
  await asDemo('volume', 'create', '--size', '1', '--type', 'quota-type', 'typed-2');
  assert.match(await cliFails(demo(), 'volume', 'create', '--size', '1', '--type', 'quota-type', 'typed-3'), /VolumeLimitExceeded: .*\(HTTP 413\)/);

  assert.equal((await nuboCli(nubo.env, 'quota', 'set', '--snapshots', '6', '--volume-type', 'quota-type', 'demo')).code, 0);
  assert.equal((await nuboCli(nubo.env, 'quota', 'set', '--backups', '3', 'demo')).code, 0);
  const [theirs, ours] = await Promise.all([ok('quota', 'show', 'demo', '-f', 'json'), nuboCli(nubo.env, 'quota', 'show', 'demo', '-f', 'json')]);
  const mine = JSON.parse(ours.stdout);
  const volumeKeys = Object.keys(JSON.parse(theirs)).filter((k) =>
    /^(volumes|snapshots|gigabytes|backups|backup-gigabytes|per-volume-gigabytes|groups)($|_)/.test(k),
  );
  assert.ok(volumeKeys.includes('snapshots_quota-type'));
  for (const k of volumeKeys) assert.equal(mine[k], JSON.parse(theirs)[k], `nubo quota show: ${k}`);
  assert.equal(mine['snapshots_quota-type'], 6);
  assert.equal(mine.backups, 3);
});

test('a copy of a volume (--source) holds its bytes; an admin resets a status, a member may not; limits and zones show the volume side', async () => {
  const src = await json('volume', 'create', '--size', '1', 'copied');
  await settled('volume', 'copied');
  await run('qemu-io', ['-c', 'write -P 0x3c 5M 1M', `json:${JSON.stringify(blockdevOptions(driver.connection(src.id)))}`]);
  const copy = await json('volume', 'create', '--source', 'copied', 'copy');
  const shown = await settled('volume', 'copy');
  assert.equal(shown.status, 'available');
  assert.equal(shown.source_volid, src.id);
  const { stdout } = await run('qemu-io', [
    '-c',
    'read -P 0x3c 5M 1M',
    '-c',
    'read -P 0 6M 64M',
    `json:${JSON.stringify(blockdevOptions(driver.connection(copy.id)))}`,
  ]);
  assert.doesNotMatch(stdout, /Pattern verification failed/);

  // os-reset_status: the admin's, through volume set --state.
  await ok('volume', 'set', '--state', 'error', 'copy');
  assert.equal((await json('volume', 'show', 'copy')).status, 'error');
  await ok('volume', 'set', '--state', 'available', 'copy');
  assert.equal((await json('volume', 'show', 'copy')).status, 'available');
  assert.match(await cliFails(demo(), 'volume', 'set', '--state', 'error', 'mine'), /Policy doesn't allow volume:reset_status/);
  assert.equal((await as(demo)('volume', 'show', 'mine', '-f', 'value', '-c', 'status')).trim(), 'available');
  await ok('volume', 'delete', 'copy', 'copied');

  // The demo project's own limits and usage (quota test above: 7 volumes, 100 GiB; it holds three
  // volumes of 2, 1 and 1 GiB), the same in nubo.
  const limits = Object.fromEntries(
    JSON.parse(await as(demo)('limits', 'show', '--absolute', '-f', 'json')).map((r: { Name: string; Value: number }) => [r.Name, r.Value]),
  );
  assert.equal(limits.maxTotalVolumes, 7);
  assert.equal(limits.maxTotalVolumeGigabytes, 100);
  assert.equal(limits.totalVolumesUsed, 3);
  assert.equal(limits.totalGigabytesUsed, 4);
  assert.deepEqual(JSON.parse(await ok('availability', 'zone', 'list', '--volume', '-f', 'json')), [{ 'Zone Name': 'nova', 'Zone Status': 'available' }]);
  // nubo's compute rows follow the microversion it negotiates (2.57 drops maxPersonality…), so
  // only the volume service's rows are compared.
  const volumeRows = (out: string) => JSON.parse(out).filter((r: { Name: string }) => /Volume|Snapshot|Backup|Gigabytes/.test(r.Name));
  const [theirs, ours] = await Promise.all([
    openstack(demo(), 'limits', 'show', '--absolute', '-f', 'json'),
    nuboCli(demo(), 'limits', 'show', '--absolute', '-f', 'json'),
  ]);
  assert.equal(volumeRows(theirs.stdout).length, 10);
  assert.deepEqual(volumeRows(ours.stdout), volumeRows(theirs.stdout));
  const zones = await Promise.all([
    openstack(nubo.env, 'availability', 'zone', 'list', '--volume'),
    nuboCli(nubo.env, 'availability', 'zone', 'list', '--volume'),
  ]);
  assert.equal(zones[1].stdout, zones[0].stdout);
});
