// The contract between the network agent and a data plane. The agent computes, from the store, what
// each network, DHCP service, port, router and firewall must look like on this host, and calls
// these methods; a driver makes the host match. Every method is idempotent and safe to call after a
// crash at any point of an earlier call, of this process or of a previous one. Calls may overlap,
// except two of ensureNetwork and deleteNetwork, two of applyFirewall, two of ensurePorts and
// deletePorts, or two for one network's DHCP or one router.

import type { HostRoute, NetworkType } from '../tables.ts';

/** A layer-2 segment on this host. */
export interface NetworkSpec {
  id: string;
  type: NetworkType;
  /** For flat and vlan: the configured physical network the segment rides on. */
  physicalNetwork?: string;
  /** The VLAN id or VXLAN VNI. */
  segmentationId?: number;
  mtu: number;
  /** A vxlan network on a host of a multi-host cloud: its frames to other hosts travel in UDP
   * (4789) from this host's tunnel address. Absent on one host, where a plain bridge does. */
  tunnel?: VxlanTunnel;
}

/** Where a vxlan network's frames go, read from the store (no multicast, no learning). */
export interface VxlanTunnel {
  /** This host's tunnel address. */
  local: string;
  /** The tunnel addresses of the other hosts with ports on the network: broadcast, unknown
   * unicast and multicast frames are copied to each (the flood list). */
  remotes: string[];
  /** Each port on another host: its MAC, its IPv4 addresses, and its host's tunnel address. */
  ports: { mac: string; ips: string[]; remote: string }[];
}

export interface DhcpSubnet {
  id: string;
  /** Network address and prefix: 192.168.10.0/24. */
  cidr: string;
  gatewayIp?: string;
  dnsNameservers: string[];
  hostRoutes: HostRoute[];
}

/** One dnsmasq for a network, in a namespace of its own, on the network's DHCP port. */
export interface DhcpSpec {
  networkId: string;
  /** The DHCP port: its MAC and its addresses with prefix (192.168.10.2/24). */
  port: { id: string; mac: string; addresses: string[] };
  /** The subnets with enable_dhcp. */
  subnets: DhcpSubnet[];
  /** One static lease per port of the network that has an IP on those subnets, with the port's
   * extra DHCPv4 options (a dnsmasq option name or number, and its value). */
  hosts: { mac: string; ip: string; hostname: string; options?: { name: string; value: string }[] }[];
  mtu: number;
  /** Answer http://169.254.169.254 from the DHCP namespace (the route is pushed by option 121)
   * and forward each request to the metadata service with the network and the asker's IP. */
  metadata: boolean;
}

/** One security group rule with its remote resolved: remote_ip_prefix, or the addresses of the
 * ports in the remote group. Absent fields match anything. */
export interface FirewallRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** A protocol name (tcp, udp, icmp, icmpv6…) or number. */
  protocol?: string;
  /** For tcp/udp/sctp: the destination port range; for icmp: the type (min) and code (max). */
  portRangeMin?: number;
  portRangeMax?: number;
  /** Source prefixes for ingress, destination prefixes for egress. An empty list matches nothing. */
  remotes?: string[];
  /** When the remote is a security group: its id (remotes then holds its members' addresses). */
  remoteGroup?: string;
}

/** A QoS bandwidth limit: a rate in kbit/s and the burst allowed above it (0: the driver's default). */
export interface BandwidthLimit {
  maxKbps: number;
  maxBurstKbps: number;
}

/** A port wired on this host: a tap device (or, in tests, a veth end) on its network's bridge. */
export interface PortSpec {
  id: string;
  networkId: string;
  mac: string;
  /** The port's fixed IPs, without prefix. */
  ips: string[];
  adminUp: boolean;
  /** Absent when port security is off: no anti-spoofing and no filtering at all. */
  security?: {
    /** allowed_address_pairs: an IP or a CIDR, and the MAC it may use. */
    allowedPairs: { ip: string; mac: string }[];
    /** The union of the port's security groups' rules; anything else is dropped (stateful). */
    rules: FirewallRule[];
  };
  /** Bandwidth limits, as Neutron names the directions: egress is what the guest sends. */
  qos?: { egress?: BandwidthLimit; ingress?: BandwidthLimit };
}

/** A router: a namespace with a leg on each attached network, and NAT on its gateway leg. */
export interface RouterSpec {
  id: string;
  /** The legs on internal networks: addresses with prefix (192.168.10.1/24). */
  interfaces: { portId: string; networkId: string; mac: string; addresses: string[] }[];
  gateway?: {
    portId: string;
    networkId: string;
    mac: string;
    addresses: string[];
    /** The external subnets' gateways: the router's default route. */
    nextHops: string[];
    /** SNAT the internal subnets to the gateway address. */
    snat: boolean;
  };
  /** Extra routes (the router's `routes`). */
  routes: HostRoute[];
  /** 1:1 NAT on the gateway leg; the floating IP is answered (ARP) on the external network. */
  floatingIps: { floatingIp: string; fixedIp: string }[];
}

export interface DataplaneInventory {
  networks: string[];
  dhcp: string[];
  ports: string[];
  routers: string[];
}

export interface Dataplane {
  ensureNetwork(spec: NetworkSpec): Promise<void>;
  /** Removes the network's bridge (and segment devices). Its ports and DHCP are removed first. */
  deleteNetwork(id: string): Promise<void>;
  /** Returns once the network's DHCP server runs and answers with exactly the spec's hosts (it has
   * read them, not merely been told to). */
  ensureDhcp(spec: DhcpSpec): Promise<void>;
  deleteDhcp(networkId: string): Promise<void>;
  /** The static leases (MAC, IP) the network's running DHCP server answers now: none when it does
   * not run, or has not read its hosts since they last changed. */
  servedLeases(networkId: string): Promise<{ mac: string; ip: string }[]>;
  /** Makes each port's device if it does not exist (a tap) and attaches it, up, to its network's
   * bridge, all in one pass. A device of that name that exists (a veth end a test made) is
   * attached as it is. */
  ensurePorts(specs: PortSpec[]): Promise<void>;
  deletePorts(ids: string[]): Promise<void>;
  ensureRouter(spec: RouterSpec): Promise<void>;
  deleteRouter(id: string): Promise<void>;
  /** Replaces the security rules of every port on this host at once: the ports given are filtered
   * as their specs say, every other port's chains go away. A driver may keep what it applied in
   * memory rather than read the host each time; reread makes it look at the host again, so that
   * what changed there behind its back is repaired. */
  applyFirewall(ports: PortSpec[], opts?: { reread?: boolean }): Promise<void>;
  /** Whether the last applyFirewall filtered this port (its rules are in place). */
  isFiltered(portId: string): Promise<boolean>;
  /** What exists on this host now, by full id: how the agent finds what the store no longer wants. */
  inventory(): Promise<DataplaneInventory>;
  /** Lets go of what the driver holds in this process (the metadata endpoints' sockets); what it
   * made on the host stays, for the next process to adopt. */
  close(): Promise<void>;
}

/** The name of a port's device on the host, as Neutron's Linux agents name it: the compute driver
 * opens this tap, and tests attach a veth of this name. */
export const tapName = (portId: string) => `tap${portId.slice(0, 11)}`;
