import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';
import type { GuestInfo, GuestSpec, PowerState, VirtDriver } from '../driver.ts';
import { guestSecrets, qemuArgv, type GuestPaths } from './cmdline.ts';
import { tailConsole } from './console.ts';
import { createDisks } from './disks.ts';
import { ensureNvram } from './firmware.ts';
import type { RbdDisks } from './rbd-disks.ts';
import { guestPid, killHard, waitGone } from './process.ts';
import { loadState, saveState } from './suspend.ts';
import { originalDiskArgs, rescueDiskOf } from './rescue.ts';
import { finishLocalResize, keepAndGrow } from './resize.ts';
import { volumeOps, type GuestAccess } from './hotplug.ts';
import { nicOps } from './nic-hotplug.ts';
import { statsOps } from './stats.ts';
import { finish as finishMigration, listen as listenForMigration, send as sendMigration } from './live-migration.ts';
import { fetchDisk, serveDisk, stopServing } from './disk-transfer.ts';
import { writeMigrationKey } from './migration-tls.ts';
import { cont, injectNmi, queryStatus, quit, stop, systemPowerdown, systemReset, withQmp } from './qmp.ts';

export interface QemuOptions {
  /** One directory per guest (disk overlay, console, QMP socket, pidfile, guest.json), and _base/. */
  instancesDir: string;
  log: Logger;
  qemuBinary?: string;
  /** Chosen by pickAccel() when omitted. */
  accel?: 'kvm' | 'tcg';
  /** Root disks as RBD clones instead of local overlays (computeImagesType rbd). */
  rbdDisks?: RbdDisks;
  /** The network namespace of the host's addresses, when not the process's own: a cold
   * migration's disk is served and fetched from there, as the guests' qemu runs there. */
  netns?: string;
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
/** How long a live migration may take, disk and memory, before it is given up. */
const MIGRATION_TIMEOUT_MS = 600_000;
/** The longest path a unix socket can have (sun_path, with its terminating NUL). */
const SOCKET_PATH_MAX = 107;

/** Nova's power state for qemu's run state. */
export function powerOf(status: string): PowerState {
  switch (status) {
    case 'running':
      return 'running';
    case 'shutdown':
      return 'shutdown';
    case 'guest-panicked':
    case 'internal-error':
      return 'crashed';
    default:
      // paused, suspended, io-error, debug…: the vCPUs are stopped.
      return 'paused';
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Guests as daemonized qemu processes, one directory each under instancesDir. Nothing is kept in
 * memory: every call reads the host afresh (pidfile checked against /proc, QMP), so a new driver
 * over the same directory adopts the guests a previous process started. Calls for one guest must
 * not overlap (the agent's queue never runs one server twice at once); calls for different
 * guests may.
 */
export function createQemuDriver(opts: QemuOptions): VirtDriver {
  const { instancesDir, log } = opts;
  const accel = opts.accel ?? pickAccel();
  const binary = opts.qemuBinary ?? 'qemu-system-x86_64';
  // The serial console's socket has the longest name of a guest's sockets.
  const longest = join(instancesDir, '00000000-0000-0000-0000-000000000000', 'serial.sock');
  if (Buffer.byteLength(longest) > SOCKET_PATH_MAX) {
    throw new Error(
      `the instances directory ${instancesDir} is too deep: its guests' sockets would pass the ${SOCKET_PATH_MAX}-byte limit of a unix socket path`,
    );
  }
  const disks = createDisks(instancesDir, log);
  const { rbdDisks } = opts;
  log.info({ accel, instancesDir }, 'qemu driver');

  const dirOf = (uuid: string) => {
    if (!UUID.test(uuid)) throw new Error(`not a guest uuid: ${JSON.stringify(uuid)}`);
    return join(instancesDir, uuid);
  };
  const pathsOf = (uuid: string): GuestPaths => ({
    disk: join(dirOf(uuid), 'disk'),
    console: join(dirOf(uuid), 'console.log'),
    qmp: join(dirOf(uuid), 'qmp.sock'),
    serial: join(dirOf(uuid), 'serial.sock'),
    vnc: join(dirOf(uuid), 'vnc.sock'),
    pidfile: join(dirOf(uuid), 'qemu.pid'),
    rbdDisk: rbdDisks?.connection(uuid),
    secrets: dirOf(uuid),
    nvram: join(dirOf(uuid), 'nvram.fd'),
  });
  const specFile = (uuid: string) => join(dirOf(uuid), 'guest.json');
  /** Whether the guest's root disk is a file of this host (not a volume, not in RBD). */
  const hasLocalDisk = (spec: GuestSpec) => spec.image !== undefined && !rbdDisks;
  /** What the guest printed on the hosts it came from. */
  const earlierConsole = (uuid: string) => join(dirOf(uuid), 'console.earlier.log');
  /** The qemu-nbd serving a cold migration's disk. */
  const nbdPidFile = (uuid: string) => join(dirOf(uuid), 'nbd.pid');
  /** Where the key of the guest's migration under way is, for qemu and its tools. */
  const migrationKeyDir = (uuid: string, key: string) => writeMigrationKey(join(dirOf(uuid), 'migration-tls'), key);
  /** A suspended guest's memory and device state. */
  const stateFile = (uuid: string) => join(dirOf(uuid), 'memory.state');
  const pidOf = (uuid: string) => guestPid(pathsOf(uuid).pidfile, uuid);

  /** Saves the spec the guest runs with, for a restart that has no spec at hand (soft reboot). */
  async function saveSpec(spec: GuestSpec): Promise<void> {
    const tmp = `${specFile(spec.uuid)}.part`;
    await writeFile(tmp, JSON.stringify(spec, null, 2), { mode: 0o600 });
    await rename(tmp, specFile(spec.uuid));
  }

  async function savedSpec(uuid: string): Promise<GuestSpec> {
    const text = await readFile(specFile(uuid), 'utf8').catch(() => undefined);
    if (text === undefined) throw new Error(`guest ${uuid} is not on this host`);
    return JSON.parse(text) as GuestSpec;
  }

  /** The image ids the guests on this host boot from; undefined when one cannot be told. */
  async function imagesInUse(): Promise<Set<string> | undefined> {
    const ids = new Set<string>();
    for (const uuid of await driver.list()) {
      const spec = await savedSpec(uuid).catch(() => undefined);
      if (spec) {
        if (spec.image) ids.add(spec.image.id);
        if (spec.rescue) ids.add(spec.rescue.id);
      } else if (await exists(pathsOf(uuid).disk)) return undefined;
    }
    return ids;
  }

  /** Starts qemu for the guest; `incoming`: waiting for a saved state to load instead of booting. */
  async function start(spec: GuestSpec, incoming = false): Promise<void> {
    const own = pathsOf(spec.uuid);
    const paths = spec.rescue ? { ...own, disk: rescueDiskOf(own.disk) } : own;
    // qemu writes a fresh one; a stale one must not be read meanwhile.
    await rm(paths.pidfile, { force: true });
    const t0 = performance.now();
    // qemu reads the cephx keys of RBD disks from files while it starts; they go right after.
    const secrets = guestSecrets(spec, paths);
    const keyFiles = [...secrets].map(([id, key]) => ({ file: join(paths.secrets!, id), key }));
    await ensureNvram(spec, paths.nvram!);
    try {
      for (const { file, key } of keyFiles) await writeFile(file, key, { mode: 0o600 });
      await run([...qemuArgv(spec, paths, accel, binary), ...(spec.rescue ? originalDiskArgs(own.disk) : []), ...(incoming ? ['-incoming', 'defer'] : [])], {
        log,
        timeoutMs: 60_000,
      });
    } finally {
      for (const { file } of keyFiles) await rm(file, { force: true });
    }
    log.info({ guest: spec.uuid, ms: Math.round(performance.now() - t0) }, 'qemu started');
  }

  /** Ends the guest's qemu: QMP quit lets it close its disks cleanly; SIGKILL if it does not go. */
  async function stopHard(uuid: string, pid: number): Promise<void> {
    await withQmp(pathsOf(uuid).qmp, quit, 2000).catch((err) => log.warn({ guest: uuid, err }, 'QMP quit failed; killing qemu'));
    if (await waitGone(pid, uuid, 3000)) return;
    killHard(pid);
    if (!(await waitGone(pid, uuid, 10_000))) throw new Error(`qemu ${pid} of guest ${uuid} did not die`);
  }

  const mustRun = async (uuid: string) => {
    if (!(await pidOf(uuid))) throw new Error(`guest ${uuid} is not running`);
  };

  /** An RBD root disk is snapshotted in Ceph with the guest paused for that instant only (the pause
   * flushes its writes), then copied from the snapshot while the guest runs on. */
  async function rbdSnapshot(uuid: string, target: string): Promise<void> {
    if (!(await rbdDisks!.exists(uuid))) throw new Error(`guest ${uuid} has no disk in Ceph (a guest booted from a volume has its volume snapshotted)`);
    const { qmp } = pathsOf(uuid);
    await rbdDisks!.snapshot(uuid, target, async (take) => {
      const paused =
        (await pidOf(uuid)) !== undefined &&
        (await withQmp(qmp, async (q) => {
          if ((await queryStatus(q)) !== 'running') return false;
          await stop(q);
          return true;
        }));
      try {
        await take();
      } finally {
        if (paused) await withQmp(qmp, cont).catch((err) => log.warn({ guest: uuid, err }, 'guest left paused after its snapshot'));
      }
    });
  }

  /** A suspended guest comes back with the spec it was saved with: qemu loads a state only into
   * the same machine. The state goes once the guest runs from it, so that a later start boots. */
  async function restore(uuid: string): Promise<void> {
    await start(await savedSpec(uuid), true);
    try {
      await loadState(pathsOf(uuid).qmp, stateFile(uuid));
    } catch (err) {
      const pid = await pidOf(uuid);
      if (pid) await stopHard(uuid, pid);
      throw err;
    }
    await rm(stateFile(uuid), { force: true });
    log.info({ guest: uuid }, 'guest resumed');
  }

  const guests: GuestAccess = {
    pidOf,
    qmpSocket: (uuid) => pathsOf(uuid).qmp,
    log,
    async updateSpec(uuid, change) {
      const spec = await savedSpec(uuid).catch(() => undefined);
      if (spec) await saveSpec(change(spec));
    },
  };

  const driver: VirtDriver = {
    name: 'qemu',
    ...volumeOps(guests),
    ...nicOps(guests),
    ...statsOps(guests, (uuid) => savedSpec(uuid).catch(() => undefined)),

    async resources() {
      await mkdir(instancesDir, { recursive: true, mode: 0o700 });
      const fs = await statfs(instancesDir);
      return { vcpus: cpus().length, memoryMiB: Math.floor(totalmem() / 2 ** 20), diskGiB: Math.floor((fs.blocks * fs.bsize) / 2 ** 30) };
    },

    async spawn(spec) {
      if (await pidOf(spec.uuid)) return;
      const dir = dirOf(spec.uuid);
      const fresh = !(await exists(dir));
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await saveSpec(spec);
        if (spec.image && rbdDisks) await rbdDisks.ensureDisk({ ...spec, image: spec.image });
        else if (spec.image) await disks.ensureDisk({ ...spec, image: spec.image }, pathsOf(spec.uuid).disk);
        await start(spec);
      } catch (err) {
        // A guest that did not exist before this call leaves nothing behind.
        if (fresh) await driver.destroy(spec.uuid).catch((e) => log.warn({ guest: spec.uuid, err: e }, 'cleanup after a failed spawn failed'));
        throw err;
      }
    },

    async destroy(uuid, keepShared = false) {
      const pid = await pidOf(uuid);
      if (pid) await stopHard(uuid, pid);
      await stopServing(nbdPidFile(uuid));
      // The clone goes before the directory: a crash between the two leaves a guest that list() still finds.
      if (!keepShared) await rbdDisks?.remove(uuid);
      await rm(dirOf(uuid), { recursive: true, force: true });
      await disks.prune(imagesInUse);
    },

    // A local root disk is made afresh, empty over its image: the source writes into it whatever
    // its own layer holds, so nothing left from an earlier attempt may stay. An RBD disk is the
    // source's own clone, opened where it is.
    async prepareIncoming(spec, at) {
      const { uuid } = spec;
      const localDisk = hasLocalDisk(spec);
      if (!(await pidOf(uuid))) {
        const dir = dirOf(uuid);
        try {
          await mkdir(dir, { recursive: true, mode: 0o700 });
          await saveSpec(spec);
          if (localDisk) {
            await rm(pathsOf(uuid).disk, { force: true });
            await disks.ensureDisk({ ...spec, image: spec.image! }, pathsOf(uuid).disk);
          }
          await start(spec, true);
        } catch (err) {
          await driver.destroy(uuid, true).catch((e) => log.warn({ guest: uuid, err: e }, 'cleanup after a failed prepare failed'));
          throw err;
        }
      }
      await listenForMigration(pathsOf(uuid).qmp, at, localDisk, await migrationKeyDir(uuid, at.key));
      log.info({ guest: uuid, host: at.host, port: at.port }, 'waiting for a live migration');
    },

    async migrateOut(uuid, to, signal) {
      await mustRun(uuid);
      const spec = await savedSpec(uuid);
      const t0 = performance.now();
      await sendMigration(pathsOf(uuid).qmp, to, hasLocalDisk(spec), await migrationKeyDir(uuid, to.key), MIGRATION_TIMEOUT_MS, signal);
      log.info({ guest: uuid, host: to.host, port: to.port, ms: Math.round(performance.now() - t0) }, 'guest live-migrated');
    },

    async finishIncoming(uuid) {
      await mustRun(uuid);
      await finishMigration(pathsOf(uuid).qmp);
    },

    async serveDisk(uuid, at) {
      if (rbdDisks) throw new Error(`guest ${uuid}: a disk in RBD is opened where it is, never served`);
      if (await pidOf(uuid)) throw new Error(`guest ${uuid} is running: it is shut down before its disk is served`);
      const { disk } = pathsOf(uuid);
      if (!(await exists(disk))) throw new Error(`guest ${uuid} has no disk on this host`);
      await serveDisk(disk, at, nbdPidFile(uuid), await migrationKeyDir(uuid, at.key), opts.netns, log);
    },

    stopServingDisk: (uuid) => stopServing(nbdPidFile(uuid)),

    async fetchDisk(uuid, from) {
      if (rbdDisks) throw new Error(`guest ${uuid}: a disk brought from another host cannot be put into RBD`);
      const { disk } = pathsOf(uuid);
      // A guest's directory is what list() finds: one made here for nothing must not stay.
      const made = !(await exists(dirOf(uuid)));
      await mkdir(dirOf(uuid), { recursive: true, mode: 0o700 });
      if (await exists(disk)) return;
      try {
        await fetchDisk(from, disk, await migrationKeyDir(uuid, from.key), opts.netns, log);
      } catch (err) {
        if (made) await rm(dirOf(uuid), { recursive: true, force: true });
        throw err;
      }
    },

    async powerOff(uuid, timeoutMs) {
      const pid = await pidOf(uuid);
      if (!pid) return;
      // A paused guest cannot see the power button: it is stopped hard at once.
      const pressed = await withQmp(pathsOf(uuid).qmp, async (q) => {
        if ((await queryStatus(q)) !== 'running') return false;
        await systemPowerdown(q);
        return true;
      }).catch((err) => {
        log.warn({ guest: uuid, err }, 'ACPI power button not pressed');
        return false;
      });
      if (pressed && (await waitGone(pid, uuid, timeoutMs))) return;
      log.info({ guest: uuid, timeoutMs, pressed }, 'guest did not shut down by itself; stopping it');
      await stopHard(uuid, pid);
    },

    async powerOn(spec) {
      if (await pidOf(spec.uuid)) return;
      if (await exists(stateFile(spec.uuid))) return restore(spec.uuid);
      // A guest whose disk is gone (never built, or the host lost it) is built afresh.
      const hasDisk = spec.rootVolume ? exists(specFile(spec.uuid)) : rbdDisks ? rbdDisks.exists(spec.uuid) : exists(pathsOf(spec.uuid).disk);
      if (!(await hasDisk)) return driver.spawn(spec);
      // The disk stays an overlay of the image it was made from, whichever the server names now
      // (an unshelved server's disk was made from its shelved image): that base must be kept.
      const made = (await savedSpec(spec.uuid).catch(() => undefined))?.image;
      const kept = made ? { ...spec, image: made } : spec;
      await saveSpec(kept);
      await start(kept);
    },

    async rescue(spec) {
      const { uuid } = spec;
      if (!spec.rescue?.path) throw new Error(`guest ${uuid}: a rescue needs the rescue image's file on this host`);
      if (rbdDisks || spec.rootVolume) throw new Error(`guest ${uuid}: only a guest with a local root disk can be rescued`);
      const saved = await savedSpec(uuid);
      if (await pidOf(uuid)) {
        if (saved.rescue) return;
        throw new Error(`guest ${uuid} is running: it is shut down before its rescue`);
      }
      const disk = rescueDiskOf(pathsOf(uuid).disk);
      await disks.ensureDisk({ ...spec, image: spec.rescue, rootGiB: 0 }, disk);
      // The root disk stays an overlay of the image it was made from.
      const kept = { ...spec, image: saved.image ?? spec.image };
      await saveSpec(kept);
      await start(kept);
    },

    async unrescue(spec) {
      const { uuid } = spec;
      const pid = await pidOf(uuid);
      if (pid) await stopHard(uuid, pid);
      await rm(rescueDiskOf(pathsOf(uuid).disk), { force: true });
      const made = (await savedSpec(uuid).catch(() => undefined))?.image;
      const kept = { ...spec, rescue: undefined, image: made ?? spec.image };
      await saveSpec(kept);
      await start(kept);
    },

    async suspend(uuid) {
      const pid = await pidOf(uuid);
      if (!pid) return;
      await saveState(pathsOf(uuid).qmp, stateFile(uuid));
      await stopHard(uuid, pid);
      log.info({ guest: uuid }, 'guest suspended');
    },

    // Hard: the machine is reset in place (and left running even if it was paused, as Nova's hard
    // reboot does). Soft: guest-agnostic, as Nova's libvirt driver does it: the power button, a
    // wait for the guest to power off (stopped hard after timeoutMs), then a fresh start from
    // guest.json. A guest that is not running is simply started.
    async reboot(uuid, hard, timeoutMs) {
      const pid = await pidOf(uuid);
      if (pid && hard) {
        await withQmp(pathsOf(uuid).qmp, async (q) => {
          await systemReset(q);
          await cont(q);
        });
        return;
      }
      const spec = await savedSpec(uuid);
      if (pid) await driver.powerOff(uuid, timeoutMs);
      // A fresh boot: the memory of a suspended guest is dropped.
      await rm(stateFile(uuid), { force: true });
      await start(spec);
    },

    async resizeDisk(uuid, rootGiB) {
      if (await pidOf(uuid)) throw new Error(`guest ${uuid} is running: it is shut down before its disk is resized`);
      if (rbdDisks) return rbdDisks.keepAndGrow(uuid, rootGiB * 2 ** 30);
      await keepAndGrow(pathsOf(uuid).disk, rootGiB * 2 ** 30, log);
    },

    async finishResize(uuid, revert) {
      if (revert && (await pidOf(uuid))) throw new Error(`guest ${uuid} is running: it is shut down before its disk is put back`);
      if (rbdDisks) return rbdDisks.finishResize(uuid, revert);
      await finishLocalResize(pathsOf(uuid).disk, revert);
    },

    async pause(uuid) {
      await mustRun(uuid);
      await withQmp(pathsOf(uuid).qmp, stop);
    },

    async unpause(uuid) {
      await mustRun(uuid);
      await withQmp(pathsOf(uuid).qmp, cont);
    },

    async injectNmi(uuid) {
      await mustRun(uuid);
      await withQmp(pathsOf(uuid).qmp, injectNmi);
    },

    async info(uuid): Promise<GuestInfo> {
      const pid = await pidOf(uuid);
      if (!pid) return { power: (await exists(dirOf(uuid))) ? 'shutdown' : 'nostate' };
      try {
        return { power: powerOf(await withQmp(pathsOf(uuid).qmp, queryStatus)), pid };
      } catch (err) {
        // qemu exited between the pid check and the question.
        if (!(await pidOf(uuid))) return { power: 'shutdown' };
        throw err;
      }
    },

    async list() {
      const entries = await readdir(instancesDir).catch(() => []);
      return entries.filter((e) => UUID.test(e));
    },

    consoleLog: (uuid, lines) => tailConsole([earlierConsole(uuid), pathsOf(uuid).console], lines),

    async keepConsole(uuid, earlier) {
      await mkdir(dirOf(uuid), { recursive: true, mode: 0o700 });
      await writeFile(earlierConsole(uuid), earlier, { mode: 0o600 });
    },
    consoleSocket: (uuid, kind) => pathsOf(uuid)[kind],

    // A running guest is paused for the copy and resumed after it: pausing flushes its disk to
    // the file, so the copy is consistent without the agent having to stop the guest first.
    async snapshot(uuid, target) {
      const { disk, qmp } = pathsOf(uuid);
      if (rbdDisks) return rbdSnapshot(uuid, target);
      if (!(await exists(disk))) throw new Error(`guest ${uuid} has no disk on this host (a guest booted from a volume has its volume snapshotted)`);
      const pid = await pidOf(uuid);
      const paused =
        pid !== undefined &&
        (await withQmp(qmp, async (q) => {
          if ((await queryStatus(q)) !== 'running') return false;
          await stop(q);
          return true;
        }));
      try {
        await disks.flatten(disk, target, pid !== undefined);
      } finally {
        if (paused) await withQmp(qmp, cont).catch((err) => log.warn({ guest: uuid, err }, 'guest left paused after its snapshot'));
      }
    },
  };
  return driver;
}
