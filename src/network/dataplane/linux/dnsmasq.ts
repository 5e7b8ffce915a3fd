import type { DhcpSpec, DhcpSubnet } from '../driver.ts';
import { contains, isV4, netmask, splitCidr } from './cidr.ts';

// dnsmasq's command line and files for one network, as pure text: what changes in the files is
// reloaded by SIGHUP, what changes on the command line needs a restart.

export const METADATA_IP = '169.254.169.254';
const LEASE_SECONDS = 86400;

export interface DnsmasqFiles {
  pidfile: string;
  hosts: string;
  opts: string;
  leases: string;
  log: string;
}

/** The agent gives IPv4 subnets only: DHCPv6 without router advertisements would leave guests without a route. */
const served = (spec: DhcpSpec) => spec.subnets.filter((s) => isV4(s.cidr));
const tagOf = (subnet: DhcpSubnet) => `subnet-${subnet.id}`;
/** The tag a host line sets when its port has extra options: the MAC is one port's on a network. */
const hostTag = (mac: string) => `port-${mac.toLowerCase().replaceAll(':', '')}`;

export function dnsmasqArgv(spec: DhcpSpec, iface: string, files: DnsmasqFiles): string[] {
  return [
    'dnsmasq',
    // Nothing from the host's own dnsmasq setup, /etc/hosts or resolv.conf: DHCP only.
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    '--bind-interfaces',
    `--interface=${iface}`,
    '--except-interface=lo',
    `--pid-file=${files.pidfile}`,
    `--dhcp-hostsfile=${files.hosts}`,
    `--dhcp-optsfile=${files.opts}`,
    `--dhcp-leasefile=${files.leases}`,
    `--log-facility=${files.log}`,
    // Leases are logged by the agent's own status; the log keeps dnsmasq's errors.
    '--quiet-dhcp',
    ...served(spec).map((s) => {
      const { ip, prefix } = splitCidr(s.cidr);
      return `--dhcp-range=set:${tagOf(s)},${ip},static,${netmask(prefix)},${LEASE_SECONDS}s`;
    }),
  ];
}

/** dnsmasq takes hostnames as DNS labels only: anything else would drop the host's line. */
const label = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

export function hostsFile(spec: DhcpSpec): string {
  return spec.hosts
    .filter((h) => isV4(h.ip))
    .map((h) => [h.mac, h.ip, label(h.hostname), h.options?.length ? `set:${hostTag(h.mac)}` : ''].filter(Boolean).join(',') + '\n')
    .join('');
}

/** The MAC and IP of each line of a hosts file. */
export const parseHostsFile = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mac = '', ip = ''] = line.split(',');
      return { mac, ip };
    });

export function optsFile(spec: DhcpSpec): string {
  const lines: string[] = [];
  for (const s of served(spec)) {
    const tag = `tag:${tagOf(s)}`;
    // An option given empty is sent as nothing: otherwise dnsmasq offers itself as router and DNS server.
    lines.push(`${tag},option:router${s.gatewayIp ? `,${s.gatewayIp}` : ''}`);
    lines.push(
      `${tag},option:dns-server${s.dnsNameservers
        .filter(isV4)
        .map((d) => `,${d}`)
        .join('')}`,
    );
    lines.push(`${tag},option:mtu,${spec.mtu}`);
    const routes = classlessRoutes(spec, s);
    if (routes.length) {
      const text = routes.map((r) => `${r.destination},${r.nexthop}`).join(',');
      lines.push(`${tag},option:classless-static-route,${text}`);
      // Windows asks for Microsoft's number of the same option.
      lines.push(`${tag},249,${text}`);
    }
  }
  // The ports' extra options, for their hosts only: a tagged option wins over the subnet's.
  const tagged = new Set<string>();
  for (const h of spec.hosts) {
    if (!h.options?.length || tagged.has(hostTag(h.mac))) continue;
    tagged.add(hostTag(h.mac));
    for (const o of h.options) lines.push(`tag:${hostTag(h.mac)},${/^\d+$/.test(o.name) ? o.name : `option:${o.name}`},${o.value}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * Option 121 for a subnet. A client that gets it ignores option 3 (RFC 3442), so the default route
 * rides along; metadata is reached through the DHCP port, which answers 169.254.169.254.
 */
export function classlessRoutes(spec: DhcpSpec, subnet: DhcpSubnet): { destination: string; nexthop: string }[] {
  const routes = subnet.hostRoutes.filter((r) => isV4(r.destination));
  const dhcpIp = spec.port.addresses.map((a) => splitCidr(a).ip).find((ip) => isV4(ip) && contains(subnet.cidr, ip));
  const metadata = spec.metadata && dhcpIp ? [{ destination: `${METADATA_IP}/32`, nexthop: dhcpIp }] : [];
  const hasDefault = routes.some((r) => splitCidr(r.destination).prefix === 0);
  const defaultRoute = subnet.gatewayIp && !hasDefault ? [{ destination: '0.0.0.0/0', nexthop: subnet.gatewayIp }] : [];
  const all = [...metadata, ...routes];
  return all.length ? [...all, ...defaultRoute] : [];
}
