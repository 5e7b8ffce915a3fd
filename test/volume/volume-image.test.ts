import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, cliFails, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { consoleUntil as consoleOf } from '../helpers/console.ts';

// Real qemu guests of the test image, seen through their consoles (no network needed):
// `server image create` of a server booted from a volume makes snapshots of its volumes and an
// image naming them, and a server booted from that image has the bytes the first guest wrote; a
// multiattach volume is hot-plugged into both guests at once, an ordinary one only into one.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let cloud: SpawnedNubo;
let work: string;
const cli = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));

/** Past the test image's 24 MiB, on the 1 GiB boot volume: bytes no filesystem of the guest uses. */
const MARKER = 'nubo-marker-5d41402a';
const OFFSET_MIB = 900;

const consoleUntil = (name: string, pattern: RegExp, timeoutMs = 240_000) => consoleOf(cli, name, pattern, timeoutMs);
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => eventually(what, () => check().catch(() => false), timeoutMs);

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  work = tempDir('nubo-volimage-');
  cloud = await spawnNubo({ dataDir: join(work, 'data') });
  await cli('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
});
after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A script the guest runs as user data before its ready line. */
function script(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  return path;
}

test('server image create of a volume-backed server: snapshots and an image naming them; a server booted from it has the written bytes', async () => {
  const image = (await json('image', 'show', 'nubo-guest')).id;
  const write = script('write.sh', `printf '${MARKER}' | dd of=/dev/vda bs=1M seek=${OFFSET_MIB} conv=notrunc 2>/dev/null; sync; echo marker-written`);
  await cli(
    ...['server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--config-drive', 'true', '--user-data', write],
    ...['--block-device', `source_type=image,uuid=${image},destination_type=volume,volume_size=1,delete_on_termination=true,boot_index=0`, 'vm-src'],
  );
  await consoleUntil('vm-src', /marker-written[^]*nubo-guest ready: /);
  const [rootVolume] = (await json('server', 'show', 'vm-src')).volumes_attached;

  const made = await json('server', 'image', 'create', '--name', 'vm-src-image', 'vm-src');
  const shown = await json('image', 'show', made.id);
  assert.equal(shown.status, 'active');
  assert.equal(shown.size, 0, 'the image holds no bytes of its own');
  assert.equal(shown.properties.bdm_v2, 'True');
  assert.equal(shown.properties.root_device_name, '/dev/vda');
  const [mapping] = JSON.parse(shown.properties.block_device_mapping);
  assert.equal(mapping.source_type, 'snapshot');
  assert.equal(mapping.destination_type, 'volume');
  assert.equal(mapping.boot_index, 0);
  assert.equal(mapping.volume_size, 1);
  const snapshot = await json('volume', 'snapshot', 'show', mapping.snapshot_id);
  assert.equal(snapshot.volume_id, rootVolume.id, 'the snapshot is of the root volume, taken while in use (force)');
  await until('the snapshot is available', async () => (await json('volume', 'snapshot', 'show', mapping.snapshot_id)).status === 'available');

  const read = script('read.sh', `echo "marker=$(dd if=/dev/vda bs=1M skip=${OFFSET_MIB} count=1 2>/dev/null | head -c ${MARKER.length})"`);
  await cli('server', 'create', '--flavor', 'm1.nano', '--image', 'vm-src-image', '--config-drive', 'true', '--user-data', read, 'vm-copy');
  await consoleUntil('vm-copy', new RegExp(`marker=${MARKER}[^]*nubo-guest ready: `));
  const [copyVolume] = (await json('server', 'show', 'vm-copy')).volumes_attached;
  assert.notEqual(copyVolume.id, rootVolume.id);
  assert.equal((await json('volume', 'show', copyVolume.id)).snapshot_id, mapping.snapshot_id, "the new server's disk is a volume made from the snapshot");
});

test('a multiattach volume is in both running guests at once; an ordinary one attached to a second guest is a 400', async () => {
  await cli('volume', 'type', 'create', '--property', 'multiattach=<is> True', 'multiattach');
  const shared = await json('volume', 'create', '--size', '1', '--type', 'multiattach', 'shared');
  assert.equal(shared.multiattach, true);
  await until('shared available', async () => (await json('volume', 'show', 'shared')).status === 'available');
  // Nova takes multiattach volumes from 2.60.
  for (const name of ['vm-src', 'vm-copy']) await cli('--os-compute-api-version', '2.60', 'server', 'add', 'volume', name, 'shared');
  await until('both attachments', async () => {
    const v = await json('volume', 'show', 'shared');
    return v.status === 'in-use' && v.attachments.length === 2;
  });
  // Each guest's kernel reports the hot-plugged 1 GiB disk.
  for (const name of ['vm-src', 'vm-copy']) await consoleUntil(name, /virtio_blk virtio\d+: \[vd[b-z]\] 2097152 512-byte logical blocks/, 60_000);

  await json('volume', 'create', '--size', '1', 'single');
  await until('single available', async () => (await json('volume', 'show', 'single')).status === 'available');
  await cli('server', 'add', 'volume', 'vm-src', 'single');
  await until('single in-use', async () => (await json('volume', 'show', 'single')).status === 'in-use');
  const err = await cliFails(cloud.env, 'server', 'add', 'volume', 'vm-copy', 'single');
  assert.match(err, /BadRequestException: 400: .*status must be available .* in-use/);
  const single = await json('volume', 'show', 'single');
  assert.equal(single.attachments.length, 1);
  assert.equal(single.status, 'in-use');
});
