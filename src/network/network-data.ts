// A server's networks as the guest learns them, in Nova's network_data.json: what cloud-init reads
// (from the metadata service or the config drive) to configure each NIC, not only the first.

import type { Db } from '../lib/store/db.ts';
import { bigIntToIp, parseCidr, type IpVersion } from './addresses.ts';
import { serverNics, type ServerRef } from './for-compute.ts';
import { addressesWithSubnets } from './ipam.ts';
import type { subnets } from './tables.ts';

type Subnet = typeof subnets.$inferSelect;
type Route = { network: string; netmask: string; gateway: string };
type Service = { type: 'dns'; address: string };

export interface NetworkData {
  links: { id: string; vif_id: string; type: string; mtu: number; ethernet_mac_address: string }[];
  networks: ({ id: string; type: string; link: string; network_id: string } & Partial<{
    ip_address: string;
    netmask: string;
    routes: Route[];
    services: Service[];
  }>)[];
  services: Service[];
}

/** A prefix length as a mask: 255.255.255.0, ffff:ffff:ffff:ffff::. */
function netmask(prefix: number, version: IpVersion): string {
  const bits = version === 4 ? 32 : 128;
  return bigIntToIp(((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix), version);
}

/** A destination as Nova writes a route's: its network address and mask. */
function destination(cidr: string) {
  const c = parseCidr(cidr)!;
  return { network: bigIntToIp(c.first, c.version), netmask: netmask(c.prefix, c.version) };
}

/** How the guest gets its address on a subnet: DHCP or SLAAC where the subnet offers it, or the
 * address written here. */
function addressing(s: Subnet): string | undefined {
  if (s.ipVersion === 4) return s.enableDhcp ? 'ipv4_dhcp' : undefined;
  return s.ipv6AddressMode ? `ipv6_${s.ipv6AddressMode}` : undefined;
}

export async function serverNetworkData(db: Db, server: ServerRef): Promise<NetworkData> {
  const nics = await serverNics(db, server);
  const rows = await addressesWithSubnets(
    db,
    nics.map((n) => n.portId),
  );
  const services = (s: Subnet): Service[] => s.dnsNameservers.map((address) => ({ type: 'dns', address }));
  const networks: NetworkData['networks'] = [];
  for (const nic of nics) {
    // IPv4 first, then by address, so that the numbering does not change from one read to the next.
    const mine = rows.filter((r) => r.portId === nic.portId).sort((a, b) => a.subnet.ipVersion - b.subnet.ipVersion || a.ipAddress.localeCompare(b.ipAddress));
    for (const { ipAddress: ip, subnet } of mine) {
      const base = { id: `network${networks.length}`, link: nic.tap, network_id: nic.networkId };
      const auto = addressing(subnet);
      if (auto) {
        networks.push({ ...base, type: auto });
        continue;
      }
      const version = subnet.ipVersion as IpVersion;
      const any = version === 4 ? '0.0.0.0' : '::';
      networks.push({
        ...base,
        type: `ipv${version}`,
        ip_address: ip,
        netmask: netmask(parseCidr(subnet.cidr)!.prefix, version),
        routes: [
          ...(subnet.gatewayIp ? [{ network: any, netmask: any, gateway: subnet.gatewayIp }] : []),
          ...subnet.hostRoutes.map((r) => ({ ...destination(r.destination), gateway: r.nexthop })),
        ],
        services: services(subnet),
      });
    }
  }
  const dns = [...new Set(rows.flatMap((r) => r.subnet.dnsNameservers))];
  return {
    links: nics.map((n) => ({ id: n.tap, vif_id: n.portId, type: 'tap', mtu: n.mtu, ethernet_mac_address: n.mac })),
    networks,
    services: dns.map((address) => ({ type: 'dns', address })),
  };
}
