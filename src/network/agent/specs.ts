// What the data plane must look like, read from the store: the agent's desired state. Each function
// reads afresh, so a reconcile never acts on a stale picture.

import { and, eq, inArray, isNotNull, like, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import { floatingIps, ipAllocations, networks, portSecurityGroups, ports, routers, securityGroupRules, subnets, type ExtraDhcpOpt } from '../tables.ts';
import { DHCP_OWNER } from '../subnets.ts';
import { addressesWithSubnets } from '../ipam.ts';
import { hostnameOf } from '../ports.ts';
import { portLimits } from '../qos.ts';
import { ROUTER_GATEWAY, ROUTER_INTERFACE } from '../routers.ts';
import { LB_VIP_OWNER } from '../for-loadbalancer.ts';
import { hosts } from '../../compute/tables.ts';
import type { DhcpSpec, FirewallRule, NetworkSpec, PortSpec, RouterSpec } from '../dataplane/driver.ts';

type Subnet = typeof subnets.$inferSelect;
type PortRow = typeof ports.$inferSelect;

/** Ports whose device is a tap on some host: a server's NIC. */
export const COMPUTE_OWNER = 'compute:';

/** Ports that stand for a device on the host they are bound to: a server's NIC (a tap), or a load
 * balancer's VIP (a veth whose other end is in the load balancer's namespace). */
export const isDevicePort = (owner: string) => owner.startsWith(COMPUTE_OWNER) || owner === LB_VIP_OWNER;
export const devicePorts = () => or(like(ports.deviceOwner, `${COMPUTE_OWNER}%`), eq(ports.deviceOwner, LB_VIP_OWNER));

const prefixOf = (cidr: string) => cidr.slice(cidr.indexOf('/') + 1);

/** This host, when its vxlan networks reach other hosts: its name and its tunnel address. */
export interface TunnelEnd {
  host: string;
  local: string;
}

export async function networkSpec(db: Db, id: string, end?: TunnelEnd): Promise<NetworkSpec | undefined> {
  const [n] = await db.select().from(networks).where(eq(networks.id, id));
  if (!n) return undefined;
  const spec: NetworkSpec = {
    id: n.id,
    type: n.networkType,
    physicalNetwork: n.physicalNetwork ?? undefined,
    segmentationId: n.segmentationId ?? undefined,
    mtu: n.mtu,
  };
  if (end && n.networkType === 'vxlan') spec.tunnel = await tunnelOf(db, id, end);
  return spec;
}

/** Where a vxlan network's frames go from this host: every port bound to another host (servers'
 * NICs, and the network host's DHCP and router legs), at that host's tunnel address. */
async function tunnelOf(db: Db, networkId: string, end: TunnelEnd): Promise<NetworkSpec['tunnel']> {
  const rows = await db
    .select({ id: ports.id, mac: ports.macAddress, remote: sql<string>`coalesce(${hosts.tunnelIp}, ${hosts.hostIp})` })
    .from(ports)
    .innerJoin(hosts, eq(hosts.name, ports.hostId))
    .where(and(eq(ports.networkId, networkId), ne(ports.hostId, end.host), or(isNotNull(hosts.tunnelIp), isNotNull(hosts.hostIp))))
    .orderBy(ports.id);
  const v4 = await addressesOf(
    db,
    rows.map((r) => r.id),
  );
  const remote = rows.filter((r) => r.remote !== end.local);
  return {
    local: end.local,
    remotes: [...new Set(remote.map((r) => r.remote))].sort(),
    ports: remote.map((r) => ({ mac: r.mac, ips: (v4.get(r.id) ?? []).map((a) => a.ip).filter((ip) => !ip.includes(':')), remote: r.remote })),
  };
}

/** The fixed IPs of the given ports, each with its subnet, by port. */
async function addressesOf(db: Db, ids: string[]) {
  const out = new Map<string, { ip: string; subnet: Subnet }[]>();
  for (const r of await addressesWithSubnets(db, ids)) out.set(r.portId, [...(out.get(r.portId) ?? []), { ip: r.ipAddress, subnet: r.subnet }]);
  return out;
}

/** The DHCP service of a network, or undefined when it has none (no DHCP subnet or no DHCP port). */
export async function dhcpSpec(db: Db, networkId: string, metadata: boolean): Promise<DhcpSpec | undefined> {
  const [n] = await db.select().from(networks).where(eq(networks.id, networkId));
  if (!n) return undefined;
  const dhcpSubnets = (await db.select().from(subnets).where(eq(subnets.networkId, networkId))).filter((s) => s.enableDhcp && s.ipVersion === 4);
  if (!dhcpSubnets.length) return undefined;
  const [dhcpPort] = await db
    .select()
    .from(ports)
    .where(and(eq(ports.networkId, networkId), eq(ports.deviceOwner, DHCP_OWNER)));
  if (!dhcpPort) return undefined;
  const onDhcp = new Set(dhcpSubnets.map((s) => s.id));
  const own = ((await addressesOf(db, [dhcpPort.id])).get(dhcpPort.id) ?? []).filter((a) => onDhcp.has(a.subnet.id));
  // Every other port's leases as one JSON document: this runs after each port change, and
  // decoding ten thousand rows of whole ports would cost it a hundred times more.
  const result = await db.execute(sql`
    select coalesce(json_agg(json_build_array(${ports.macAddress}, ${ipAllocations.ipAddress}, ${ports.dnsName}, ${ports.extraDhcpOpts}))::text, '[]') as hosts
    from ${ipAllocations} join ${ports} on ${ports.id} = ${ipAllocations.portId}
    where ${inArray(ipAllocations.subnetId, [...onDhcp])} and ${ports.id} <> ${dhcpPort.id}`);
  const leases = JSON.parse((result as unknown as { rows: { hosts: string }[] }).rows[0]!.hosts) as [string, string, string, ExtraDhcpOpt[]][];
  return {
    networkId,
    port: { id: dhcpPort.id, mac: dhcpPort.macAddress, addresses: own.map((a) => `${a.ip}/${prefixOf(a.subnet.cidr)}`) },
    subnets: dhcpSubnets.map((s) => ({
      id: s.id,
      cidr: s.cidr,
      gatewayIp: s.gatewayIp ?? undefined,
      dnsNameservers: s.dnsNameservers,
      hostRoutes: s.hostRoutes,
    })),
    hosts: leases.map(([mac, ip, dnsName, extra]) => {
      const options = extra.filter((o) => o.ip_version === 4).map((o) => ({ name: o.opt_name, value: o.opt_value }));
      return { mac, ip, hostname: hostnameOf({ dnsName }, ip), ...(options.length ? { options } : {}) };
    }),
    mtu: n.mtu,
    metadata,
  };
}

/** The leases each port's guest needs answered by DHCP before it boots, by port id: its IPv4
 * addresses on subnets with DHCP, when its network has a DHCP port to serve them (none otherwise). */
export async function dhcpLeasesOf(db: Db, rows: PortRow[]): Promise<Map<string, { mac: string; ip: string }[]>> {
  const out = new Map(rows.map((p) => [p.id, [] as { mac: string; ip: string }[]]));
  const networkIds = [...new Set(rows.map((p) => p.networkId))];
  if (!networkIds.length) return out;
  const withServer = await db
    .selectDistinct({ networkId: ports.networkId })
    .from(ports)
    .where(and(inArray(ports.networkId, networkIds), eq(ports.deviceOwner, DHCP_OWNER)));
  const served = new Set(withServer.map((n) => n.networkId));
  const byId = new Map(rows.map((p) => [p.id, p]));
  for (const a of await addressesWithSubnets(db, [...byId.keys()])) {
    const port = byId.get(a.portId)!;
    if (a.subnet.enableDhcp && a.subnet.ipVersion === 4 && served.has(port.networkId)) out.get(port.id)!.push({ mac: port.macAddress, ip: a.ipAddress });
  }
  return out;
}

/** Whether a port is this host's to wire: bound to it, or a live migration takes it here. */
export const wiredHere = (host: string) => or(eq(ports.hostId, host), eq(ports.migratingTo, host));

/** The ports this host wires as devices: servers' NICs and load balancers' VIPs bound to it, or
 * that a live migration takes to it. */
export async function hostPorts(db: Db, host: string): Promise<PortRow[]> {
  return db
    .select()
    .from(ports)
    .where(and(wiredHere(host), devicePorts()));
}

/**
 * The specs of the given ports with their security resolved: each rule of each of their groups,
 * a remote group standing for the addresses of every port in that group (on any host).
 */
export async function portSpecs(db: Db, rows: PortRow[]): Promise<PortSpec[]> {
  const ids = rows.map((p) => p.id);
  const addresses = await addressesOf(db, ids);
  const bindings = ids.length ? await db.select().from(portSecurityGroups).where(inArray(portSecurityGroups.portId, ids)) : [];
  const groupIds = [...new Set(bindings.map((b) => b.securityGroupId))];
  const rules = groupIds.length ? await db.select().from(securityGroupRules).where(inArray(securityGroupRules.securityGroupId, groupIds)) : [];
  const remoteIds = [...new Set(rules.flatMap((r) => (r.remoteGroupId ? [r.remoteGroupId] : [])))];
  const members = remoteIds.length
    ? await db
        .select({ groupId: portSecurityGroups.securityGroupId, ip: ipAllocations.ipAddress })
        .from(portSecurityGroups)
        .innerJoin(ipAllocations, eq(ipAllocations.portId, portSecurityGroups.portId))
        .where(inArray(portSecurityGroups.securityGroupId, remoteIds))
    : [];
  const membersOf = (group: string, ethertype: string) =>
    members.filter((m) => m.groupId === group && m.ip.includes(':') === (ethertype === 'IPv6')).map((m) => `${m.ip}/${m.ip.includes(':') ? 128 : 32}`);
  const rulesOf = (group: string): FirewallRule[] =>
    rules
      .filter((r) => r.securityGroupId === group)
      .map((r) => ({
        direction: r.direction,
        ethertype: r.ethertype,
        protocol: r.protocol ?? undefined,
        portRangeMin: r.portRangeMin ?? undefined,
        portRangeMax: r.portRangeMax ?? undefined,
        remotes: r.remoteGroupId ? membersOf(r.remoteGroupId, r.ethertype) : r.remoteIpPrefix ? [r.remoteIpPrefix] : undefined,
        remoteGroup: r.remoteGroupId ?? undefined,
      }));
  const limits = await portLimits(db, rows);
  return rows.map((p) => ({
    id: p.id,
    networkId: p.networkId,
    mac: p.macAddress,
    ips: (addresses.get(p.id) ?? []).map((a) => a.ip),
    adminUp: p.adminStateUp,
    security: p.portSecurityEnabled
      ? {
          allowedPairs: p.allowedAddressPairs.map((a) => ({ ip: a.ip_address, mac: a.mac_address || p.macAddress })),
          rules: bindings.filter((b) => b.portId === p.id).flatMap((b) => rulesOf(b.securityGroupId)),
        }
      : undefined,
    ...qosOf(limits.get(p.id) ?? []),
  }));
}

/** A port's bandwidth limits by direction, absent when it has none. */
function qosOf(limits: { direction: 'egress' | 'ingress'; maxKbps: number; maxBurstKbps: number }[]): Pick<PortSpec, 'qos'> {
  if (!limits.length) return {};
  const of = (d: string) => limits.find((l) => l.direction === d);
  const limit = (l: (typeof limits)[number] | undefined) => l && { maxKbps: l.maxKbps, maxBurstKbps: l.maxBurstKbps };
  return { qos: { egress: limit(of('egress')), ingress: limit(of('ingress')) } };
}

/** A router with its legs, routes and floating IPs, or undefined once it is gone. */
export async function routerSpec(db: Db, id: string): Promise<RouterSpec | undefined> {
  const [r] = await db.select().from(routers).where(eq(routers.id, id));
  if (!r) return undefined;
  const legs = await db.select().from(ports).where(eq(ports.deviceId, id));
  const addresses = await addressesOf(
    db,
    legs.map((p) => p.id),
  );
  const withPrefix = (p: PortRow) => (addresses.get(p.id) ?? []).map((a) => `${a.ip}/${prefixOf(a.subnet.cidr)}`);
  const gw = legs.find((p) => p.deviceOwner === ROUTER_GATEWAY);
  const fips = await db
    .select({ floatingIp: floatingIps.floatingIpAddress, fixedIp: floatingIps.fixedIpAddress })
    .from(floatingIps)
    .where(and(eq(floatingIps.routerId, id), isNotNull(floatingIps.fixedIpAddress)));
  return {
    id,
    interfaces: legs
      .filter((p) => p.deviceOwner === ROUTER_INTERFACE)
      .map((p) => ({ portId: p.id, networkId: p.networkId, mac: p.macAddress, addresses: withPrefix(p) })),
    gateway: gw && {
      portId: gw.id,
      networkId: gw.networkId,
      mac: gw.macAddress,
      addresses: withPrefix(gw),
      nextHops: (addresses.get(gw.id) ?? []).flatMap((a) => (a.subnet.gatewayIp ? [a.subnet.gatewayIp] : [])),
      snat: r.enableSnat,
    },
    routes: r.routes,
    floatingIps: fips.map((f) => ({ floatingIp: f.floatingIp, fixedIp: f.fixedIp! })),
  };
}

/** The networks each leg of a router is on: their bridges must exist before the router's veths. */
export const routerNetworks = (spec: RouterSpec) => [
  ...new Set([...spec.interfaces.map((i) => i.networkId), ...(spec.gateway ? [spec.gateway.networkId] : [])]),
];
