import { HostCommandError, run, type RunResult } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';

// Every host command of the data plane goes through here: in the namespace that stands for the
// host, or in one of the cloud's own namespaces, and with a message naming the Debian package
// when a tool is missing.

/** The Debian package that brings each tool the data plane runs. */
const PACKAGES: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  dnsmasq: 'dnsmasq-base',
  nft: 'nftables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  'ip6tables-save': 'iptables',
  'ip6tables-restore': 'iptables',
  sysctl: 'procps',
  ipset: 'ipset',
  tc: 'iproute2',
};

export interface Cmd {
  input?: string;
  okCodes?: number[];
}

export interface Shell {
  /** In the namespace standing for the host (the root one in production). */
  host(argv: string[], opts?: Cmd): Promise<RunResult>;
  /** Inside one of the cloud's namespaces. */
  in(netns: string, argv: string[], opts?: Cmd): Promise<RunResult>;
  /** In the machine's own namespace, whatever stands for the host: `ip netns add/del/list` work on
   * the registry of names under /run/netns, which belongs to the machine, not to a namespace. */
  machine(argv: string[], opts?: Cmd): Promise<RunResult>;
  log: Logger;
}

export function createShell(hostNetns: string | undefined, log: Logger): Shell {
  const exec = async (netns: string | undefined, argv: string[], opts: Cmd = {}) => {
    // `ip` enters a namespace by itself: one process, where `ip netns exec` would start two and
    // remount /sys for the second.
    const own = netns !== undefined && argv[0] === 'ip';
    try {
      return await run(own ? ['ip', '-n', netns, ...argv.slice(1)] : argv, { ...opts, netns: own ? undefined : netns, log, timeoutMs: 30_000 });
    } catch (err) {
      // Without a namespace the spawn itself fails; inside one, `ip netns exec` says it could not exec.
      const missing =
        err instanceof HostCommandError && (err.code === null ? /not installed/.test(err.stderr) : /exec of "[^"]+" failed: No such file/.test(err.stderr));
      const pkg = PACKAGES[argv[0]!];
      if (missing && pkg) throw new Error(`${argv[0]} is not installed: the network data plane needs the Debian package ${pkg} (apt-get install ${pkg})`);
      throw err;
    }
  };
  return {
    host: (argv, opts) => exec(hostNetns, argv, opts),
    in: (netns, argv, opts) => exec(netns, argv, opts),
    machine: (argv, opts) => exec(undefined, argv, opts),
    log,
  };
}
