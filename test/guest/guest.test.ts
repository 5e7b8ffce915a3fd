import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The test guest image, built by scripts/guest/build.sh and booted by qemu: it must find its
// metadata on a config drive, take the SSH key, say it is ready and power off on the ACPI button.
// The guest has no NIC: nothing here sends a packet anywhere.

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'nubo-guest-test-'));
let qemu: ChildProcess | undefined;
let image = '';

after(() => {
  if (qemu && qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The promise's value, or 'timeout' after ms; the timer is cleared so it keeps no test alive. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Installs qemu-system-x86 when it is missing, as the README asks of the operator. */
async function ensureQemu(): Promise<void> {
  if (existsSync('/usr/bin/qemu-system-x86_64')) return;
  assert.equal(process.getuid?.(), 0, 'qemu-system-x86_64 is missing: apt-get install --no-install-recommends qemu-system-x86');
  await run('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'qemu-system-x86'], { maxBuffer: 64 << 20 });
}

/**
 * KVM only when it can run an ordinary guest. /dev/kvm alone is not enough: some sandboxes offer a
 * paravirtual KVM (kvm-pvm) without VT-x/AMD-V on which SeaBIOS stops with an emulation failure.
 */
function accel(): string {
  if (process.env.NUBO_QEMU_ACCEL) return process.env.NUBO_QEMU_ACCEL;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'kvm' : 'tcg';
}

/** Runs build.sh and returns the image path it prints last, with the seconds it took. */
async function build(): Promise<{ path: string; seconds: number }> {
  const t0 = performance.now();
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { maxBuffer: 64 << 20 });
  const path = stdout.trim().split('\n').pop() ?? '';
  return { path, seconds: (performance.now() - t0) / 1000 };
}

/** A minimal QMP client: one command at a time, events skipped. */
async function qmp(socket: string) {
  const conn = connect(socket);
  const lines: unknown[] = [];
  let wake = () => {};
  let buffered = '';
  conn.setEncoding('utf8');
  conn.on('data', (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) lines.push(JSON.parse(line));
    }
    wake();
  });
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const msg = lines.shift() as Record<string, unknown> | undefined;
      if (msg && !('event' in msg)) return msg;
      if (!msg) await new Promise<void>((r) => (wake = r));
    }
  };
  const greeting = await next();
  assert.ok('QMP' in greeting, JSON.stringify(greeting));
  return {
    async execute(command: string): Promise<unknown> {
      conn.write(JSON.stringify({ execute: command }) + '\n');
      const answer = await next();
      assert.ok('return' in answer, `${command}: ${JSON.stringify(answer)}`);
      return answer.return;
    },
    close: () => conn.destroy(),
  };
}

test('build.sh builds a qcow2 image, and a second run is served from its cache', { timeout: 20 * 60_000 }, async (t) => {
  await ensureQemu();
  const first = await build();
  image = first.path;
  assert.match(image, /\/nubo-guest\.qcow2$/);
  const info = JSON.parse((await run('qemu-img', ['info', '--output=json', image])).stdout);
  assert.equal(info.format, 'qcow2');
  const mtime = statSync(image).mtimeMs;
  const second = await build();
  assert.equal(second.path, image);
  assert.equal(statSync(image).mtimeMs, mtime, 'the cached image was rebuilt');
  t.diagnostic(`build ${first.seconds.toFixed(1)} s, cached ${second.seconds.toFixed(2)} s, image ${(statSync(image).size / 1048576).toFixed(1)} MiB`);
});

test('the image boots, reads a config drive, and powers off on system_powerdown', { timeout: 5 * 60_000 }, async (t) => {
  assert.ok(image, 'no image: the build test failed');

  // The config drive as Nova writes it: ISO 9660 labelled config-2, openstack/latest/meta_data.json.
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nubo-guest-test', '-f', join(dir, 'key')]);
  const publicKey = readFileSync(join(dir, 'key.pub'), 'utf8');
  const latest = join(dir, 'config/openstack/latest');
  mkdirSync(latest, { recursive: true });
  const meta = { uuid: randomUUID(), name: 'guest-test', hostname: 'guest-test', public_keys: { 'test-key': publicKey }, launch_index: 0 };
  writeFileSync(join(latest, 'meta_data.json'), JSON.stringify(meta));
  await run('genisoimage', ['-quiet', '-o', join(dir, 'cd.iso'), '-V', 'config-2', '-r', '-J', join(dir, 'config')]);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'qcow2', join(dir, 'disk.qcow2')]);

  const log = join(dir, 'serial.log');
  const socket = join(dir, 'qmp.sock');
  const how = accel();
  // Started with the modern syntax on purpose: qemu must not add a NIC, a VGA or a default CD-ROM.
  const t0 = performance.now();
  qemu = spawn(
    'qemu-system-x86_64',
    [
      ...['-accel', how, '-m', '256', '-display', 'none', '-nodefaults', '-nic', 'none'],
      ...['-serial', `file:${log}`, '-qmp', `unix:${socket},server=on,wait=off`],
      ...['-drive', `file=${join(dir, 'disk.qcow2')},if=virtio,format=qcow2`],
      ...['-drive', `file=${join(dir, 'cd.iso')},if=virtio,format=raw,readonly=on`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  qemu.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => qemu!.on('exit', (code) => resolve(code)));
  const serial = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');

  let ready: RegExpMatchArray | null = null;
  while (!ready && performance.now() - t0 < 120_000) {
    assert.equal(qemu.exitCode, null, `qemu exited early: ${stderr}\n${serial().slice(-2000)}`);
    await sleep(200);
    ready = serial().match(/^nubo-guest ready: hostname=(\S*) ip=(\S*) keys=(\d+) source=(\S*)\r?$/m);
  }
  const bootSeconds = (performance.now() - t0) / 1000;
  assert.ok(ready, `no ready line within 120 s (${how}):\n${stderr}\n${serial().slice(-3000)}`);
  const [, hostname, ip, keys, source] = ready;
  assert.deepEqual({ hostname, ip, keys, source }, { hostname: 'guest-test', ip: 'none', keys: '1', source: 'config-drive' });

  const monitor = await qmp(socket);
  await monitor.execute('qmp_capabilities');
  const t1 = performance.now();
  await monitor.execute('system_powerdown');
  const code = await within(exited, 30_000);
  const offSeconds = (performance.now() - t1) / 1000;
  monitor.close();
  assert.notEqual(code, 'timeout', `qemu still running 30 s after system_powerdown:\n${serial().slice(-2000)}`);
  assert.equal(code, 0, stderr);
  assert.match(serial(), /power button, powering off/);
  t.diagnostic(`${how}: ready ${bootSeconds.toFixed(1)} s after qemu started, off ${offSeconds.toFixed(2)} s after system_powerdown`);
});
