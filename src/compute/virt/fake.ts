import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DetachTimeout, type GuestInfo, type GuestSpec, type MigrationTarget, type VirtDriver } from './driver.ts';

/** A guest as the fake host holds it. */
export interface FakeGuest {
  spec: GuestSpec;
  power: GuestInfo['power'];
  /** Stands for the qemu process: set while the guest runs or is paused, new at every start. */
  pid?: number;
  /** The root disk's virtual size in bytes. */
  diskBytes: number;
  console: string[];
  /** The volumes plugged into the running guest: id → the size it sees, in bytes. */
  volumes: Map<string, number>;
  /** Stands for a guest that never lets a volume go: every detach times out. */
  keepsVolumes?: boolean;
  /** Its memory saved on the host: the next powerOn resumes it, without a boot. */
  suspended?: boolean;
  /** The root disk's size kept aside by a resize, until it is confirmed or reverted. */
  keptDiskBytes?: number;
  /** Waiting for a live migration (paused, with a process): where its source writes what it sends. */
  incoming?: string;
  /** Where its disk is served for a cold migration's destination. */
  served?: string;
}

/** What a fake host hands another at that address in a move (a disk's size, a guest's run
 * state): a file of the machine's temporary directory, fake hosts being processes of one machine. */
const handedAt = (at: MigrationTarget) => join(tmpdir(), 'nubo-fake-disks', `${at.host}_${at.port}`);
const hand = async (at: MigrationTarget, what: unknown) => {
  mkdirSync(dirname(handedAt(at)), { recursive: true, mode: 0o700 });
  await writeFile(handedAt(at), JSON.stringify(what), { mode: 0o600 });
};

/** What a fake host hands over with a move so that the other end can tell the migration's key,
 * as a TLS handshake would: a digest of it, never the key. */
const keyHash = (at: MigrationTarget) => createHash('sha256').update(at.key).digest('hex');

/** The size a fake guest sees for a volume it is given: a file's size, else 1 GiB. */
async function volumeBytes(v: NonNullable<GuestSpec['volumes']>[number]): Promise<number> {
  if (v.connection.driver === 'rbd' || v.connection.driver === 'nbd') return 2 ** 30;
  return (await stat(v.connection.path).catch(() => ({ size: 2 ** 30 }))).size;
}

let lastPid = 1_000_000;

/**
 * Guests in memory, with the semantics of the qemu driver and none of its cost: for scale tests
 * and API tests that do not need a running guest. `host` is the host's state: a second driver
 * given the same map is a driver restarted on the same host, which finds the guests again; so is
 * one given the same stateFile (loadFakeHost), which survives the process.
 */
export function createFakeDriver(host = new Map<string, FakeGuest>(), stateFile?: string): VirtDriver {
  const held = (g: FakeGuest | undefined): g is FakeGuest => g !== undefined;
  /** Console lines kept for guests that have not arrived yet. */
  const arriving = new Map<string, string[]>();
  const hasProcess = (g: FakeGuest) => g.power === 'running' || g.power === 'paused';
  const say = (g: FakeGuest, line: string) => g.console.push(`[fake] ${g.spec.name}: ${line}`);
  // A start opens the volumes of the spec, as qemu's command line does.
  const boot = async (g: FakeGuest, line = 'booted') => {
    g.power = 'running';
    g.pid = ++lastPid;
    g.volumes = new Map();
    for (const v of g.spec.volumes ?? []) g.volumes.set(v.volumeId, await volumeBytes(v));
    say(g, line);
  };
  const halt = (g: FakeGuest) => {
    g.power = 'shutdown';
    g.pid = undefined;
    g.volumes = new Map();
  };
  const running = (uuid: string) => {
    const g = host.get(uuid);
    if (!held(g) || !hasProcess(g)) throw new Error(`guest ${uuid} is not running`);
    return g;
  };

  const driver: VirtDriver = {
    name: 'fake',
    // A large imaginary host, so that scale tests are bounded by Nubo, not by this machine.
    async resources() {
      return { vcpus: 10_000, memoryMiB: 10_000_000, diskGiB: 1_000_000 };
    },

    async spawn(spec) {
      const had = host.get(spec.uuid);
      if (held(had) && hasProcess(had)) return;
      // The disk is made from the image once, as the qemu driver's overlay is; the image must be there.
      const g: FakeGuest = had ?? { spec, power: 'shutdown', diskBytes: await diskBytes(spec), console: arriving.get(spec.uuid) ?? [], volumes: new Map() };
      arriving.delete(spec.uuid);
      g.spec = spec;
      host.set(spec.uuid, g);
      await boot(g);
    },

    async destroy(uuid) {
      await driver.stopServingDisk(uuid);
      const incoming = host.get(uuid)?.incoming;
      if (incoming) await rm(`${incoming}.key`, { force: true });
      host.delete(uuid);
    },

    async powerOff(uuid) {
      const g = host.get(uuid);
      if (!held(g) || !hasProcess(g)) return;
      halt(g);
      say(g, 'powered off');
    },

    async powerOn(spec) {
      const g = host.get(spec.uuid);
      if (!held(g)) return driver.spawn(spec);
      if (hasProcess(g)) return;
      // A suspended guest comes back as it was saved, with the spec it had.
      if (g.suspended) {
        g.suspended = false;
        return boot(g, 'resumed');
      }
      g.spec = spec;
      await boot(g);
    },

    async rescue(spec) {
      const g = host.get(spec.uuid);
      if (!held(g)) throw new Error(`guest ${spec.uuid} is not on this host`);
      if (g.spec.rescue && hasProcess(g)) return;
      g.spec = spec;
      await boot(g);
    },

    async unrescue(spec) {
      const g = host.get(spec.uuid);
      if (!held(g)) throw new Error(`guest ${spec.uuid} is not on this host`);
      if (hasProcess(g)) say(g, 'powered off');
      g.spec = { ...spec, rescue: undefined };
      await boot(g);
    },

    async suspend(uuid) {
      const g = host.get(uuid);
      if (!held(g) || !hasProcess(g)) return;
      halt(g);
      g.suspended = true;
      say(g, 'suspended');
    },

    async reboot(uuid, hard) {
      const g = host.get(uuid);
      if (!held(g)) throw new Error(`guest ${uuid} is not on this host`);
      if (hard && hasProcess(g)) {
        g.power = 'running';
        say(g, 'reset');
        say(g, 'booted');
        return;
      }
      // Soft, as the qemu driver does it: shut down, then a new process.
      if (hasProcess(g)) say(g, 'powered off');
      g.suspended = false;
      await boot(g);
    },

    async resizeDisk(uuid, rootGiB) {
      const g = host.get(uuid);
      if (!held(g) || !g.spec.image) return;
      if (hasProcess(g)) throw new Error(`guest ${uuid} is running: it is shut down before its disk is resized`);
      g.keptDiskBytes ??= g.diskBytes;
      g.diskBytes = Math.max(g.diskBytes, rootGiB * 2 ** 30);
    },

    async finishResize(uuid, revert) {
      const g = host.get(uuid);
      if (!held(g) || g.keptDiskBytes === undefined) return;
      if (revert) g.diskBytes = g.keptDiskBytes;
      g.keptDiskBytes = undefined;
    },

    async serveDisk(uuid, at) {
      const g = host.get(uuid);
      if (!held(g) || g.spec.rootVolume) throw new Error(`guest ${uuid} has no disk on this host`);
      if (hasProcess(g)) throw new Error(`guest ${uuid} is running: it is shut down before its disk is served`);
      await hand(at, { diskBytes: g.diskBytes, key: keyHash(at) });
      g.served = handedAt(at);
    },

    async stopServingDisk(uuid) {
      const g = host.get(uuid);
      if (!held(g) || !g.served) return;
      await rm(g.served, { force: true });
      g.served = undefined;
    },

    async fetchDisk(uuid, from) {
      if (host.has(uuid)) return;
      const text = await readFile(handedAt(from), 'utf8').catch(() => undefined);
      if (text === undefined) throw new Error(`no disk is served at ${from.host}:${from.port}`);
      const { diskBytes, key } = JSON.parse(text) as { diskBytes: number; key: string };
      if (key !== keyHash(from)) throw new Error(`the TLS handshake with ${from.host}:${from.port} failed: another key`);
      const spec: GuestSpec = { uuid, name: uuid, vcpus: 0, memoryMiB: 0, rootGiB: 0, nics: [] };
      host.set(uuid, { spec, power: 'shutdown', diskBytes, console: [], volumes: new Map() });
    },

    // A fake source sends its guest's run state.
    async prepareIncoming(spec, at) {
      if (host.get(spec.uuid)?.incoming) return;
      mkdirSync(dirname(handedAt(at)), { recursive: true, mode: 0o700 });
      await writeFile(`${handedAt(at)}.key`, keyHash(at), { mode: 0o600 });
      host.set(spec.uuid, { spec, power: 'paused', pid: ++lastPid, incoming: handedAt(at), diskBytes: await diskBytes(spec), console: [], volumes: new Map() });
    },

    async migrateOut(uuid, to, signal) {
      const g = host.get(uuid);
      // Stopped: already sent (only a running or paused guest is live-migrated).
      if (held(g) && !hasProcess(g)) return;
      if (signal?.aborted) throw new Error('live migration cancelled');
      const listening = await readFile(`${handedAt(to)}.key`, 'utf8').catch(() => undefined);
      if (listening !== undefined && listening !== keyHash(to)) throw new Error(`the TLS handshake with ${to.host}:${to.port} failed: another key`);
      const { power } = running(uuid);
      await hand(to, { power });
      halt(g!);
      say(g!, 'sent to another host');
    },

    async finishIncoming(uuid) {
      const g = host.get(uuid);
      if (!held(g) || !hasProcess(g)) throw new Error(`guest ${uuid} has not arrived`);
      if (!g.incoming) return;
      const sent = await readFile(g.incoming, 'utf8').catch(() => undefined);
      if (sent === undefined) throw new Error(`guest ${uuid} has not arrived`);
      await rm(g.incoming, { force: true });
      await rm(`${g.incoming}.key`, { force: true });
      g.incoming = undefined;
      await boot(g, 'arrived from another host');
      // It goes on as it was: a paused guest stays paused.
      g.power = (JSON.parse(sent) as { power: GuestInfo['power'] }).power;
    },

    async pause(uuid) {
      running(uuid).power = 'paused';
    },

    async unpause(uuid) {
      running(uuid).power = 'running';
    },

    async injectNmi(uuid) {
      // What a Linux guest's kernel prints for an NMI it was not set up to dump on.
      running(uuid).console.push('Uhhuh. NMI received for unknown reason 30 on CPU 0.');
    },

    async info(uuid) {
      const g = host.get(uuid);
      if (!held(g)) return { power: 'nostate' };
      return g.pid === undefined ? { power: g.power } : { power: g.power, pid: g.pid };
    },

    async list() {
      return [...host.keys()];
    },

    async stats(uuid) {
      // A fake guest does no work: its counters stay at zero, its memory is all it was given.
      const g = host.get(uuid);
      if (!held(g) || !hasProcess(g)) return undefined;
      const io = { readBytes: 0, writeBytes: 0, readRequests: 0, writeRequests: 0 };
      const disks = [{ name: 'vda', ...io }, ...[...g.volumes.keys()].map((_, i) => ({ name: `vd${String.fromCharCode(98 + i)}`, ...io }))];
      const nics = Object.fromEntries(g.spec.nics.map((n) => [n.tap, { rxBytes: 0, rxPackets: 0, rxDrop: 0, txBytes: 0, txPackets: 0, txDrop: 0 }]));
      return { cpuNs: 0, residentMiB: g.spec.memoryMiB, disks, nics };
    },

    // A guest not here yet (a volume-backed one arriving) gets it at its spawn.
    async keepConsole(uuid, earlier) {
      const lines = earlier.split('\n').filter(Boolean);
      const g = host.get(uuid);
      if (held(g)) g.console = [...lines, ...g.console];
      else arriving.set(uuid, lines);
    },

    async consoleLog(uuid, lines) {
      const all = host.get(uuid)?.console ?? [];
      if (lines !== undefined && lines <= 0) return '';
      const shown = lines === undefined ? all : all.slice(-lines);
      return shown.map((l) => `${l}\n`).join('');
    },

    // No process, so nothing listens there unless a test stands a console up in its place.
    consoleSocket(uuid, kind) {
      return join(tmpdir(), 'nubo-fake-consoles', `${uuid}-${kind}.sock`);
    },

    async snapshot(uuid, target) {
      const g = host.get(uuid);
      if (!held(g) || g.spec.rootVolume) throw new Error(`guest ${uuid} has no disk on this host`);
      await writeFile(`${target}.part`, emptyQcow2(g.diskBytes), { mode: 0o600 });
      await rename(`${target}.part`, target);
    },

    async attachVolume(uuid, volume) {
      const g = host.get(uuid);
      if (!held(g)) return;
      if (hasProcess(g) && !g.volumes.has(volume.volumeId)) g.volumes.set(volume.volumeId, await volumeBytes(volume));
      const volumes = g.spec.volumes ?? [];
      if (!volumes.some((v) => v.volumeId === volume.volumeId)) g.spec = { ...g.spec, volumes: [...volumes, volume] };
    },

    async detachVolume(uuid, volumeId, timeoutMs) {
      const g = host.get(uuid);
      if (!held(g)) return;
      if (hasProcess(g) && g.volumes.has(volumeId)) {
        if (g.keepsVolumes) throw new DetachTimeout(uuid, volumeId, timeoutMs);
        g.volumes.delete(volumeId);
      }
      g.spec = { ...g.spec, volumes: (g.spec.volumes ?? []).filter((v) => v.volumeId !== volumeId) };
    },

    async extendVolume(uuid, volumeId, bytes) {
      const g = host.get(uuid);
      if (held(g) && hasProcess(g) && g.volumes.has(volumeId)) g.volumes.set(volumeId, bytes);
    },

    async attachedVolumes(uuid) {
      const g = host.get(uuid);
      return new Map(held(g) && hasProcess(g) ? g.volumes : []);
    },

    // A running fake guest has the NICs of its spec: plugging one changes both at once.
    async attachNic(uuid, nic) {
      const g = host.get(uuid);
      if (held(g) && !g.spec.nics.some((n) => n.mac === nic.mac)) g.spec = { ...g.spec, nics: [...g.spec.nics, nic] };
    },

    async detachNic(uuid, mac) {
      const g = host.get(uuid);
      if (held(g)) g.spec = { ...g.spec, nics: g.spec.nics.filter((n) => n.mac !== mac) };
    },

    async attachedNics(uuid) {
      const g = host.get(uuid);
      return held(g) && hasProcess(g) ? g.spec.nics.map((n) => n.mac) : [];
    },
  };
  return stateFile ? persisted(driver, host, stateFile) : driver;
}

/** The calls that change nothing, which need no write. */
const READ_ONLY = new Set(['resources', 'info', 'list', 'stats', 'consoleLog', 'consoleSocket', 'attachedVolumes', 'attachedNics']);

/** What a fake guest keeps in its host's state file: its volumes' map as pairs. */
type SavedGuest = Omit<FakeGuest, 'volumes'> & { volumes: [string, number][] };

/**
 * The driver with its host's guests kept in stateFile, written after every call: a driver opened
 * again on that file (an agent restarted, even after a kill) finds the guests its host had, as the
 * qemu driver finds its guests' directories.
 */
function persisted(driver: VirtDriver, host: Map<string, FakeGuest>, stateFile: string): VirtDriver {
  const save = () => {
    const guests: [string, SavedGuest][] = [...host].map(([id, g]) => [id, { ...g, volumes: [...g.volumes] }]);
    mkdirSync(dirname(stateFile), { recursive: true, mode: 0o700 });
    writeFileSync(`${stateFile}.part`, JSON.stringify(guests), { mode: 0o600 });
    renameSync(`${stateFile}.part`, stateFile);
  };
  const wrapped = { ...driver } as Record<string, unknown>;
  for (const [name, method] of Object.entries(driver)) {
    if (typeof method !== 'function' || READ_ONLY.has(name)) continue;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        save();
      }
    };
  }
  return wrapped as unknown as VirtDriver;
}

/** The guests a fake host kept in its state file; none when there is none. */
export function loadFakeHost(stateFile: string): Map<string, FakeGuest> {
  if (!existsSync(stateFile)) return new Map();
  const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as [string, SavedGuest][];
  for (const [, g] of saved) lastPid = Math.max(lastPid, g.pid ?? 0);
  return new Map(saved.map(([id, g]) => [id, { ...g, volumes: new Map(g.volumes) }]));
}

/** The root disk's size: the flavor's, or else the image file's (in whole sectors). */
async function diskBytes(spec: GuestSpec): Promise<number> {
  // A guest booted from a volume has no disk of its own.
  if (!spec.image) return 0;
  // An image cloned in RBD has no file here: its disk is the flavor's size.
  if (!spec.image.path) return spec.rootGiB * 2 ** 30;
  const { size } = await stat(spec.image.path);
  return spec.rootGiB ? spec.rootGiB * 2 ** 30 : Math.ceil(size / 512) * 512;
}

/**
 * A valid, empty, standalone qcow2 (version 2) of `size` bytes, as qemu-img would make it: the
 * header, a refcount table, one refcount block and the L1 table, a 64 KiB cluster each.
 */
function emptyQcow2(size: number): Buffer {
  const cluster = 1 << 16;
  const f = Buffer.alloc(4 * cluster);
  f.write('QFI\xfb', 0, 'latin1');
  f.writeUInt32BE(2, 4); // version
  f.writeUInt32BE(16, 20); // cluster bits
  f.writeBigUInt64BE(BigInt(size), 24);
  // An L2 table of 8-byte entries maps cluster/8 clusters; the L1 table has one entry per L2 table.
  f.writeUInt32BE(Math.ceil(size / (cluster * (cluster / 8))), 36);
  f.writeBigUInt64BE(BigInt(3 * cluster), 40); // L1 table
  f.writeBigUInt64BE(BigInt(cluster), 48); // refcount table
  f.writeUInt32BE(1, 56); // refcount table clusters
  f.writeBigUInt64BE(BigInt(2 * cluster), cluster); // refcount table → its one block
  for (let i = 0; i < 4; i++) f.writeUInt16BE(1, 2 * cluster + 2 * i); // the four clusters, each used once
  return f;
}
