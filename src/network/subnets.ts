import { createHash, randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { bigIntToIp, canonicalIp, contains, formatCidr, ipToBigInt, ipVersion, overlaps, parseCidr, usableRange, type Cidr } from './addresses.ts';
import { dataplaneChanged } from './changes.ts';
import { allocateFree, poolRanges, type SubnetRow } from './ipam.ts';
import { getNetworkRow, mustOwn, type Caller } from './networks.ts';
import { createPort } from './ports.ts';
import { reserve } from './quotas.ts';
import { allocateFromPool, defaultPool, getPool } from './subnet-pools.ts';
import { visibleSubnets } from './visibility.ts';
import { ipAllocations, networks, ports, subnets, type AllocationPool, type HostRoute } from './tables.ts';

export type { SubnetRow };

export const DHCP_OWNER = 'network:dhcp';
export type Ipv6Mode = 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';

const invalid = (msg: string) => badRequest(`Invalid input for operation: ${msg}.`, 'InvalidInput');
export const subnetNotFound = (id: string) => notFound(`Subnet ${id} could not be found.`, 'SubnetNotFound');

export async function getSubnet(db: Db, caller: Caller, id: string, lock = false): Promise<SubnetRow> {
  const q = db
    .select()
    .from(subnets)
    .where(and(eq(subnets.id, id), visibleSubnets(caller)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw subnetNotFound(id);
  return row;
}

export function listSubnets(db: Db, caller: Caller, narrow: { networkIds?: string[]; ids?: string[] } = {}): Promise<SubnetRow[]> {
  return db
    .select()
    .from(subnets)
    .where(and(visibleSubnets(caller), narrow.networkIds && inArray(subnets.networkId, narrow.networkIds), narrow.ids && inArray(subnets.id, narrow.ids)))
    .orderBy(asc(subnets.id));
}

export interface SubnetInput {
  networkId: string;
  projectId: string;
  name: string;
  description: string;
  ipVersion: 4 | 6;
  /** Absent: allocated from the subnet pool. */
  cidr?: string;
  /** The pool to take the cidr from (or 'default': the default pool of the IP version). */
  subnetpoolId?: string;
  /** The size of the block taken from the pool (its default_prefixlen when absent). */
  prefixlen?: number;
  /** Absent: the first address of the cidr; null: no gateway. */
  gatewayIp?: string | null;
  allocationPools?: AllocationPool[];
  dnsNameservers: string[];
  hostRoutes: HostRoute[];
  enableDhcp: boolean;
  ipv6RaMode: Ipv6Mode | null;
  ipv6AddressMode: Ipv6Mode | null;
}

function parseSubnetCidr(text: string, version: 4 | 6): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) {
    const hint = ipVersion(text)
      ? `'${text}' isn't a recommended CIDR, it should be '${text}/${ipVersion(text) === 4 ? 32 : 128}'`
      : `'${text}' is not a valid IP subnet`;
    throw badRequest(`Invalid input for cidr. Reason: ${hint}.`);
  }
  if (cidr.version !== version) throw invalid(`Cidr ${text} does not match ip_version ${version}`);
  if (cidr.version === 6 && cidr.prefix === 128)
    throw invalid('Invalid CIDR ' + text + ' for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64');
  return cidr;
}

function checkGateway(cidr: Cidr, gateway: string | null): string | null {
  if (gateway === null) return null;
  if (ipVersion(gateway) !== cidr.version) throw badRequest(`Invalid input for gateway_ip. Reason: '${gateway}' is not a valid IP address.`);
  const n = ipToBigInt(gateway);
  if (contains(cidr, n)) {
    const usable = usableRange(cidr);
    if (n < usable.first || n > usable.last) throw invalid(`Gateway is not valid on subnet`);
  }
  return bigIntToIp(n, cidr.version);
}

/** The default pools: every usable address but the gateway's. */
function defaultPools(cidr: Cidr, gateway: string | null): { first: bigint; last: bigint }[] {
  const { first, last } = usableRange(cidr);
  if (first > last) return [];
  const gw = gateway === null ? undefined : ipToBigInt(gateway);
  if (gw === undefined || gw < first || gw > last) return [{ first, last }];
  return [
    { first, last: gw - 1n },
    { first: gw + 1n, last },
  ].filter((p) => p.first <= p.last);
}

const poolText = (p: AllocationPool) => `${p.start}-${p.end}`;

/** Pools as asked: inside the cidr, each start before its end, none overlapping, the gateway in none. */
function checkPools(cidr: Cidr, pools: AllocationPool[], gateway: string | null): AllocationPool[] {
  const usable = usableRange(cidr);
  const ranges = pools.map((p) => {
    if (ipVersion(p.start) !== cidr.version || ipVersion(p.end) !== cidr.version)
      throw badRequest(`Invalid input for allocation_pools. Reason: '${poolText(p)}' is not a valid IP range.`);
    const first = ipToBigInt(p.start);
    const last = ipToBigInt(p.end);
    const pool = { start: bigIntToIp(first, cidr.version), end: bigIntToIp(last, cidr.version) };
    if (first > last) throw invalid(`Start IP (${pool.start}) is greater than end IP (${pool.end})`);
    if (first < usable.first || last > usable.last)
      throw badRequest(`The allocation pool ${poolText(pool)} spans beyond the subnet cidr ${formatCidr(cidr)}.`, 'OutOfBoundsAllocationPool');
    return { first, last, pool };
  });
  for (let i = 0; i < ranges.length; i++)
    for (let j = i + 1; j < ranges.length; j++)
      if (overlaps(ranges[i]!, ranges[j]!))
        throw badRequest(
          `Found overlapping allocation pools: ${poolText(ranges[i]!.pool)} and ${poolText(ranges[j]!.pool)} for subnet ${formatCidr(cidr)}.`,
          'OverlappingAllocationPools',
        );
  if (gateway !== null) {
    const gw = ipToBigInt(gateway);
    const hit = ranges.find((r) => gw >= r.first && gw <= r.last);
    if (hit) throw conflict(`Gateway ip ${gateway} conflicts with allocation pool ${poolText(hit.pool)}`, 'GatewayConflictWithAllocationPools');
  }
  return ranges.map((r) => r.pool);
}

function checkNameservers(list: string[]): string[] {
  const out: string[] = [];
  for (const ns of list) {
    if (!ipVersion(ns)) throw badRequest(`Invalid input for dns_nameservers. Reason: '${ns}' is not a valid nameserver.`);
    const canonical = canonicalIp(ns);
    if (out.includes(canonical)) throw badRequest(`Invalid input for dns_nameservers. Reason: Duplicate nameserver '${ns}'.`);
    out.push(canonical);
  }
  return out;
}

function checkRoutes(version: 4 | 6, routes: HostRoute[]): HostRoute[] {
  const out: HostRoute[] = [];
  for (const r of routes) {
    const dest = parseCidr(r.destination);
    if (!dest || ipVersion(r.nexthop) === undefined)
      throw badRequest(`Invalid input for host_routes. Reason: '${JSON.stringify(r)}' is not a valid host route.`);
    if (dest.version !== version || ipVersion(r.nexthop) !== version)
      throw invalid(`Host route ${r.destination} via ${r.nexthop} does not match the subnet's IP version ${version}`);
    const route = { destination: formatCidr(dest), nexthop: canonicalIp(r.nexthop) };
    if (out.some((o) => o.destination === route.destination && o.nexthop === route.nexthop))
      throw badRequest(`Invalid input for host_routes. Reason: Duplicate hostroute '${r.destination}'.`);
    out.push(route);
  }
  return out;
}

function checkIpv6Modes(input: Pick<SubnetInput, 'ipVersion' | 'ipv6RaMode' | 'ipv6AddressMode' | 'enableDhcp'>, cidr: Cidr): void {
  const { ipv6RaMode: ra, ipv6AddressMode: addr } = input;
  if (input.ipVersion === 4) {
    if (ra) throw invalid('ipv6_ra_mode is not valid when ip_version is 4');
    if (addr) throw invalid('ipv6_address_mode is not valid when ip_version is 4');
    return;
  }
  if (ra && addr && ra !== addr)
    throw invalid(`ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${addr}' is not valid. If both attributes are set, they must be the same value`);
  if ((ra || addr) && !input.enableDhcp) throw invalid('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
  if ((addr === 'slaac' || addr === 'dhcpv6-stateless') && cidr.prefix !== 64)
    throw invalid(`Invalid CIDR ${formatCidr(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
}

/** The DHCP service's device id on a network: one per network, as Neutron names an agent's. */
export const dhcpDeviceId = (networkId: string) => `dhcp${createHash('sha1').update('nubo-dhcp').digest('hex').slice(0, 32)}-${networkId}`;

/**
 * Gives the network's DHCP service an address on a DHCP subnet: a new DHCP port with the subnet's
 * first free address, or one more address of the existing port.
 */
async function serveDhcp(tx: Db, network: { id: string; projectId: string }, subnet: SubnetRow): Promise<void> {
  if (!subnet.enableDhcp || !poolRanges(subnet).length) return;
  const [existing] = await tx
    .select()
    .from(ports)
    .where(and(eq(ports.networkId, network.id), eq(ports.deviceOwner, DHCP_OWNER)));
  if (!existing) {
    await createPort(tx, {
      networkId: network.id,
      projectId: network.projectId,
      deviceOwner: DHCP_OWNER,
      deviceId: dhcpDeviceId(network.id),
      fixedIps: [{ subnetId: subnet.id }],
    });
    return;
  }
  const [has] = await tx
    .select()
    .from(ipAllocations)
    .where(and(eq(ipAllocations.portId, existing.id), eq(ipAllocations.subnetId, subnet.id)));
  if (!has && (await allocateFree(tx, subnet, existing.id, existing.macAddress)))
    await dataplaneChanged(tx, `port:${existing.id}`, `network:${network.id}`, 'firewall');
}

/** Takes the DHCP service off a subnet; its port goes once it has no address left. */
async function unserveDhcp(tx: Db, subnet: SubnetRow): Promise<void> {
  const dhcp = await tx
    .select({ id: ports.id })
    .from(ports)
    .where(and(eq(ports.networkId, subnet.networkId), eq(ports.deviceOwner, DHCP_OWNER)));
  for (const p of dhcp) {
    await tx.delete(ipAllocations).where(and(eq(ipAllocations.portId, p.id), eq(ipAllocations.subnetId, subnet.id)));
    const [left] = await tx.select().from(ipAllocations).where(eq(ipAllocations.portId, p.id)).limit(1);
    if (!left) await tx.delete(ports).where(eq(ports.id, p.id));
    await dataplaneChanged(tx, `port:${p.id}`, 'firewall');
  }
}

/** The pool a subnet is made from, locked until the subnet is in: parallel creates queue on it. */
async function poolFor(tx: Db, caller: Caller, id: string, version: 4 | 6) {
  const pool = await getPool(tx, caller, id === 'default' ? (await defaultPool(tx, version)).id : id, true);
  if (pool.ipVersion !== version) throw badRequest(`Bad subnets request: ip_version ${version} does not match the subnet pool's IPv${pool.ipVersion}.`);
  return pool;
}

export async function createSubnet(tx: Db, caller: Caller, input: SubnetInput): Promise<SubnetRow> {
  // Serializes subnet changes of one network (overlap checks), without blocking its port creates.
  const network = await getNetworkRow(tx, caller, input.networkId, 'no key update');
  mustOwn(caller, network, 'create_subnet');
  const pool = input.subnetpoolId === undefined ? undefined : await poolFor(tx, caller, input.subnetpoolId, input.ipVersion);
  if (!pool && input.cidr === undefined) throw badRequest('Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
  if (pool && input.cidr !== undefined && input.prefixlen !== undefined)
    throw badRequest('Bad subnets request: cidr and prefixlen must not be supplied together.');
  const cidrText = pool ? await allocateFromPool(tx, pool, input.projectId, { cidr: input.cidr, prefixlen: input.prefixlen }) : input.cidr!;
  const cidr = parseSubnetCidr(cidrText, input.ipVersion);
  checkIpv6Modes(input, cidr);
  const gateway = checkGateway(cidr, input.gatewayIp === undefined ? bigIntToIp(usableRange(cidr).first, cidr.version) : input.gatewayIp);
  const pools =
    input.allocationPools === undefined
      ? defaultPools(cidr, gateway).map((p) => ({ start: bigIntToIp(p.first, cidr.version), end: bigIntToIp(p.last, cidr.version) }))
      : checkPools(cidr, input.allocationPools, gateway);
  const siblings = await tx.select().from(subnets).where(eq(subnets.networkId, network.id));
  const clash = siblings.find((s) => {
    const other = parseCidr(s.cidr)!;
    return other.version === cidr.version && overlaps(other, cidr);
  });
  if (clash) throw invalid(`Requested subnet with cidr: ${formatCidr(cidr)} for network: ${network.id} overlaps with another subnet`);
  await reserve(tx, input.projectId, 'subnet');
  const [row] = await tx
    .insert(subnets)
    .values({
      id: randomUUID(),
      networkId: network.id,
      projectId: input.projectId,
      name: input.name,
      description: input.description,
      ipVersion: input.ipVersion,
      cidr: formatCidr(cidr),
      gatewayIp: gateway,
      allocationPools: pools,
      dnsNameservers: checkNameservers(input.dnsNameservers),
      hostRoutes: checkRoutes(input.ipVersion, input.hostRoutes),
      enableDhcp: input.enableDhcp,
      ipv6RaMode: input.ipv6RaMode,
      ipv6AddressMode: input.ipv6AddressMode,
      subnetpoolId: pool?.id ?? null,
    })
    .returning();
  await serveDhcp(tx, network, row!);
  await dataplaneChanged(tx, `network:${network.id}`);
  return row!;
}

export interface SubnetChanges {
  name?: string;
  description?: string;
  gatewayIp?: string | null;
  allocationPools?: AllocationPool[];
  dnsNameservers?: string[];
  hostRoutes?: HostRoute[];
  enableDhcp?: boolean;
}

export async function updateSubnet(tx: Db, caller: Caller, id: string, changes: SubnetChanges): Promise<SubnetRow> {
  const row = await getSubnet(tx, caller, id, true);
  mustOwn(caller, row, 'update_subnet');
  const cidr = parseCidr(row.cidr)!;
  const gateway = changes.gatewayIp === undefined ? row.gatewayIp : checkGateway(cidr, changes.gatewayIp);
  const pools = checkPools(cidr, changes.allocationPools ?? row.allocationPools, gateway);
  const enableDhcp = changes.enableDhcp ?? row.enableDhcp;
  checkIpv6Modes(
    { ipVersion: row.ipVersion, ipv6RaMode: row.ipv6RaMode as Ipv6Mode | null, ipv6AddressMode: row.ipv6AddressMode as Ipv6Mode | null, enableDhcp },
    cidr,
  );
  const [updated] = await tx
    .update(subnets)
    .set({
      name: changes.name,
      description: changes.description,
      gatewayIp: gateway,
      allocationPools: pools,
      dnsNameservers: changes.dnsNameservers && checkNameservers(changes.dnsNameservers),
      hostRoutes: changes.hostRoutes && checkRoutes(row.ipVersion, changes.hostRoutes),
      enableDhcp,
      revision: sql`${subnets.revision} + 1`,
      updatedAt: new Date(),
    })
    .where(eq(subnets.id, id))
    .returning();
  if (enableDhcp && !row.enableDhcp) {
    const [network] = await tx.select().from(networks).where(eq(networks.id, row.networkId));
    await serveDhcp(tx, network!, updated!);
  } else if (!enableDhcp && row.enableDhcp) await unserveDhcp(tx, row);
  await dataplaneChanged(tx, `network:${row.networkId}`);
  return updated!;
}

export async function setSubnetTags(tx: Db, caller: Caller, id: string, tags: string[]): Promise<string[]> {
  const row = await getSubnet(tx, caller, id, true);
  mustOwn(caller, row, 'update_subnet');
  const unique = [...new Set(tags)];
  await tx
    .update(subnets)
    .set({ tags: unique, revision: sql`${subnets.revision} + 1`, updatedAt: new Date() })
    .where(eq(subnets.id, id));
  return unique;
}

/** A subnet goes with the DHCP service's addresses on it; any other port's address keeps it. */
export async function deleteSubnet(tx: Db, caller: Caller, id: string): Promise<void> {
  const row = await getSubnet(tx, caller, id, true);
  mustOwn(caller, row, 'delete_subnet');
  const [user] = await tx
    .select({ id: ipAllocations.portId })
    .from(ipAllocations)
    .innerJoin(ports, eq(ports.id, ipAllocations.portId))
    .where(and(eq(ipAllocations.subnetId, id), ne(ports.deviceOwner, DHCP_OWNER)))
    .limit(1);
  if (user) throw conflict(`Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`, 'SubnetInUse');
  await unserveDhcp(tx, row);
  await tx.delete(subnets).where(eq(subnets.id, id));
  await dataplaneChanged(tx, `network:${row.networkId}`);
}
