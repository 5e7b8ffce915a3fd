import type { Logger } from '../../../lib/log.ts';
import type { Shell } from './host.ts';
import type { MetadataEndpoint } from './metadata.ts';

export interface LinuxDataplaneOptions {
  /** A named network namespace standing for the host: bridges, taps, veth ends and the firewall
   * live there. Undefined: the machine's own namespace (production). Tests always give one. */
  hostNetns?: string;
  /** Starts the name of every namespace, iptables chain and nftables table this cloud makes, and
   * marks its devices' aliases, so that two clouds on one machine never touch each other's. */
  prefix: string;
  /** Where dnsmasq's hosts/opts files, pid files and leases go, and what each network rides on.
   * dnsmasq reads its files as `nobody`: every directory above must be searchable by others. */
  stateDir: string;
  /** Physical network name → the host bridge it is. A missing bridge is made, and given `address`
   * (with prefix) if set: the all-in-one's br-ex with 172.24.4.1/24, as DevStack does. */
  physicalNetworks: Record<string, { bridge: string; address?: string }>;
  /** The unix socket of the metadata service each network's metadata endpoint forwards to. */
  metadataSocket: string;
  log: Logger;
}

/** What every part of the driver works with. */
export interface Context extends LinuxDataplaneOptions {
  sh: Shell;
  /** The metadata endpoints this process serves, by network. */
  metadataEndpoints: Map<string, MetadataEndpoint>;
}
