import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnNubo, tempDir, type SpawnedNubo, cliAs } from '../helpers/cloud.ts';

// A real guest under QEMU, driven by the real openstack CLI: the test guest image is uploaded,
// booted with a config drive, reaches its ready line having read its hostname and key from
// Nubo, is stopped, started, snapshotted and deleted, and nothing of it stays on the host.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let nubo: SpawnedNubo;
let work: string;
let guestImage: string;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  guestImage = stdout.trim().split('\n').at(-1)!;
  nubo = await spawnNubo();
  work = tempDir('nubo-qemu-');
});
after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (nubo) await run('pkill', ['-9', '-f', nubo.dataDir]).catch(() => undefined);
  await nubo?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

const qemuOf = async (id: string) => {
  const { stdout } = await run('pgrep', ['-f', `qemu-system-x86_64.*${id}`]).catch(() => ({ stdout: '' }));
  return stdout.trim();
};

async function consoleUntil(name: string, pattern: RegExp, timeoutMs = 180_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let log = '';
  while (Date.now() < end) {
    log = await ok('console', 'log', 'show', name);
    if (pattern.test(log)) return log;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.fail(`console of ${name} never matched ${pattern}:\n${log}`);
}

test('server create --wait boots the guest image; stop, start, console log, image create, delete', async () => {
  await ok('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  const pem = join(work, 'mykey.pem');
  writeFileSync(pem, await ok('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  const publicKey = await ok('keypair', 'show', '--public-key', 'mykey');

  const server = await json(
    'server',
    'create',
    '--flavor',
    'm1.nano',
    '--image',
    'nubo-guest',
    '--key-name',
    'mykey',
    '--config-drive',
    'true',
    '--wait',
    'vm-demo',
  );
  assert.equal(server.status, 'ACTIVE');
  const id = server.id as string;
  assert.ok(await qemuOf(id), 'a qemu process runs the guest');

  const ready = await consoleUntil('vm-demo', /nubo-guest ready: .*/);
  assert.match(ready, /nubo-guest ready: hostname=vm-demo .*keys=1 source=config-drive/);
  assert.ok(publicKey.startsWith('ssh-rsa '));

  const list = await json('server', 'list');
  assert.deepEqual(
    list.map((s: any) => [s.Name, s.Status]),
    [['vm-demo', 'ACTIVE']],
  );

  await ok('server', 'stop', 'vm-demo');
  await until(async () => (await json('server', 'show', 'vm-demo')).status === 'SHUTOFF');
  assert.equal(await qemuOf(id), '', 'the qemu process is gone once stopped');
  assert.equal((await json('server', 'show', 'vm-demo'))['OS-EXT-STS:power_state'], 4);

  await ok('server', 'start', 'vm-demo');
  await until(async () => (await json('server', 'show', 'vm-demo')).status === 'ACTIVE');
  assert.ok(await qemuOf(id));

  const snap = await json('server', 'image', 'create', '--name', 'vm-demo-snap', '--wait', 'vm-demo');
  const image = await json('image', 'show', snap.id);
  assert.equal(image.status, 'active');
  assert.equal(image.disk_format, 'qcow2');
  assert.equal(image.properties.instance_uuid, id);
  const snapFile = join(work, 'snap.qcow2');
  await ok('image', 'save', '--file', snapFile, 'vm-demo-snap');
  const info = JSON.parse((await run('qemu-img', ['info', '--output=json', snapFile])).stdout);
  assert.equal(info.format, 'qcow2');
  assert.equal(info['backing-filename'], undefined, 'a snapshot stands alone');

  await ok('server', 'delete', '--wait', 'vm-demo');
  assert.deepEqual(await json('server', 'list'), []);
  assert.equal(await qemuOf(id), '', 'no qemu left');
  const instances = join(nubo.dataDir, 'compute', 'instances');
  assert.deepEqual(existsSync(instances) ? readdirSync(instances).filter((d) => d !== '_base') : [], [], 'no instance directory left');
});

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.fail('condition not met in time');
}
