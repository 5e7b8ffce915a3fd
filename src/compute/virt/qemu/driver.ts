import { accessSync, constants, readFileSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';
import type { GuestInfo, GuestSpec, VirtDriver } from '../driver.ts';
import { qemuArgv, type GuestPaths } from './cmdline.ts';
import { qmp, queryStatus } from './qmp.ts';

export interface QemuOptions {
  /** One directory per guest (disk overlay, console, QMP socket, pidfile, spec), and _base/. */
  instancesDir: string;
  log: Logger;
  binary?: string;
}

/**
 * KVM when it can really run a guest: /dev/kvm usable and a CPU with hardware virtualisation (a
 * paravirtual /dev/kvm without vmx/svm cannot boot an ordinary guest). NUBO_QEMU_ACCEL overrides.
 */
export function pickAccel(): 'kvm' | 'tcg' {
  const forced = process.env.NUBO_QEMU_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return /\b(vmx|svm)\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'kvm' : 'tcg';
  } catch {
    return 'tcg';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createQemuDriver(opts: QemuOptions): VirtDriver {
  const { instancesDir, log } = opts;
  const accel = pickAccel();
  const dirOf = (uuid: string) => join(instancesDir, uuid);
  const pathsOf = (uuid: string): GuestPaths => ({
    disk: join(dirOf(uuid), 'disk'),
    console: join(dirOf(uuid), 'console.log'),
    qmp: join(dirOf(uuid), 'qmp.sock'),
    pidfile: join(dirOf(uuid), 'qemu.pid'),
  });
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );

  /** The pid of the guest's qemu, if it runs: the pidfile's, checked against /proc so that a
   * recycled pid is never taken for the guest. */
  async function pidOf(uuid: string): Promise<number | undefined> {
    const pid = Number((await readFile(pathsOf(uuid).pidfile, 'utf8').catch(() => '')).trim());
    if (!pid) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.includes(uuid) && cmdline.includes('qemu') ? pid : undefined;
  }

  async function waitGone(uuid: string, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (!(await pidOf(uuid))) return true;
      await sleep(100);
    }
    return !(await pidOf(uuid));
  }

  async function kill(uuid: string): Promise<void> {
    const pid = await pidOf(uuid);
    if (!pid) return;
    process.kill(pid, 'SIGKILL');
    if (!(await waitGone(uuid, 10_000))) throw new Error(`qemu ${pid} of guest ${uuid} did not die`);
  }

  /** The image as a base shared by its guests, kept here so that deleting the image later
   * breaks none of them; a hard link when the image is on this filesystem, else a copy. */
  async function ensureBase(spec: GuestSpec): Promise<string> {
    const base = join(instancesDir, '_base', spec.image.id);
    if (await exists(base)) return base;
    await mkdir(join(instancesDir, '_base'), { recursive: true });
    const tmp = `${base}.part-${process.pid}`;
    await rm(tmp, { force: true });
    await link(spec.image.path, tmp).catch(() => copyFile(spec.image.path, tmp));
    await rename(tmp, base);
    return base;
  }

  async function createDisk(spec: GuestSpec): Promise<void> {
    const { disk } = pathsOf(spec.uuid);
    if (await exists(disk)) return;
    const base = await ensureBase(spec);
    const info = JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', spec.image.format, base], { log })).stdout) as { 'virtual-size': number };
    const size = spec.rootGiB * 2 ** 30;
    const tmp = `${disk}.part`;
    // The overlay grows to the flavor's disk; never below the image, which qemu-img refuses.
    await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', spec.image.format, '-b', base, tmp, ...(size > info['virtual-size'] ? [String(size)] : [])], {
      log,
    });
    await rename(tmp, disk);
  }

  async function start(spec: GuestSpec): Promise<void> {
    if (await pidOf(spec.uuid)) return;
    const paths = pathsOf(spec.uuid);
    await rm(paths.qmp, { force: true });
    await run(qemuArgv(spec, paths, accel, opts.binary), { log, timeoutMs: 60_000 });
  }

  const specOf = async (uuid: string) => JSON.parse(await readFile(join(dirOf(uuid), 'guest.json'), 'utf8')) as GuestSpec;

  const driver: VirtDriver = {
    name: 'qemu',

    async spawn(spec) {
      if (await pidOf(spec.uuid)) return;
      await mkdir(dirOf(spec.uuid), { recursive: true });
      await writeFile(join(dirOf(spec.uuid), 'guest.json'), JSON.stringify(spec));
      await createDisk(spec);
      await start(spec);
    },

    async destroy(uuid) {
      await kill(uuid);
      await rm(dirOf(uuid), { recursive: true, force: true });
    },

    async powerOff(uuid, timeoutMs) {
      if (!(await pidOf(uuid))) return;
      await qmp(pathsOf(uuid).qmp, [{ execute: 'system_powerdown' }]).catch((err) => log.warn({ guest: uuid, err }, 'ACPI power-off not delivered'));
      if (await waitGone(uuid, timeoutMs)) return;
      log.warn({ guest: uuid, timeoutMs }, 'guest did not shut down in time; stopping it');
      await kill(uuid);
    },

    async powerOn(spec) {
      if (!(await exists(pathsOf(spec.uuid).disk))) return driver.spawn(spec);
      await writeFile(join(dirOf(spec.uuid), 'guest.json'), JSON.stringify(spec));
      await start(spec);
    },

    async reboot(uuid, hard, timeoutMs) {
      if (hard && (await pidOf(uuid))) {
        await qmp(pathsOf(uuid).qmp, [{ execute: 'system_reset' }, { execute: 'cont' }]);
        return;
      }
      // Soft: the guest shuts down cleanly (or is stopped after the timeout), then starts again.
      await driver.powerOff(uuid, timeoutMs);
      await start(await specOf(uuid));
    },

    async pause(uuid) {
      await qmp(pathsOf(uuid).qmp, [{ execute: 'stop' }]);
    },

    async unpause(uuid) {
      await qmp(pathsOf(uuid).qmp, [{ execute: 'cont' }]);
    },

    async info(uuid): Promise<GuestInfo> {
      const pid = await pidOf(uuid);
      if (!pid) return { power: (await exists(dirOf(uuid))) ? 'shutdown' : 'nostate' };
      const status = await queryStatus(pathsOf(uuid).qmp).catch(() => 'running');
      const power = status === 'paused' ? 'paused' : status === 'shutdown' ? 'shutdown' : status === 'guest-panicked' ? 'crashed' : 'running';
      return { power, pid };
    },

    async list() {
      const entries = await readdir(instancesDir).catch(() => []);
      return entries.filter((e) => UUID.test(e));
    },

    async consoleLog(uuid, lines) {
      const text = await readFile(pathsOf(uuid).console, 'utf8').catch(() => '');
      if (lines === undefined) return text;
      return text
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    },

    async snapshot(uuid, target) {
      const { disk, qmp: socket } = pathsOf(uuid);
      // A running guest is paused for the copy: stopping the VM flushes its disk to the file,
      // so the copy is consistent; -U reads past qemu's lock on the image.
      const running = (await pidOf(uuid)) && (await queryStatus(socket)) === 'running';
      if (running) await qmp(socket, [{ execute: 'stop' }]);
      try {
        await run(['qemu-img', 'convert', '-U', '-O', 'qcow2', disk, `${target}.part`], { log, timeoutMs: 600_000 });
      } finally {
        if (running) await qmp(socket, [{ execute: 'cont' }]);
      }
      await rename(`${target}.part`, target);
    },
  };
  return driver;
}
