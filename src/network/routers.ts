// Routers: a project's L3 hop between its subnets and, through a gateway port on an external
// network, the outside. The legs are ports whose device_id is the router's id; the router row holds
// what belongs to it alone (SNAT, extra routes). Every mutation locks the router row first, so that
// the checks on its legs (overlaps, floating IPs, routes) see no concurrent change.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { canonicalIp, contains, formatCidr, ipToBigInt, ipVersion, overlaps, parseCidr } from './addresses.ts';
import { dataplaneChanged } from './changes.ts';
import { addressesWithSubnets, type SubnetRow } from './ipam.ts';
import { getNetworkRow, mustOwn, type Caller } from './networks.ts';
import { createPort, deletePort, findPort, updatePort, type PortRow } from './ports.ts';
import { reserve } from './quotas.ts';
import { getSubnet } from './subnets.ts';
import { floatingIps, ipAllocations, ports, routers, subnets, type HostRoute } from './tables.ts';

export type RouterRow = typeof routers.$inferSelect;
export type FixedIp = { subnetId: string; ipAddress: string };

export interface Router extends RouterRow {
  /** The gateway leg, or null when the router has none. */
  gateway: { networkId: string; fixedIps: FixedIp[] } | null;
}

/** Whoever asked: how a transaction reads back what it has just written. */
export const SYSTEM: Caller = { projectId: '', isAdmin: true };

export const ROUTER_GATEWAY = 'network:router_gateway';
export const ROUTER_INTERFACE = 'network:router_interface';
/** Neutron's default max_routes. */
const MAX_ROUTES = 30;

export const routerNotFound = (id: string) => notFound(`Router ${id} could not be found`, 'RouterNotFound');
const badRouter = (msg: string) => badRequest(`Bad router request: ${msg}.`, 'BadRequest');
const gatewayInUse = (routerId: string, networkId: string) =>
  conflict(
    `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${networkId} is required by one or more floating IPs.`,
    'RouterExternalGatewayInUseByFloatingIp',
  );

const visibleRouters = (caller: Caller) => (caller.isAdmin ? undefined : eq(routers.projectId, caller.projectId));

/** A router the caller sees, locked for the rest of the transaction when asked. */
export async function getRouterRow(db: Db, caller: Caller, id: string, lock = false): Promise<RouterRow> {
  const query = db
    .select()
    .from(routers)
    .where(and(eq(routers.id, id), visibleRouters(caller)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw routerNotFound(id);
  return row;
}

/** Routers with their gateway legs, in one query whatever their number: by id for a few, by the
 * condition that found them for many (never one parameter per router). */
async function withGateways(db: Db, rows: RouterRow[], where: SQL | undefined): Promise<Router[]> {
  if (!rows.length) return [];
  const ids = rows.length <= 100 ? rows.map((r) => r.id) : db.select({ id: routers.id }).from(routers).where(where);
  const legs = await db
    .select({ routerId: ports.deviceId, networkId: ports.networkId, subnetId: ipAllocations.subnetId, ipAddress: ipAllocations.ipAddress })
    .from(ports)
    .leftJoin(ipAllocations, eq(ipAllocations.portId, ports.id))
    .where(and(eq(ports.deviceOwner, ROUTER_GATEWAY), inArray(ports.deviceId, ids)));
  return rows.map((r) => {
    const mine = legs.filter((l) => l.routerId === r.id);
    const fixedIps = mine.flatMap((l) => (l.subnetId && l.ipAddress ? [{ subnetId: l.subnetId, ipAddress: l.ipAddress }] : []));
    return { ...r, gateway: mine[0] ? { networkId: mine[0].networkId, fixedIps } : null };
  });
}

export async function getRouter(db: Db, caller: Caller, id: string): Promise<Router> {
  return (await withGateways(db, [await getRouterRow(db, caller, id)], undefined))[0]!;
}

export async function listRouters(db: Db, caller: Caller): Promise<Router[]> {
  const where = visibleRouters(caller);
  return withGateways(db, await db.select().from(routers).where(where).orderBy(asc(routers.createdAt), asc(routers.id)), where);
}

/** A leg of a router: its port and the subnets of its addresses. */
interface Leg {
  port: PortRow;
  ips: { ipAddress: string; subnet: SubnetRow }[];
}

async function legsOf(db: Db, routerId: string): Promise<Leg[]> {
  const rows = await db
    .select()
    .from(ports)
    .where(and(eq(ports.deviceId, routerId), inArray(ports.deviceOwner, [ROUTER_GATEWAY, ROUTER_INTERFACE])))
    .orderBy(asc(ports.createdAt), asc(ports.id));
  const allocations = await addressesWithSubnets(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((port) => ({ port, ips: allocations.filter((a) => a.portId === port.id) }));
}

const overlapping = (a: string, b: string) => {
  const [x, y] = [parseCidr(a)!, parseCidr(b)!];
  return x.version === y.version && overlaps(x, y);
};

/** Refuses new subnets for a router that already has a leg on one of them, or on one that
 * overlaps: it could not tell where to send their traffic. A gateway stands for every subnet of
 * its external network, as in Neutron. */
async function checkNewSubnets(tx: Db, legs: Leg[], added: SubnetRow[]): Promise<void> {
  const addedIds = new Set(added.map((s) => s.id));
  const existing: SubnetRow[] = [];
  for (const leg of legs) {
    const taken = leg.ips.find((ip) => addedIds.has(ip.subnet.id));
    if (taken) throw badRouter(`Router already has a port on subnet ${taken.subnet.id}`);
    if (leg.port.deviceOwner === ROUTER_GATEWAY) existing.push(...(await tx.select().from(subnets).where(eq(subnets.networkId, leg.port.networkId))));
    else existing.push(...leg.ips.map((ip) => ip.subnet));
  }
  for (const old of existing) {
    for (const s of added) {
      if (overlapping(old.cidr, s.cidr)) throw badRouter(`Cidr ${s.cidr} of subnet ${s.id} overlaps with cidr ${old.cidr} of subnet ${old.id}`);
    }
  }
}

/** Python's repr of routes: how Neutron quotes them in its messages. */
const routeRepr = (r: HostRoute) => `{'destination': '${r.destination}', 'nexthop': '${r.nexthop}'}`;
const routesRepr = (routes: HostRoute[]) => `[${routes.map(routeRepr).join(', ')}]`;
const invalidRoutes = (routes: HostRoute[], reason: string) => badRequest(`Invalid format for routes: ${routesRepr(routes)}, ${reason}`, 'InvalidRoutes');
const invalidRouteInput = (reason: string) => badRequest(`Invalid input for routes. Reason: ${reason}.`, 'InvalidInput');

/** Checks the form of routes as a client sent them: a CIDR and an address each, no duplicate. */
export function parseRoutes(routes: { destination: string; nexthop: string }[]): HostRoute[] {
  const seen = new Set<string>();
  return routes.map((r) => {
    const destination = parseCidr(r.destination);
    if (!destination) throw invalidRouteInput(`'${r.destination}' is not a valid IP subnet`);
    if (!ipVersion(r.nexthop)) throw invalidRouteInput(`'${r.nexthop}' is not a valid IP address`);
    // Kept as the kernel shows them (network address, compressed IPv6), so that the data plane's
    // routes match the store's and `ip route` never refuses host bits.
    const route = { destination: formatCidr(destination), nexthop: canonicalIp(r.nexthop) };
    const key = `${route.destination} ${route.nexthop}`;
    if (seen.has(key)) throw invalidRouteInput(`Duplicate hostroute '${routeRepr(r)}'`);
    seen.add(key);
    return route;
  });
}

/** A route must leave through a leg: its next hop on a subnet the router is on, and not the
 * router's own address. */
function checkRoutes(routerId: string, routes: HostRoute[], legs: Leg[]): void {
  if (routes.length > MAX_ROUTES)
    throw badRequest(`Unable to complete operation for ${routerId}. The number of routes exceeds the maximum ${MAX_ROUTES}.`, 'RoutesExhausted');
  const on = legs.flatMap((l) => l.ips);
  for (const r of routes) {
    const version = ipVersion(r.nexthop)!;
    const hop = ipToBigInt(r.nexthop);
    if (!on.some((ip) => ip.subnet.ipVersion === version && contains(parseCidr(ip.subnet.cidr)!, hop)))
      throw invalidRoutes(routes, 'the nexthop is not connected with router');
    if (on.some((ip) => ip.ipAddress === canonicalIp(r.nexthop))) throw invalidRoutes(routes, 'the nexthop is used by router');
  }
}

export interface GatewayInput {
  networkId: string;
  enableSnat?: boolean;
  externalFixedIps?: { subnetId?: string; ipAddress?: string }[];
}

/** Whether the addresses asked for differ from the gateway's: Neutron compares the subnets and
 * the addresses named, and asking for none keeps what there is. */
function addressesChange(current: Leg, wanted: GatewayInput['externalFixedIps']): boolean {
  if (!wanted?.length) return false;
  const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
  const subnetIds = new Set(wanted.flatMap((w) => (w.subnetId ? [w.subnetId] : [])));
  const addresses = new Set(wanted.flatMap((w) => (w.ipAddress ? [w.ipAddress] : [])));
  return !same(subnetIds, new Set(current.ips.map((ip) => ip.subnet.id))) || !same(addresses, new Set(current.ips.map((ip) => ip.ipAddress)));
}

async function floatingIpsThrough(tx: Db, routerId: string): Promise<boolean> {
  return (await tx.select({ id: floatingIps.id }).from(floatingIps).where(eq(floatingIps.routerId, routerId)).limit(1)).length > 0;
}

/** Sets, moves or clears (info null) a router's gateway; the caller holds the router's lock. */
async function setGateway(tx: Db, caller: Caller, router: RouterRow, info: GatewayInput | null): Promise<void> {
  const legs = await legsOf(tx, router.id);
  const current = legs.find((l) => l.port.deviceOwner === ROUTER_GATEWAY);
  const net = info && (await getNetworkRow(tx, caller, info.networkId, 'key share'));
  if (net && !net.external) throw badRouter(`Network ${net.id} is not an external network`);
  const externalSubnets = net ? await tx.select().from(subnets).where(eq(subnets.networkId, net.id)) : [];
  for (const ip of info?.externalFixedIps ?? []) {
    if (ip.ipAddress && externalSubnets.some((s) => s.gatewayIp === ip.ipAddress)) throw badRouter(`External IP ${ip.ipAddress} is the same as the gateway IP`);
  }
  // Neutron resets SNAT to its default whenever the gateway is set without it, or cleared.
  await tx
    .update(routers)
    .set({ enableSnat: info?.enableSnat ?? true })
    .where(eq(routers.id, router.id));
  if (current && net && current.port.networkId === net.id && !addressesChange(current, info!.externalFixedIps)) return;
  if (current) {
    // Floating IPs NAT'ed here need the gateway's network; new addresses on the same one keep them.
    if (current.port.networkId !== net?.id && (await floatingIpsThrough(tx, router.id))) throw gatewayInUse(router.id, current.port.networkId);
    await deletePort(tx, current.port.id);
  }
  if (!net) return;
  await checkNewSubnets(
    tx,
    legs.filter((l) => l !== current),
    externalSubnets,
  );
  // The gateway port belongs to no project: users never see or manage it, as in Neutron.
  await createPort(tx, {
    networkId: net.id,
    projectId: '',
    name: '',
    deviceId: router.id,
    deviceOwner: ROUTER_GATEWAY,
    adminStateUp: true,
    fixedIps: info!.externalFixedIps?.length ? info!.externalFixedIps : undefined,
  });
}

const touch = (tx: Db, id: string, changes: Partial<typeof routers.$inferInsert> = {}) =>
  tx
    .update(routers)
    .set({ ...changes, revision: sql`${routers.revision} + 1`, updatedAt: new Date() })
    .where(eq(routers.id, id));

export interface RouterInput {
  projectId: string;
  name: string;
  description: string;
  adminStateUp: boolean;
  gateway?: GatewayInput | null;
}

export async function createRouter(tx: Db, caller: Caller, input: RouterInput): Promise<Router> {
  await reserve(tx, input.projectId, 'router');
  const id = randomUUID();
  const [row] = await tx
    .insert(routers)
    .values({ id, projectId: input.projectId, name: input.name, description: input.description, adminStateUp: input.adminStateUp })
    .returning();
  if (input.gateway) await setGateway(tx, caller, row!, input.gateway);
  await dataplaneChanged(tx, `router:${id}`);
  return getRouter(tx, SYSTEM, id);
}

export interface RouterChanges {
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  /** null (or an empty object on the wire) clears the gateway. */
  gateway?: GatewayInput | null;
  routes?: HostRoute[];
}

export async function updateRouter(tx: Db, caller: Caller, id: string, changes: RouterChanges): Promise<Router> {
  const row = await getRouterRow(tx, caller, id, true);
  if (changes.gateway !== undefined) await setGateway(tx, caller, row, changes.gateway);
  const routes = changes.routes ?? row.routes;
  // A new gateway may take away the subnet an existing route's next hop is on.
  if (changes.routes !== undefined || changes.gateway !== undefined) checkRoutes(id, routes, await legsOf(tx, id));
  await touch(tx, id, { name: changes.name, description: changes.description, adminStateUp: changes.adminStateUp, routes });
  await dataplaneChanged(tx, `router:${id}`);
  return getRouter(tx, SYSTEM, id);
}

/** extraroute-atomic: adds routes to, or removes them from, the router's list. */
export async function changeRoutes(tx: Db, caller: Caller, id: string, routes: HostRoute[], add: boolean): Promise<Router> {
  const row = await getRouterRow(tx, caller, id, true);
  const key = (r: HostRoute) => `${r.destination} ${r.nexthop}`;
  const given = new Set(routes.map(key));
  const kept = row.routes.filter((r) => !given.has(key(r)));
  return updateRouter(tx, caller, id, { routes: add ? [...kept, ...routes] : kept });
}

export async function setRouterTags(tx: Db, caller: Caller, id: string, tags: string[]): Promise<string[]> {
  await getRouterRow(tx, caller, id, true);
  const unique = [...new Set(tags)];
  await touch(tx, id, { tags: unique });
  return unique;
}

export async function deleteRouter(tx: Db, caller: Caller, id: string): Promise<void> {
  await getRouterRow(tx, caller, id, true);
  const legs = await legsOf(tx, id);
  const interfaces = legs.filter((l) => l.port.deviceOwner === ROUTER_INTERFACE).map((l) => l.port.id);
  if (interfaces.length) throw conflict(`Router ${id} has ports still attached: ${interfaces.join(', ')}`, 'RouterInUse');
  const gateway = legs.find((l) => l.port.deviceOwner === ROUTER_GATEWAY);
  if (gateway) {
    if (await floatingIpsThrough(tx, id)) throw gatewayInUse(id, gateway.port.networkId);
    await deletePort(tx, gateway.port.id);
  }
  await tx.delete(routers).where(eq(routers.id, id));
  await dataplaneChanged(tx, `router:${id}`);
}

/** What add_router_interface and remove_router_interface answer. */
export interface InterfaceInfo {
  routerId: string;
  projectId: string;
  portId: string;
  networkId: string;
  subnetId: string;
  subnetIds: string[];
}

export type InterfaceInput = { subnetId?: string; portId?: string };

export async function addInterface(tx: Db, caller: Caller, id: string, input: InterfaceInput): Promise<InterfaceInfo> {
  if (input.subnetId === undefined && input.portId === undefined) throw badRouter('Either subnet_id or port_id must be specified');
  if (input.subnetId !== undefined && input.portId !== undefined) throw badRouter('Cannot specify both subnet-id and port-id');
  const router = await getRouterRow(tx, caller, id, true);
  const legs = await legsOf(tx, id);
  let port: PortRow;
  let added: SubnetRow[];
  if (input.portId !== undefined) {
    const taken = await findPort(tx, caller, input.portId, true);
    mustOwn(caller, taken, 'add_router_interface');
    if (taken.deviceId !== '')
      throw conflict(
        `Unable to complete operation on port ${taken.id} for network ${taken.networkId}. Port already has an attached device ${taken.deviceId}.`,
        'PortInUse',
      );
    if (!taken.fixedIps.length) throw badRouter('Router port must have at least one fixed IP');
    port = taken;
    added = await tx
      .select()
      .from(subnets)
      .where(
        inArray(
          subnets.id,
          taken.fixedIps.map((f) => f.subnetId),
        ),
      );
    await checkNewSubnets(tx, legs, added);
    if (added.filter((s) => s.ipVersion === 4).length > 1) throw badRouter('Cannot have multiple IPv4 subnets on router port');
    await updatePort(tx, port.id, { deviceId: id, deviceOwner: ROUTER_INTERFACE });
  } else {
    const subnet = await getSubnet(tx, caller, input.subnetId!);
    if (!subnet.gatewayIp) throw badRouter('Subnet for router interface must have a gateway IP');
    if (!caller.isAdmin && subnet.projectId !== caller.projectId)
      throw badRouter(`Cannot add interface to router because subnet ${subnet.id} is not owned by project making the request`);
    await checkNewSubnets(tx, legs, [subnet]);
    added = [subnet];
    // The router answers as the subnet's gateway.
    port = await createPort(tx, {
      networkId: subnet.networkId,
      projectId: router.projectId,
      name: '',
      deviceId: id,
      deviceOwner: ROUTER_INTERFACE,
      adminStateUp: true,
      fixedIps: [{ subnetId: subnet.id, ipAddress: subnet.gatewayIp }],
    });
  }
  await touch(tx, id);
  await dataplaneChanged(tx, `router:${id}`);
  return { routerId: id, projectId: port.projectId, portId: port.id, networkId: port.networkId, subnetId: added.at(-1)!.id, subnetIds: added.map((s) => s.id) };
}

/** Refuses to take a subnet away from a router while a floating IP or a route still needs it. */
async function checkInterfaceUnused(tx: Db, router: RouterRow, subnet: SubnetRow): Promise<void> {
  const [fip] = await tx
    .select({ id: floatingIps.id })
    .from(floatingIps)
    .innerJoin(ipAllocations, and(eq(ipAllocations.portId, floatingIps.portId), eq(ipAllocations.ipAddress, floatingIps.fixedIpAddress)))
    .where(and(eq(floatingIps.routerId, router.id), eq(ipAllocations.subnetId, subnet.id)))
    .limit(1);
  if (fip)
    throw conflict(
      `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
      'RouterInterfaceInUseByFloatingIP',
    );
  const cidr = parseCidr(subnet.cidr)!;
  if (router.routes.some((r) => ipVersion(r.nexthop) === cidr.version && contains(cidr, ipToBigInt(r.nexthop))))
    throw conflict(
      `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`,
      'RouterInterfaceInUseByRoute',
    );
}

export async function removeInterface(tx: Db, caller: Caller, id: string, input: InterfaceInput): Promise<InterfaceInfo> {
  if (input.subnetId === undefined && input.portId === undefined) throw badRouter('Either subnet_id or port_id must be specified');
  const router = await getRouterRow(tx, caller, id, true);
  const interfaces = (await legsOf(tx, id)).filter((l) => l.port.deviceOwner === ROUTER_INTERFACE);
  let leg: Leg;
  let removed: SubnetRow[];
  if (input.portId !== undefined) {
    const found = interfaces.find((l) => l.port.id === input.portId);
    if (!found) throw notFound(`Router ${id} does not have an interface with id ${input.portId}`, 'RouterInterfaceNotFound');
    if (input.subnetId !== undefined && !found.ips.some((ip) => ip.subnet.id === input.subnetId))
      throw badRequest(`Subnet on port ${input.portId} does not match the requested subnet ${input.subnetId}`, 'SubnetMismatchForPort');
    leg = found;
    removed = found.ips.map((ip) => ip.subnet);
  } else {
    const subnet = await getSubnet(tx, caller, input.subnetId!);
    const found = interfaces.find((l) => l.ips.some((ip) => ip.subnet.id === subnet.id));
    if (!found) throw notFound(`Router ${id} has no interface on subnet ${subnet.id}`, 'RouterInterfaceNotFoundForSubnet');
    leg = found;
    removed = [subnet];
  }
  for (const subnet of removed) await checkInterfaceUnused(tx, router, subnet);
  const kept = leg.ips.filter((ip) => !removed.some((s) => s.id === ip.subnet.id));
  // A port on several subnets of one network gives up only the one asked for.
  if (kept.length) await updatePort(tx, leg.port.id, { fixedIps: kept.map((ip) => ({ subnetId: ip.subnet.id, ipAddress: ip.ipAddress })) });
  else await deletePort(tx, leg.port.id);
  await touch(tx, id);
  await dataplaneChanged(tx, `router:${id}`);
  return {
    routerId: id,
    projectId: leg.port.projectId,
    portId: leg.port.id,
    networkId: leg.port.networkId,
    subnetId: removed[0]!.id,
    subnetIds: removed.map((s) => s.id),
  };
}
