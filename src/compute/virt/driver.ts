// The contract every hypervisor driver implements in full: the compute agent calls nothing else.
// Every method is idempotent and safe to call after a crash at any point of an earlier call
// (of this process or of a previous one); none leaves anything behind when it fails.

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
  /** The image the root disk is a copy-on-write overlay of, as a local file, and its format. */
  image: { id: string; path: string; format: 'qcow2' | 'raw' };
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

/** Nova's power states, as the API shows them (0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED). */
export type PowerState = 'nostate' | 'running' | 'paused' | 'shutdown' | 'crashed';

export interface GuestInfo {
  power: PowerState;
  /** The host process, while there is one. */
  pid?: number;
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

  /** Stops the guest if it runs and removes everything it owns on the host. Unknown uuid: no-op. */
  destroy(uuid: string): Promise<void>;

  /** Asks the guest to shut down, waits up to timeoutMs, then stops it hard. Keeps its disks. */
  powerOff(uuid: string, timeoutMs: number): Promise<void>;

  /** Starts a guest whose disks exist (after powerOff, or after the host restarted). */
  powerOn(spec: GuestSpec): Promise<void>;

  /** Soft: the guest is asked to restart (falls back to hard after timeoutMs). Hard: reset. */
  reboot(uuid: string, hard: boolean, timeoutMs: number): Promise<void>;

  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;

  /** The guest's state as the host sees it now; 'nostate' for a guest unknown on this host. */
  info(uuid: string): Promise<GuestInfo>;

  /** Every guest uuid this host holds anything of (running or not): the agent uses it to find
   * what a crash left behind. */
  list(): Promise<string[]>;

  /** The last `lines` lines of the guest's serial console (all of it when omitted). */
  consoleLog(uuid: string, lines?: number): Promise<string>;

  /** Writes a standalone qcow2 of the guest's root disk (base and overlay flattened) to target. */
  snapshot(uuid: string, target: string): Promise<void>;
}
