// What the load-balancer service asks of the network service: a VIP port owned by a load balancer,
// bound to the host whose agent plugs it into a namespace, the security group that opens it to its
// listeners' ports, and the subnets its members may be on. The load balancer never writes a port
// or a rule itself.

import { randomUUID } from 'node:crypto';
import { and, eq, inArray, ne } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { contains, ipToBigInt, ipVersion, parseCidr } from './addresses.ts';
import { addressesWithSubnets } from './ipam.ts';
import { createPort, deletePort, updatePort } from './ports.ts';
import { parsePrefix, touchGroup } from './security-group-rules.ts';
import { createSecurityGroup } from './security-groups.ts';
import { ipAllocations, networks, ports, portSecurityGroups, securityGroupRules, securityGroups, subnets } from './tables.ts';
import { usableNetworks, visibleSubnets, type Caller } from './visibility.ts';

/** Octavia's device_owner for a load balancer's VIP port (device_id lb-<id>). */
export const LB_VIP_OWNER = 'Octavia';

export interface VipRequest {
  projectId: string;
  caller: Caller;
  loadBalancerId: string;
  networkId?: string;
  subnetId?: string;
  portId?: string;
  address?: string;
}

export interface Vip {
  portId: string;
  networkId: string;
  subnetId: string;
  address: string;
}

/** Octavia's 400 for a VIP it cannot place. */
const invalidVip = (msg: string) => badRequest(`Validation failure: ${msg}`, 'ValidationException');

/** A subnet the project may put ports on (its own network's, or one shared with it), or undefined. */
export async function usableSubnet(db: Db, caller: Caller, subnetId: string) {
  const [row] = await db
    .select({ id: subnets.id, networkId: subnets.networkId, cidr: subnets.cidr, ipVersion: subnets.ipVersion })
    .from(subnets)
    .innerJoin(networks, eq(networks.id, subnets.networkId))
    .where(and(eq(subnets.id, subnetId), visibleSubnets(caller), caller.isAdmin ? undefined : usableNetworks(caller.projectId)));
  return row;
}

/** Whether ip is an address of cidr's (false for text that is not an address). */
export function isInSubnet(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  return !!c && ipVersion(ip) === c.version && contains(c, ipToBigInt(ip));
}

/** The group of a load balancer's VIP port, as Octavia names it: it lets in its listeners' ports. */
const vipGroupName = (loadBalancerId: string) => `lb-${loadBalancerId}`;

const makeVipGroup = async (tx: Db, projectId: string, loadBalancerId: string) =>
  (
    await createSecurityGroup(tx, {
      projectId,
      name: vipGroupName(loadBalancerId),
      description: `Load balancer ${loadBalancerId}: its listeners' ports, kept by the load-balancing service`,
      stateful: true,
    })
  ).id;

/** Makes the VIP port of a new load balancer inside its create transaction (or takes over the
 * unowned port the user named), unbound: its agent binds it once the port's device is made. On a
 * network with port security, the port gets a group of its own that the listeners open. */
export async function allocateVip(tx: Db, req: VipRequest): Promise<Vip> {
  const owner = { deviceOwner: LB_VIP_OWNER, deviceId: `lb-${req.loadBalancerId}` };
  if (req.portId) {
    const [port] = await tx.select().from(ports).where(eq(ports.id, req.portId));
    if (!port || (!req.caller.isAdmin && port.projectId !== req.projectId)) throw invalidVip(`Port ${req.portId} not found.`);
    if (port.deviceOwner || port.deviceId) throw conflict(`Port ${req.portId} is already in use by ${port.deviceOwner || port.deviceId}.`);
    const [ip] = (await addressesWithSubnets(tx, [port.id])).filter((a) => a.subnet.ipVersion === 4);
    if (!ip) throw invalidVip(`Port ${req.portId} has no IPv4 address.`);
    const groups = port.portSecurityEnabled ? { securityGroups: [await makeVipGroup(tx, port.projectId, req.loadBalancerId)] } : {};
    await updatePort(tx, port.id, { ...owner, ...groups });
    return { portId: port.id, networkId: port.networkId, subnetId: ip.subnet.id, address: ip.ipAddress };
  }
  let subnetId = req.subnetId;
  let networkId = req.networkId;
  if (subnetId) {
    const subnet = await usableSubnet(tx, req.caller, subnetId);
    if (!subnet) throw invalidVip(`Subnet ${subnetId} not found.`);
    if (networkId && networkId !== subnet.networkId) throw invalidVip(`Subnet ${subnetId} is not on network ${networkId}.`);
    networkId = subnet.networkId;
  } else if (networkId) {
    const [subnet] = await tx
      .select({ id: subnets.id })
      .from(subnets)
      .innerJoin(networks, eq(networks.id, subnets.networkId))
      .where(and(eq(subnets.networkId, networkId), eq(subnets.ipVersion, 4), req.caller.isAdmin ? undefined : usableNetworks(req.projectId)));
    if (!subnet) throw invalidVip(`Network ${networkId} not found or has no IPv4 subnet.`);
    subnetId = subnet.id;
  } else {
    throw invalidVip('VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.');
  }
  const [network] = await tx.select({ portSecurity: networks.portSecurityEnabled }).from(networks).where(eq(networks.id, networkId!));
  const port = await createPort(tx, {
    networkId: networkId!,
    projectId: req.projectId,
    name: `octavia-lb-${req.loadBalancerId}`,
    fixedIps: [{ subnetId, ...(req.address ? { ipAddress: req.address } : {}) }],
    ...(network?.portSecurity ? { securityGroups: [await makeVipGroup(tx, req.projectId, req.loadBalancerId)] } : { portSecurityEnabled: false }),
    ...owner,
  });
  return { portId: port.id, networkId: networkId!, subnetId: subnetId!, address: port.fixedIps[0]!.ipAddress };
}

/** Binds the VIP port to the host whose device stands for it: its network agent plugs it into
 * the network's bridge. */
export async function bindVip(tx: Db, portId: string, host: string): Promise<void> {
  const [port] = await tx.select({ hostId: ports.hostId }).from(ports).where(eq(ports.id, portId));
  if (port && port.hostId !== host) await updatePort(tx, portId, { hostId: host });
}

/** Tells this host's network agent that the VIP port's device was made again: it plugs it anew. */
export const vipDeviceChanged = (db: Db, portId: string) => dataplaneChanged(db, `port:${portId}`);

/** The VIP port's own group, if it has one (none on a network without port security). */
async function vipGroupOf(tx: Db, portId: string, loadBalancerId: string) {
  const [group] = await tx
    .select({ id: securityGroups.id, projectId: securityGroups.projectId })
    .from(portSecurityGroups)
    .innerJoin(securityGroups, eq(securityGroups.id, portSecurityGroups.securityGroupId))
    .where(and(eq(portSecurityGroups.portId, portId), eq(securityGroups.name, vipGroupName(loadBalancerId))));
  return group;
}

/** The load balancer's legs on its members' subnets: its ports other than the VIP. */
const legPorts = (tx: Db, vipPortId: string, loadBalancerId: string) =>
  tx
    .select({ id: ports.id, subnetId: ipAllocations.subnetId })
    .from(ports)
    .innerJoin(ipAllocations, eq(ipAllocations.portId, ports.id))
    .where(and(eq(ports.deviceOwner, LB_VIP_OWNER), eq(ports.deviceId, `lb-${loadBalancerId}`), ne(ports.id, vipPortId)));

/** Deletes the VIP port with its load balancer, its legs on member subnets, and the group they had;
 * a port already gone is fine. */
export async function releaseVip(tx: Db, portId: string, loadBalancerId: string): Promise<void> {
  const group = await vipGroupOf(tx, portId, loadBalancerId);
  for (const leg of await legPorts(tx, portId, loadBalancerId)) await deletePort(tx, leg.id);
  const [port] = await tx.select({ id: ports.id }).from(ports).where(eq(ports.id, portId));
  if (port) await deletePort(tx, portId);
  if (group) await tx.delete(securityGroups).where(eq(securityGroups.id, group.id));
}

export interface LegRequest {
  loadBalancerId: string;
  projectId: string;
  vipPortId: string;
  /** The subnets, other than the VIP's, that members are on. */
  subnetIds: string[];
}

/** Gives the load balancer a port on each of its members' subnets (in the VIP's group when it has
 * one), unbound like the VIP's until its device is made, and lets go of those no member needs any
 * more; returns their wiring. */
export async function memberLegs(tx: Db, req: LegRequest): Promise<(Wiring & { portId: string })[]> {
  const have = await legPorts(tx, req.vipPortId, req.loadBalancerId);
  for (const leg of have.filter((l) => !req.subnetIds.includes(l.subnetId))) await deletePort(tx, leg.id);
  const group = await vipGroupOf(tx, req.vipPortId, req.loadBalancerId);
  const legs: (Wiring & { portId: string })[] = [];
  for (const subnetId of req.subnetIds) {
    let portId = have.find((l) => l.subnetId === subnetId)?.id;
    if (!portId) {
      const [subnet] = await tx.select({ networkId: subnets.networkId }).from(subnets).where(eq(subnets.id, subnetId));
      // The member's subnet went since it was checked: its member is unreachable, not the others.
      if (!subnet) continue;
      const [network] = await tx.select({ portSecurity: networks.portSecurityEnabled }).from(networks).where(eq(networks.id, subnet.networkId));
      const port = await createPort(tx, {
        networkId: subnet.networkId,
        projectId: req.projectId,
        name: `octavia-lb-${req.loadBalancerId}-member`,
        fixedIps: [{ subnetId }],
        ...(network?.portSecurity && group ? { securityGroups: [group.id] } : { portSecurityEnabled: false }),
        deviceOwner: LB_VIP_OWNER,
        deviceId: `lb-${req.loadBalancerId}`,
      });
      portId = port.id;
    }
    const wiring = await vipWiring(tx, portId);
    if (wiring) legs.push({ ...wiring, gateway: undefined, portId });
  }
  return legs;
}

/** An allowed CIDR as a rule stores it (the network address), or undefined if it is not one. */
export const normalCidr = (text: string) => (text.includes('/') ? parsePrefix(text)?.normalized : undefined);

/** Makes the VIP's group let in each listener's TCP port from its allowed CIDRs (from anywhere when
 * it has none), and nothing else: rules of the group that no listener asks for go, whoever wrote
 * them. They follow the listeners, so they are written without a quota check (they still count
 * in the project's usage, as its own rules would). */
export async function openVip(tx: Db, portId: string, loadBalancerId: string, open: { port: number; cidrs: string[] | null }[]): Promise<void> {
  const group = await vipGroupOf(tx, portId, loadBalancerId);
  if (!group) return;
  const want = new Map(
    open.flatMap(({ port, cidrs }) =>
      (cidrs?.length ? cidrs : ['0.0.0.0/0']).map((cidr) => [`${port} ${cidr}`, { port, cidr, ethertype: cidr.includes(':') ? ('IPv6' as const) : ('IPv4' as const) }]),
    ),
  );
  const have = await tx
    .select()
    .from(securityGroupRules)
    .where(and(eq(securityGroupRules.securityGroupId, group.id), eq(securityGroupRules.direction, 'ingress')));
  const fits = (r: (typeof have)[number]) => r.protocol === 'tcp' && r.portRangeMin === r.portRangeMax && !r.remoteGroupId && want.has(`${r.portRangeMin} ${r.remoteIpPrefix}`);
  const stale = have.filter((r) => !fits(r));
  const kept = new Set(have.filter(fits).map((r) => `${r.portRangeMin} ${r.remoteIpPrefix}`));
  const missing = [...want].filter(([key]) => !kept.has(key)).map(([, w]) => w);
  if (stale.length === 0 && missing.length === 0) return;
  if (stale.length) await tx.delete(securityGroupRules).where(inArray(securityGroupRules.id, stale.map((r) => r.id)));
  if (missing.length)
    await tx.insert(securityGroupRules).values(
      missing.map((w) => ({
        id: randomUUID(),
        securityGroupId: group.id,
        projectId: group.projectId,
        direction: 'ingress' as const,
        ethertype: w.ethertype,
        protocol: 'tcp',
        portRangeMin: w.port,
        portRangeMax: w.port,
        remoteIpPrefix: w.cidr,
      })),
    );
  await touchGroup(tx, group.id);
  await dataplaneChanged(tx, 'firewall');
}

/** What a VIP's namespace needs: the port's MAC, its addresses with prefix, its subnet's gateway
 * and the network's MTU; undefined once the port is gone. */
export interface Wiring {
  mac: string;
  mtu: number;
  addresses: string[];
  gateway?: string;
}

export async function vipWiring(db: Db, portId: string): Promise<Wiring | undefined> {
  const [port] = await db
    .select({ mac: ports.macAddress, mtu: networks.mtu })
    .from(ports)
    .innerJoin(networks, eq(networks.id, ports.networkId))
    .where(eq(ports.id, portId));
  if (!port) return undefined;
  const ips = (await addressesWithSubnets(db, [portId])).filter((a) => a.subnet.ipVersion === 4);
  return {
    mac: port.mac,
    mtu: port.mtu,
    addresses: ips.map((a) => `${a.ipAddress}/${a.subnet.cidr.split('/')[1]}`),
    gateway: ips.find((a) => a.subnet.gatewayIp)?.subnet.gatewayIp ?? undefined,
  };
}
