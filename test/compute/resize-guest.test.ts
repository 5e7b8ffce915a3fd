import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, cliFails, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { consoleUntil } from '../helpers/console.ts';
import { withQmp } from '../../src/compute/virt/qemu/qmp.ts';

// Resize on one real guest of the test image, with the real openstack CLI: to a flavor with more
// RAM, vCPUs and disk, then reverted to the old one, then resized again and confirmed. The guest
// tells what it sees at each boot on its console (a user-data script: MemTotal, CPUs, the root
// disk's sectors); qemu's own view comes from QMP. No network: the config drive carries the user
// data. One guest for all: each TCG boot costs a minute on two cores.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let cloud: SpawnedNubo;
let work: string;
let id: string;

const cli = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 300_000) => eventually(what, () => check().catch(() => false), timeoutMs);

const status = async () => (await json('server', 'show', 'vm')) as Record<string, any>;
const settled = (want: string) =>
  until(`vm ${want}`, async () => {
    const s = await status();
    return s.status === want && s['OS-EXT-STS:task_state'] === null;
  });

const USER_DATA = `#!/bin/sh
echo "nubo-resize: mem=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo) cpus=$(grep -c ^processor /proc/cpuinfo) disk=$(cat /sys/block/vda/size)"
`;

interface Seen {
  memKiB: number;
  cpus: number;
  diskSectors: number;
}

/** What the guest saw at its n-th boot (1 the first), waiting for that boot's ready line. */
async function bootNumber(n: number): Promise<Seen> {
  const log = await consoleUntil(cli, 'vm', new RegExp(`(nubo-guest ready[^\\n]*\\n[\\s\\S]*){${n}}`), 300_000);
  const lines = [...log.matchAll(/nubo-resize: mem=(\d+) cpus=(\d+) disk=(\d+)/g)];
  assert.equal(lines.length, n, `one line per boot:\n${log}`);
  const [, mem, cpus, disk] = lines.at(-1)!;
  return { memKiB: Number(mem), cpus: Number(cpus), diskSectors: Number(disk) };
}

/** qemu's view: the guest's RAM, vCPUs and root disk size. */
async function qemuView() {
  const socket = join(cloud.dataDir, 'compute', 'instances', id, 'qmp.sock');
  return withQmp(socket, async (q) => ({
    memoryMiB: (await q.execute<{ 'base-memory': number }>('query-memory-size-summary'))['base-memory'] / 2 ** 20,
    vcpus: (await q.execute<unknown[]>('query-cpus-fast')).length,
  }));
}

const GiB_SECTORS = 2 ** 30 / 512;
let first: Seen;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  work = tempDir('nubo-resize-');
  cloud = await spawnNubo({ dataDir: join(work, 'data') });
  await cli('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await cli('flavor', 'create', '--ram', '384', '--disk', '2', '--vcpus', '2', 'm1.bigger');
  const userData = join(work, 'user-data.sh');
  writeFileSync(userData, USER_DATA);
  id = (
    await json(
      ...['--os-compute-api-version', '2.37', 'server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--nic', 'none'],
      ...['--config-drive', 'true', '--user-data', userData, 'vm'],
    )
  ).id;
  first = await bootNumber(1);
  assert.equal(first.cpus, 1);
  assert.equal(first.diskSectors, GiB_SECTORS);
});

after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('resize to a bigger flavor: VERIFY_RESIZE, and the guest boots with more RAM, two vCPUs and a 2 GiB disk; revert: the old flavor, RAM and disk back', async () => {
  assert.match(await cliFails(cloud.env, 'server', 'resize', '--flavor', 'm1.nano', 'vm'), /When resizing, instances must change flavor!/);
  await cli('server', 'resize', '--flavor', 'm1.bigger', '--wait', 'vm');
  const resized = await status();
  assert.equal(resized.status, 'VERIFY_RESIZE');
  assert.equal(resized['OS-EXT-STS:vm_state'], 'resized');
  assert.match(String(resized.flavor), /m1\.bigger/);
  const grown = await bootNumber(2);
  assert.ok(grown.memKiB > first.memKiB + 100 * 1024, `the guest sees more memory: ${first.memKiB} KiB, then ${grown.memKiB} KiB`);
  assert.equal(grown.cpus, 2);
  assert.equal(grown.diskSectors, 2 * GiB_SECTORS, 'its disk grown to the flavor');
  assert.deepEqual(await qemuView(), { memoryMiB: 384, vcpus: 2 });
  const [migration] = await json('server', 'migration', 'list', '--server', 'vm');
  assert.equal(migration.Status, 'finished');

  await cli('server', 'resize', 'revert', 'vm');
  await settled('ACTIVE');
  assert.match(String((await status()).flavor), /m1\.nano/);
  const back = await bootNumber(3);
  assert.equal(back.memKiB, first.memKiB, 'the old memory');
  assert.equal(back.cpus, 1);
  assert.equal(back.diskSectors, GiB_SECTORS, 'the disk from before the resize');
  assert.deepEqual(await qemuView(), { memoryMiB: 256, vcpus: 1 });
  assert.equal((await json('server', 'migration', 'list', '--server', 'vm'))[0].Status, 'reverted');
});

test('resize again and confirm: ACTIVE on the new flavor without another boot, the disk kept aside dropped', async () => {
  await cli('server', 'resize', '--flavor', 'm1.bigger', '--wait', 'vm');
  const grown = await bootNumber(4);
  assert.equal(grown.cpus, 2);
  const kept = join(cloud.dataDir, 'compute', 'instances', id, 'disk.pre-resize');
  assert.ok(existsSync(kept), 'the disk from before is kept until the confirm');
  await cli('server', 'resize', 'confirm', 'vm');
  await settled('ACTIVE');
  const s = await status();
  assert.match(String(s.flavor), /m1\.bigger/);
  assert.equal(existsSync(kept), false);
  assert.deepEqual(await qemuView(), { memoryMiB: 384, vcpus: 2 });
  await bootNumber(4);
  const events = (await json('server', 'event', 'list', 'vm')).map((e: { Action: string }) => e.Action);
  assert.deepEqual(events.slice(0, 4), ['confirmResize', 'resize', 'revertResize', 'resize']);
  const statuses = (await json('server', 'migration', 'list', '--server', 'vm')).map((m: { Status: string }) => m.Status);
  assert.deepEqual(statuses, ['confirmed', 'reverted']);
});
