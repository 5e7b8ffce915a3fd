import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, spawnNubo, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { consoleUntil } from '../helpers/console.ts';

// kill -9 of Nubo while a volume is being hot-plugged into a running guest, then a restart on the
// same data directory: the volume settles (in-use with the guest seeing the disk, or available
// with no attachment left), never stays attaching. The attach is held half-way by stopping the
// guest's qemu (SIGSTOP), so that its monitor does not answer until Nubo is gone.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let cloud: SpawnedNubo;
let qemuPid: string | undefined;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  cloud = await spawnNubo();
  await ok('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
});
after(async () => {
  if (qemuPid) await run('kill', ['-CONT', qemuPid]).catch(() => undefined);
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
});

const ok = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('kill -9 of Nubo during an attach: after the restart the volume is in-use and in the guest, or available with no attachment', async () => {
  const server = await json('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--config-drive', 'true', 'vm');
  await consoleUntil(ok, 'vm', /nubo-guest ready: /, 240_000);
  const vol = await json('volume', 'create', '--size', '1', 'vol');
  await eventually('the volume is available', async () => (await json('volume', 'show', 'vol')).status === 'available', 120_000);

  const { stdout } = await run('pgrep', ['-f', `qemu-system-x86_64.*${server.id}`]);
  qemuPid = stdout.trim().split('\n')[0]!;
  await run('kill', ['-STOP', qemuPid]);
  await ok('server', 'add', 'volume', 'vm', 'vol');
  assert.equal((await json('volume', 'show', 'vol')).status, 'attaching', 'the agent is held at the monitor');
  await new Promise((r) => setTimeout(r, 1000));
  const killed = cloud;
  await new Promise((r) => {
    killed.process.once('exit', r);
    killed.process.kill('SIGKILL');
  });
  await run('kill', ['-CONT', qemuPid]);
  qemuPid = undefined;

  cloud = await spawnNubo({ dataDir: killed.dataDir, port: Number(new URL(killed.url).port) });
  let shown: { status: string; attachments: { server_id: string; device: string }[] } = { status: '', attachments: [] };
  await eventually(
    'the volume settles',
    async () => !['attaching', 'reserved', 'detaching'].includes((shown = await json('volume', 'show', 'vol')).status),
    180_000,
  );
  if (shown.status === 'in-use') {
    assert.deepEqual(
      shown.attachments.map((a) => [a.server_id, a.device]),
      [[server.id, '/dev/vdb']],
    );
    await consoleUntil(ok, 'vm', /virtio_blk virtio\d+: \[vd[b-z]\] 2097152 512-byte logical blocks/, 60_000);
    assert.deepEqual(
      (await json('server', 'show', 'vm')).volumes_attached.map((v: { id: string }) => v.id),
      [vol.id],
    );
  } else {
    assert.equal(shown.status, 'available');
    assert.deepEqual(shown.attachments, []);
    assert.doesNotMatch(await ok('console', 'log', 'show', 'vm'), /\[vd[b-z]\] 2097152 512-byte/);
  }
  await ok('server', 'delete', '--wait', 'vm');
  assert.equal((await json('volume', 'show', 'vol')).status, 'available');
});
