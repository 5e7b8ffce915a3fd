// Floating IPs: an address of an external network, held by a port of its own, that a router NATs
// 1:1 to a fixed IP of a port behind it. The router is found, not chosen: the one whose interface is
// on the fixed IP's subnet and whose gateway is on the floating IP's network.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, ne, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { canonicalIp, ipVersion } from './addresses.ts';
import { dataplaneChanged } from './changes.ts';
import { getNetworkRow, type Caller } from './networks.ts';
import { createPort, deletePort, findPort, type Port, type PortRow } from './ports.ts';
import { reserve } from './quotas.ts';
import { ROUTER_GATEWAY, ROUTER_INTERFACE, SYSTEM } from './routers.ts';
import { floatingIps, ipAllocations, ports, routers, subnets } from './tables.ts';

export type FloatingIpRow = typeof floatingIps.$inferSelect;

export interface FloatingIp extends FloatingIpRow {
  /** The associated port, for Neutron's port_details. */
  port: PortRow | null;
}

export const FLOATING_IP_OWNER = 'network:floatingip';

const fipNotFound = (id: string) => notFound(`Floating IP ${id} could not be found`, 'FloatingIPNotFound');
const badFip = (msg: string) => badRequest(`Bad floatingip request: ${msg}.`, 'BadRequest');

const visibleFips = (caller: Caller) => (caller.isAdmin ? undefined : eq(floatingIps.projectId, caller.projectId));

/** A floating IP the caller sees, locked for the rest of the transaction when asked. */
export async function getFloatingIpRow(db: Db, caller: Caller, id: string, lock = false): Promise<FloatingIpRow> {
  const query = db
    .select()
    .from(floatingIps)
    .where(and(eq(floatingIps.id, id), visibleFips(caller)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw fipNotFound(id);
  return row;
}

/** Floating IPs with their associated ports: by id for a few, by the condition that found them for
 * many (never one parameter per floating IP). */
async function withPorts(db: Db, rows: FloatingIpRow[], where: SQL | undefined): Promise<FloatingIp[]> {
  const associated = rows.filter((r) => r.portId);
  if (!associated.length) return rows.map((r) => ({ ...r, port: null }));
  const ids = associated.length <= 100 ? associated.map((r) => r.portId!) : db.select({ id: floatingIps.portId }).from(floatingIps).where(where);
  const found = await db.select().from(ports).where(inArray(ports.id, ids));
  return rows.map((r) => ({ ...r, port: found.find((p) => p.id === r.portId) ?? null }));
}

export async function getFloatingIp(db: Db, caller: Caller, id: string): Promise<FloatingIp> {
  return (await withPorts(db, [await getFloatingIpRow(db, caller, id)], undefined))[0]!;
}

export async function listFloatingIps(db: Db, caller: Caller): Promise<FloatingIp[]> {
  const where = visibleFips(caller);
  return withPorts(db, await db.select().from(floatingIps).where(where).orderBy(asc(floatingIps.createdAt), asc(floatingIps.id)), where);
}

const interfacePort = alias(ports, 'interface_port');
const gatewayPort = alias(ports, 'gateway_port');

/** The router that joins the subnet to the external network: the one that is the subnet's gateway
 * when several are, as Neutron picks it. */
async function routerFor(tx: Db, port: PortRow, subnetId: string, externalNetworkId: string): Promise<string> {
  const candidates = await tx
    .select({ routerId: interfacePort.deviceId, ip: ipAllocations.ipAddress, gatewayIp: subnets.gatewayIp })
    .from(interfacePort)
    .innerJoin(ipAllocations, eq(ipAllocations.portId, interfacePort.id))
    .innerJoin(subnets, eq(subnets.id, ipAllocations.subnetId))
    .innerJoin(
      gatewayPort,
      and(eq(gatewayPort.deviceId, interfacePort.deviceId), eq(gatewayPort.deviceOwner, ROUTER_GATEWAY), eq(gatewayPort.networkId, externalNetworkId)),
    )
    .where(and(eq(interfacePort.networkId, port.networkId), eq(interfacePort.deviceOwner, ROUTER_INTERFACE), eq(ipAllocations.subnetId, subnetId)))
    .orderBy(asc(interfacePort.deviceId));
  const chosen = candidates.find((c) => c.ip === c.gatewayIp) ?? candidates[0];
  if (!chosen)
    throw notFound(
      `External network ${externalNetworkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
      'ExternalGatewayForFloatingIPNotFound',
    );
  return chosen.routerId;
}

/** routerFor under the router's lock, which interface removals and router deletes also take: the
 * router cannot lose the way to the subnet between the look-up and the association. */
async function lockRouterFor(tx: Db, port: PortRow, subnetId: string, externalNetworkId: string): Promise<string> {
  let routerId = await routerFor(tx, port, subnetId, externalNetworkId);
  for (;;) {
    await tx.select({ id: routers.id }).from(routers).where(eq(routers.id, routerId)).for('update');
    const again = await routerFor(tx, port, subnetId, externalNetworkId);
    if (again === routerId) return routerId;
    routerId = again;
  }
}

/** The fixed IP of the port that the floating IP is to stand for, and its subnet. */
function fixedIpOf(port: Port, requested: string | undefined): { subnetId: string; ipAddress: string } {
  const fixed = port.fixedIps;
  if (requested !== undefined) {
    if (ipVersion(requested) !== 4) throw badFip(`Cannot process floating IP association with ${requested}, since that is not an IPv4 address`);
    const match = fixed.find((f) => f.ipAddress === canonicalIp(requested));
    if (!match) throw badFip(`Port ${port.id} does not have fixed ip ${requested}`);
    return match;
  }
  const v4 = fixed.filter((f) => ipVersion(f.ipAddress) === 4);
  if (!v4.length) throw badFip(`Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
  if (v4.length > 1) throw badFip(`Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
  return v4[0]!;
}

/** Points the floating IP at a fixed IP of a port the caller may use. Its status turns ACTIVE when
 * the router's agent has the NAT in place. */
async function associate(tx: Db, caller: Caller, fip: FloatingIpRow, portId: string, requested: string | undefined): Promise<void> {
  // Locked: two floating IPs racing for one fixed IP are decided here, not by the unique key.
  const port = await findPort(tx, caller, portId, true);
  // A network's owner sees the ports of other projects on it, but may not NAT to them.
  if (port.projectId !== fip.projectId && !caller.isAdmin)
    throw badFip(`Cannot process floating IP association with Port ${port.id}, since that port is owned by a different project`);
  if (port.deviceOwner.startsWith('network:')) throw badFip(`Port ${port.id} is unable to be assigned a floating IP`);
  const fixed = fixedIpOf(port, requested);
  const routerId = await lockRouterFor(tx, port, fixed.subnetId, fip.floatingNetworkId);
  if (fip.portId === port.id && fip.fixedIpAddress === fixed.ipAddress && fip.routerId === routerId) return;
  const [other] = await tx
    .select({ id: floatingIps.id })
    .from(floatingIps)
    .where(and(eq(floatingIps.portId, port.id), eq(floatingIps.fixedIpAddress, fixed.ipAddress), ne(floatingIps.id, fip.id)));
  if (other)
    throw conflict(
      `Cannot associate floating IP ${fip.floatingIpAddress} (${fip.id}) with port ${port.id} using fixed IP ${fixed.ipAddress}, as that fixed IP already has a floating IP on external network ${fip.floatingNetworkId}.`,
      'FloatingIPPortAlreadyAssociated',
    );
  await tx.update(floatingIps).set({ portId: port.id, fixedIpAddress: fixed.ipAddress, routerId, status: 'DOWN' }).where(eq(floatingIps.id, fip.id));
  await dataplaneChanged(tx, `router:${routerId}`, ...(fip.routerId && fip.routerId !== routerId ? [`router:${fip.routerId}` as const] : []));
}

async function disassociate(tx: Db, fip: FloatingIpRow): Promise<void> {
  await tx.update(floatingIps).set({ portId: null, fixedIpAddress: null, routerId: null, status: 'DOWN' }).where(eq(floatingIps.id, fip.id));
  if (fip.routerId) await dataplaneChanged(tx, `router:${fip.routerId}`);
}

export interface FloatingIpInput {
  projectId: string;
  networkId: string;
  subnetId?: string;
  floatingIpAddress?: string;
  portId?: string;
  fixedIpAddress?: string;
  description: string;
}

export async function createFloatingIp(tx: Db, caller: Caller, input: FloatingIpInput): Promise<FloatingIp> {
  if (input.fixedIpAddress !== undefined && input.portId === undefined) throw badFip('fixed_ip_address cannot be specified without a port_id');
  // Held against a grant being taken back meanwhile, as port creates hold it.
  const net = await getNetworkRow(tx, caller, input.networkId, 'key share');
  if (!net.external) throw badFip(`Network ${net.id} is not a valid external network`);
  const v4 = await tx
    .select({ id: subnets.id })
    .from(subnets)
    .where(and(eq(subnets.networkId, net.id), eq(subnets.ipVersion, 4)))
    .limit(1);
  if (!v4.length) throw badFip(`Network ${net.id} does not contain any IPv4 subnet`);
  await reserve(tx, input.projectId, 'floatingip');
  const id = randomUUID();
  const asked = input.subnetId !== undefined || input.floatingIpAddress !== undefined;
  // The address's port belongs to no project: it is the cloud's, shown to nobody but the admin.
  const port = await createPort(tx, {
    networkId: net.id,
    projectId: '',
    name: '',
    deviceId: id,
    deviceOwner: FLOATING_IP_OWNER,
    adminStateUp: true,
    fixedIps: asked ? [{ subnetId: input.subnetId, ipAddress: input.floatingIpAddress }] : undefined,
  });
  const address = port.fixedIps.find((f) => ipVersion(f.ipAddress) === 4);
  if (!address) throw badRequest(`Unable to find any IP address on external network ${net.id}.`, 'ExternalIpAddressExhausted');
  const [row] = await tx
    .insert(floatingIps)
    .values({
      id,
      projectId: input.projectId,
      floatingNetworkId: net.id,
      floatingPortId: port.id,
      floatingIpAddress: address.ipAddress,
      description: input.description,
    })
    .returning();
  if (input.portId !== undefined) await associate(tx, caller, row!, input.portId, input.fixedIpAddress);
  return getFloatingIp(tx, SYSTEM, id);
}

export interface FloatingIpChanges {
  /** null disassociates; absent keeps the association. */
  portId?: string | null;
  fixedIpAddress?: string;
  description?: string;
}

export async function updateFloatingIp(tx: Db, caller: Caller, id: string, changes: FloatingIpChanges): Promise<FloatingIp> {
  const row = await getFloatingIpRow(tx, caller, id, true);
  if (changes.fixedIpAddress !== undefined && !changes.portId) throw badFip('fixed_ip_address cannot be specified without a port_id');
  if (changes.portId === null) await disassociate(tx, row);
  else if (changes.portId !== undefined) await associate(tx, caller, row, changes.portId, changes.fixedIpAddress);
  await tx
    .update(floatingIps)
    .set({ description: changes.description, revision: sql`${floatingIps.revision} + 1`, updatedAt: new Date() })
    .where(eq(floatingIps.id, id));
  return getFloatingIp(tx, SYSTEM, id);
}

export async function setFloatingIpTags(tx: Db, caller: Caller, id: string, tags: string[]): Promise<string[]> {
  await getFloatingIpRow(tx, caller, id, true);
  const unique = [...new Set(tags)];
  await tx
    .update(floatingIps)
    .set({ tags: unique, revision: sql`${floatingIps.revision} + 1`, updatedAt: new Date() })
    .where(eq(floatingIps.id, id));
  return unique;
}

export async function deleteFloatingIp(tx: Db, caller: Caller, id: string): Promise<void> {
  const row = await getFloatingIpRow(tx, caller, id, true);
  await tx.delete(floatingIps).where(eq(floatingIps.id, id));
  await deletePort(tx, row.floatingPortId);
  if (row.routerId) await dataplaneChanged(tx, `router:${row.routerId}`);
}

/**
 * Lets go of every floating IP associated with a port that is about to be deleted: the port's
 * foreign key would clear port_id alone, leaving the router NAT'ing to an address nobody holds.
 * To be called by deletePort inside its transaction, before the port's row goes.
 */
export async function disassociatePort(tx: Db, portId: string): Promise<void> {
  const released = await tx
    .update(floatingIps)
    .set({ portId: null, fixedIpAddress: null, routerId: null, status: 'DOWN', revision: sql`${floatingIps.revision} + 1`, updatedAt: new Date() })
    .where(eq(floatingIps.portId, portId))
    .returning({ routerId: floatingIps.routerId });
  for (const r of released) if (r.routerId) await dataplaneChanged(tx, `router:${r.routerId}`);
}

/**
 * Refuses to take from a port a fixed IP that a floating IP stands for, as Neutron does. To be
 * called by updatePort inside its transaction with the addresses the port keeps.
 */
export async function checkFixedIpsKept(tx: Db, portId: string, kept: string[]): Promise<void> {
  const held = await tx.select({ ip: floatingIps.fixedIpAddress }).from(floatingIps).where(eq(floatingIps.portId, portId));
  if (held.some((f) => f.ip !== null && !kept.includes(f.ip)))
    throw badRequest(
      `Bad port request: Cannot update the fixed_ips of the port ${portId}, because its original fixed_ip has been associated to a floating ip.`,
      'BadRequest',
    );
}
