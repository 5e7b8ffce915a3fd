// What the load-balancer service asks of the network service: a VIP port owned by a load balancer,
// bound to the host whose agent plugs it into a namespace, and the subnets its members may be on.
// The load balancer never writes a port itself.

import { and, eq } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { contains, ipToBigInt, ipVersion, parseCidr } from './addresses.ts';
import { addressesWithSubnets } from './ipam.ts';
import { createPort, deletePort, updatePort } from './ports.ts';
import { networks, ports, subnets } from './tables.ts';
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

/** Makes the VIP port of a new load balancer inside its create transaction (or takes over the
 * unowned port the user named), unbound: its agent binds it once the port's device is made. */
export async function allocateVip(tx: Db, req: VipRequest): Promise<Vip> {
  const owner = { deviceOwner: LB_VIP_OWNER, deviceId: `lb-${req.loadBalancerId}` };
  if (req.portId) {
    const [port] = await tx.select().from(ports).where(eq(ports.id, req.portId));
    if (!port || (!req.caller.isAdmin && port.projectId !== req.projectId)) throw invalidVip(`Port ${req.portId} not found.`);
    if (port.deviceOwner || port.deviceId) throw conflict(`Port ${req.portId} is already in use by ${port.deviceOwner || port.deviceId}.`);
    const [ip] = (await addressesWithSubnets(tx, [port.id])).filter((a) => a.subnet.ipVersion === 4);
    if (!ip) throw invalidVip(`Port ${req.portId} has no IPv4 address.`);
    await updatePort(tx, port.id, owner);
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
  const port = await createPort(tx, {
    networkId: networkId!,
    projectId: req.projectId,
    name: `octavia-lb-${req.loadBalancerId}`,
    fixedIps: [{ subnetId, ...(req.address ? { ipAddress: req.address } : {}) }],
    // The VIP answers on the listeners' ports only: HAProxy listens on nothing else.
    portSecurityEnabled: false,
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

/** Deletes the VIP port with its load balancer; a port already gone is fine. */
export async function releaseVip(tx: Db, portId: string): Promise<void> {
  const [port] = await tx.select({ id: ports.id }).from(ports).where(eq(ports.id, portId));
  if (port) await deletePort(tx, portId);
}

/** What a VIP's namespace needs: the port's MAC, its addresses with prefix, its subnet's gateway
 * and the network's MTU; undefined once the port is gone. */
export async function vipWiring(db: Db, portId: string) {
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
