// The contract every hypervisor driver implements in full: the compute agent calls nothing else.
// Every method is idempotent and safe to call after a crash at any point of an earlier call
// (of this process or of a previous one); none leaves anything behind when it fails.

import type { GuestHardware } from './hardware.ts';

/** What a guest needs to run on this host; the agent derives it from the server's record. */
export interface GuestSpec {
  /** The server's uuid: names the guest's directory, process and everything else it owns. */
  uuid: string;
  /** Shown in `ps` and in logs only. */
  name: string;
  vcpus: number;
  memoryMiB: number;
  /** The root disk's virtual size; 0 keeps the image's own virtual size. */
  rootGiB: number;
  /** The image the root disk is a copy-on-write overlay of, as a local file, and its format; or,
   * for a host whose instance disks are on RBD, the image's protected snapshot there (raw), which
   * the disk is cloned from without a local copy. Absent when the guest boots from a volume. An
   * ISO is attached as a CD-ROM the guest boots from, and the root disk is blank, of rootGiB. */
  image?: { id: string; path?: string; rbd?: RbdSnapshot; format: 'qcow2' | 'raw' | 'iso' };
  /** The buses, NIC model and firmware the image's properties ask for; Nova's defaults when absent. */
  hardware?: GuestHardware;
  /** A rescue: the image the guest boots from instead, on a disk of its own made for the rescue,
   * with the root disk attached as the second disk (the rescue sees it as /dev/vdb). */
  rescue?: GuestSpec['image'];
  /** The volume the guest boots from: its root disk, opened where the volume is, never copied. */
  rootVolume?: GuestVolume;
  /** Data volumes attached to the guest, in the order they were attached. */
  volumes?: GuestVolume[];
  /** NICs in order: eth0 first. The network service has made each tap before spawn. */
  nics: GuestNic[];
  /** An ISO 9660 config drive (label config-2) to attach read-only, when the server asked for one. */
  configDrive?: string;
}

export interface GuestNic {
  mac: string;
  /** The tap device the network service made for this port. */
  tap: string;
  /** The network namespace that holds the tap, if not the host's own. */
  netns?: string;
  mtu?: number;
}

/** An image's snapshot in a Ceph pool (images/<id>@snap). */
export interface RbdSnapshot {
  pool: string;
  image: string;
  snapshot: string;
}

/** An RBD image as qemu's own rbd driver opens it: the monitors (host:port) and the cephx user
 * inline, the key handed to qemu as a secret object, never on its command line. */
export interface RbdConnection {
  driver: 'rbd';
  pool: string;
  image: string;
  monitors?: string[];
  user?: string;
  /** The cephx key, base64 as keyrings hold it. */
  key?: string;
  conf?: string;
}

/** A volume another host's volume service serves over NBD with TLS, opened with this host's
 * pre-shared key (GnuTLS's keys.psk in tls.dir, as tls.user). */
export interface NbdConnection {
  driver: 'nbd';
  host: string;
  port: number;
  export: string;
  tls: { dir: string; user: string };
}

/** How qemu opens a volume where its backend keeps it: a file on this host, an RBD image, or an
 * NBD export of another host. */
export type VolumeConnection = { driver: 'raw' | 'qcow2'; path: string } | RbdConnection | NbdConnection;

export interface GuestVolume {
  /** Names the volume's block node and device; its first 20 characters are the disk's serial,
   * as Nova sets it, so that the guest finds it as /dev/disk/by-id/virtio-<serial>. */
  volumeId: string;
  connection: VolumeConnection;
  readOnly?: boolean;
  /** A multiattach volume: other guests write it at the same time (qemu's share-rw, as Nova's
   * <shareable/>), which every guest that opens it must allow. */
  shareable?: boolean;
}

/** A guest that did not let a volume's device go in time: the device (and volume) stay attached. */
export class DetachTimeout extends Error {
  constructor(uuid: string, volumeId: string, timeoutMs: number) {
    super(`the guest ${uuid} did not release volume ${volumeId} within ${Math.round(timeoutMs / 1000)} s; it stays attached`);
    this.name = 'DetachTimeout';
  }
}

/** Nova's power states, as the API shows them (0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED). */
export type PowerState = 'nostate' | 'running' | 'paused' | 'shutdown' | 'crashed';

export interface GuestInfo {
  power: PowerState;
  /** The host process, while there is one. */
  pid?: number;
}

/** Where the destination of a live migration listens: qemu's migration stream on `port`, and the
 * guest's local root disk, as an NBD export named `root`, on `port + 1` (a cold migration's disk:
 * where the source serves it). `key`, the migration's pre-shared key (hex), authenticates and
 * encrypts all of it with TLS; it is never logged. */
export interface MigrationTarget {
  host: string;
  port: number;
  key: string;
}

/** What a running guest has used since its process started: counters, as the host keeps them. */
export interface GuestStats {
  /** CPU time of the guest's process, in ns. */
  cpuNs: number;
  /** Host memory the guest's process holds, in MiB. */
  residentMiB: number;
  /** Each disk, named as the guest sees it (vda, vdb…). */
  disks: { name: string; volumeId?: string; readBytes: number; writeBytes: number; readRequests: number; writeRequests: number }[];
  /** Each NIC's tap, as the host counts it: what the tap receives (rx) is what the guest sent. */
  nics: Record<string, { rxBytes: number; rxPackets: number; rxDrop: number; txBytes: number; txPackets: number; txDrop: number }>;
}

/** What a host offers guests, before allocation ratios. */
export interface HostResources {
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export interface VirtDriver {
  readonly name: string;

  /** The host's resources for guests, as the scheduler should count them. */
  resources(): Promise<HostResources>;

  /** Creates the guest's disks and starts it. A guest already running is left as it is. */
  spawn(spec: GuestSpec): Promise<void>;

  /** Stops the guest if it runs and removes everything it owns on the host. Unknown uuid: no-op.
   * keepShared: the guest lives on on another host (moved there), which opens the disks that are
   * not this host's own (an RBD root disk): those stay. */
  destroy(uuid: string, keepShared?: boolean): Promise<void>;

  /** Asks the guest to shut down, waits up to timeoutMs, then stops it hard. Keeps its disks. */
  powerOff(uuid: string, timeoutMs: number): Promise<void>;

  /** Starts a guest whose disks exist (after powerOff, or after the host restarted). A suspended
   * guest is restored instead, with the spec it was suspended with, and carries on where it was. */
  powerOn(spec: GuestSpec): Promise<void>;

  /** Saves the running (or paused) guest's memory and device state on the host and ends its
   * process, keeping its disks: info() says shutdown until powerOn restores it. A guest that does
   * not run: no-op. */
  suspend(uuid: string): Promise<void>;

  /** Soft: the guest is asked to restart (falls back to hard after timeoutMs). Hard: reset. A
   * guest that does not run is booted afresh with the spec it last had (a suspended one's saved
   * memory is dropped). */
  reboot(uuid: string, hard: boolean, timeoutMs: number): Promise<void>;

  /** Boots the guest, which is not running, from a new disk made from spec.rescue, its own root
   * disk as the second disk; restarts keep that layout. Already rescued and running: no-op. */
  rescue(spec: GuestSpec): Promise<void>;

  /** Stops the rescued guest hard, drops its rescue disk and starts it from its own disk. */
  unrescue(spec: GuestSpec): Promise<void>;

  /** Before a resize: keeps a copy of the stopped guest's root disk aside, then grows the disk to
   * rootGiB (never shrinks it). A copy already kept (a call repeated after a crash) is left as it is,
   * so that it stays the disk from before the resize. No root disk of its own: no-op. */
  resizeDisk(uuid: string, rootGiB: number): Promise<void>;

  /** Ends a resize of the stopped guest: a revert puts the kept copy back in place of the root
   * disk, a confirm drops it. No copy kept: no-op. */
  finishResize(uuid: string, revert: boolean): Promise<void>;

  /** The source of a cold migration: serves the stopped guest's root disk read-only, as the guest
   * sees it (overlay and image), over NBD at `at` (export `disk`), for the destination to copy,
   * until it has been read once or stopServingDisk. Served already: served afresh. */
  serveDisk(uuid: string, at: MigrationTarget): Promise<void>;

  /** Ends what serveDisk started; nothing served: no-op. destroy() ends it too. */
  stopServingDisk(uuid: string): Promise<void>;

  /** The destination of a cold migration: makes the guest's root disk a standalone copy of the
   * disk served at `from`; the guest is not started (spawn starts it on that disk). A guest that
   * has its root disk already keeps it. */
  fetchDisk(uuid: string, from: MigrationTarget): Promise<void>;

  /** The destination's first step of a live migration: the guest's disks made as spawn makes them
   * (a local root disk empty over its image, for the source to fill; disks both hosts open, such
   * as RBD or volumes, opened where they are), and a qemu of the spec's machine started paused,
   * waiting at `at` for the source. Already waiting: no-op. */
  prepareIncoming(spec: GuestSpec, at: MigrationTarget): Promise<void>;

  /** The source's step: copies the running (or paused) guest's local root disk, then its memory
   * and device state, to the destination prepared at `to`, and switches over: the guest runs
   * there once this returns, its qemu here left stopped for destroy(). On failure, or once
   * `signal` aborts it, the guest goes on here as it was, and the error says why. Already sent:
   * no-op. */
  migrateOut(uuid: string, to: MigrationTarget, signal?: AbortSignal): Promise<void>;

  /** The destination's last step, once the source has sent the guest: it runs (or stays paused,
   * as it was) here, and the disk export ends. Fails when the guest did not arrive. */
  finishIncoming(uuid: string): Promise<void>;

  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;

  /** Sends a running guest a non-maskable interrupt (Nova's trigger_crash_dump): a guest set up for
   * it writes a kernel crash dump; any Linux guest at least logs it. Not running: an error. */
  injectNmi(uuid: string): Promise<void>;

  /** The guest's state as the host sees it now; 'nostate' for a guest unknown on this host. */
  info(uuid: string): Promise<GuestInfo>;

  /** Every guest uuid this host holds anything of (running or not): the agent uses it to find
   * what a crash left behind. */
  list(): Promise<string[]>;

  /** The last `lines` lines of the guest's serial console (all of it when omitted), what it
   * printed on the hosts it came from first. */
  consoleLog(uuid: string, lines?: number): Promise<string>;

  /** Keeps what the guest printed before it came to this host (a move), for consoleLog to show
   * before what it prints here. */
  keepConsole(uuid: string, earlier: string): Promise<void>;

  /** The unix socket where the guest's screen (VNC) or first serial port answers while it runs,
   * for the console proxy; it serves one serial client at a time. */
  consoleSocket(uuid: string, kind: 'vnc' | 'serial'): string;

  /** Writes a standalone qcow2 of the guest's root disk (base and overlay flattened) to target.
   * A guest that boots from a volume has no such disk: its volume is snapshotted instead. */
  snapshot(uuid: string, target: string): Promise<void>;

  /** Hot-plugs a volume into a running guest: its block node, then a virtio-blk device. A guest
   * that is not running gets it at its next start (kept in its saved spec). Already attached: no-op. */
  attachVolume(uuid: string, volume: GuestVolume): Promise<void>;

  /** Asks a running guest to let the volume's device go and waits up to timeoutMs for it, then
   * closes the volume. A guest that keeps it: DetachTimeout, and the volume stays attached (a
   * later call waits again). Not attached, or the guest not running: only forgotten for next start. */
  detachVolume(uuid: string, volumeId: string, timeoutMs: number): Promise<void>;

  /** Grows an attached volume of a running guest to `bytes`, so that the guest sees the new size
   * (for a file, qemu grows the file itself). A guest that is not running: no-op. */
  extendVolume(uuid: string, volumeId: string, bytes: number): Promise<void>;

  /** The volumes the running guest has now: id → the size it sees, in bytes. Empty when it does
   * not run. */
  attachedVolumes(uuid: string): Promise<Map<string, number>>;

  /** Hot-plugs a NIC into a running guest on the tap the network service made for its port. A
   * guest that is not running gets it at its next start (kept in its saved spec). A NIC with that
   * MAC already plugged: no-op. */
  attachNic(uuid: string, nic: GuestNic): Promise<void>;

  /** Asks a running guest to let the NIC with that MAC go, waits up to timeoutMs for it, then
   * closes its tap; a guest that keeps it: an error, and the NIC stays. Not plugged, or the guest
   * not running: only forgotten for the next start. */
  detachNic(uuid: string, mac: string, timeoutMs: number): Promise<void>;

  /** The MACs of the NICs the running guest has now; empty when it does not run. */
  attachedNics(uuid: string): Promise<string[]>;

  /** The running guest's counters, for telemetry; undefined when it does not run. Only reads,
   * cheap enough to call for every guest every few seconds. */
  stats(uuid: string): Promise<GuestStats | undefined>;
}
