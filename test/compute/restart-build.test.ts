import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, spawnNubo, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { consoleUntil } from '../helpers/console.ts';

// kill -9 of Nubo while a server builds under QEMU, then a restart on the same data directory:
// the server converges to ACTIVE with exactly one guest, which reads its hostname from its config
// drive, as if nothing had happened. (The seed workflow's e2e covers the rest of a guest's life.)
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let cloud: SpawnedNubo;
let guestImage: string;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  guestImage = stdout.trim().split('\n').at(-1)!;
  cloud = await spawnNubo();
});
after(async () => {
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
});

const ok = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const guests = async (id: string) => {
  const { stdout } = await run('pgrep', ['-f', `qemu-system-x86_64.*${id}`]).catch(() => ({ stdout: '' }));
  return stdout.trim().split('\n').filter(Boolean);
};

test('a server whose build was cut by kill -9 of Nubo is ACTIVE with one guest after the restart', async () => {
  await ok('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  const server = await json('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--config-drive', 'true', 'vm-cut');
  assert.equal(server.status, 'BUILD');
  // Killed while the agent copies the image or starts qemu, whichever it is doing.
  await new Promise((r) => setTimeout(r, 150));
  const killed = cloud;
  await new Promise((r) => {
    killed.process.once('exit', r);
    killed.process.kill('SIGKILL');
  });

  cloud = await spawnNubo({ dataDir: killed.dataDir, port: Number(new URL(killed.url).port) });
  await eventually('ACTIVE after the restart', async () => (await json('server', 'show', 'vm-cut')).status === 'ACTIVE', 120_000);
  await consoleUntil(ok, 'vm-cut', /nubo-guest ready: hostname=vm-cut .*source=config-drive/, 120_000);
  assert.equal((await guests(server.id)).length, 1, 'exactly one qemu runs the guest');

  await ok('server', 'delete', '--wait', 'vm-cut');
  assert.deepEqual(await guests(server.id), []);
});
