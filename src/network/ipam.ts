// IP address management: fixed IPs of ports, taken from their subnets' allocation pools. The primary
// key of network_ip_allocations (subnet, address) is what keeps an address to one port: every
// allocation is an insert that does nothing on conflict, so a concurrent winner only makes the loser
// try its next candidate, and the surrounding transaction carries on.

import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { bigIntToIp, contains, eui64, ipToBigInt, ipVersion, parseCidr, usableRange, type Cidr } from './addresses.ts';
import { ipAllocations, subnets } from './tables.ts';

export type SubnetRow = typeof subnets.$inferSelect;

/** Pools up to this size are searched in order, so that addresses come out predictably (.2, .3…);
 * larger ones are probed at random first, which costs one insert however full the pool is. */
const SEQUENTIAL_MAX = 4096n;
const RANDOM_TRIES = 8;

export const cidrOf = (s: SubnetRow): Cidr => parseCidr(s.cidr)!;

/** SLAAC subnets give each port the address its MAC makes, not one from the pools. */
export const isAutoAddress = (s: SubnetRow) => s.ipVersion === 6 && (s.ipv6AddressMode === 'slaac' || s.ipv6AddressMode === 'dhcpv6-stateless');

export const invalidIpForSubnet = (ip: string) => badRequest(`IP address ${ip} is not a valid IP for the specified subnet.`, 'InvalidIpForSubnet');
const alreadyAllocated = (ip: string, subnetId: string) => conflict(`IP address ${ip} already allocated in subnet ${subnetId}`, 'IpAddressAlreadyAllocated');

async function claim(tx: Db, subnet: SubnetRow, portId: string, ip: string): Promise<boolean> {
  const rows = await tx
    .insert(ipAllocations)
    .values({ portId, subnetId: subnet.id, networkId: subnet.networkId, ipAddress: ip })
    .onConflictDoNothing()
    .returning({ ip: ipAllocations.ipAddress });
  return rows.length > 0;
}

/** Gives a port the address it asked for: any address of the subnet but its network (and IPv4
 * broadcast) address, inside the pools or not, the gateway included (a router's port takes it). */
export async function allocateAddress(tx: Db, subnet: SubnetRow, portId: string, requested: string): Promise<string> {
  const cidr = cidrOf(subnet);
  const version = ipVersion(requested);
  if (version !== cidr.version) throw invalidIpForSubnet(requested);
  const n = ipToBigInt(requested);
  const usable = usableRange(cidr);
  if (n < usable.first || n > usable.last) throw invalidIpForSubnet(requested);
  const ip = bigIntToIp(n, version);
  if (!(await claim(tx, subnet, portId, ip))) throw alreadyAllocated(ip, subnet.id);
  return ip;
}

/** The subnet's pools as numbers, in order. */
export function poolRanges(subnet: SubnetRow): { first: bigint; last: bigint }[] {
  return subnet.allocationPools.map((p) => ({ first: ipToBigInt(p.start), last: ipToBigInt(p.end) })).sort((a, b) => (a.first < b.first ? -1 : 1));
}

function randomBelow(n: bigint): bigint {
  return BigInt(`0x${randomBytes(20).toString('hex')}`) % n;
}

/**
 * Gives a port a free address of the subnet: its SLAAC address, or one from the pools that is
 * neither the gateway nor anyone's. Undefined when the pools are used up.
 */
export async function allocateFree(tx: Db, subnet: SubnetRow, portId: string, mac: string): Promise<string | undefined> {
  const cidr = cidrOf(subnet);
  if (isAutoAddress(subnet)) {
    const ip = bigIntToIp(eui64(cidr, mac), 6);
    if (!(await claim(tx, subnet, portId, ip))) throw alreadyAllocated(ip, subnet.id);
    return ip;
  }
  const pools = poolRanges(subnet);
  const size = pools.reduce((sum, p) => sum + p.last - p.first + 1n, 0n);
  if (size === 0n) return undefined;
  const gateway = subnet.gatewayIp ?? undefined;
  if (size > SEQUENTIAL_MAX) {
    for (let i = 0; i < RANDOM_TRIES; i++) {
      let k = randomBelow(size);
      const pool = pools.find((p) => (k <= p.last - p.first ? true : ((k -= p.last - p.first + 1n), false)))!;
      const ip = bigIntToIp(pool.first + k, cidr.version);
      if (ip !== gateway && (await claim(tx, subnet, portId, ip))) return ip;
    }
  }
  // Small pools, or a large one so full that random probes keep missing: walk it in order.
  const used = new Set((await tx.select({ ip: ipAllocations.ipAddress }).from(ipAllocations).where(eq(ipAllocations.subnetId, subnet.id))).map((r) => r.ip));
  for (const pool of pools) {
    for (let n = pool.first; n <= pool.last; n++) {
      const ip = bigIntToIp(n, cidr.version);
      if (ip === gateway || used.has(ip) || !contains(cidr, n)) continue;
      if (await claim(tx, subnet, portId, ip)) return ip;
    }
  }
  return undefined;
}

/** The fixed IPs of these ports, each with its subnet. */
export async function addressesWithSubnets(db: Db, portIds: string[]): Promise<{ portId: string; ipAddress: string; subnet: SubnetRow }[]> {
  if (!portIds.length) return [];
  return db
    .select({ portId: ipAllocations.portId, ipAddress: ipAllocations.ipAddress, subnet: subnets })
    .from(ipAllocations)
    .innerJoin(subnets, eq(subnets.id, ipAllocations.subnetId))
    .where(inArray(ipAllocations.portId, portIds));
}

/** Neutron's 409 when a network has no address left for a port. */
export const noMoreAddresses = (networkId: string) => conflict(`No more IP addresses available on network ${networkId}.`, 'IpAddressGenerationFailure');

/** Gives back some of a port's addresses (all of them when none are named). */
export async function releaseAddresses(tx: Db, portId: string, which?: { subnetId: string; ipAddress: string }[]): Promise<void> {
  if (!which) {
    await tx.delete(ipAllocations).where(eq(ipAllocations.portId, portId));
    return;
  }
  for (const a of which) {
    await tx
      .delete(ipAllocations)
      .where(and(eq(ipAllocations.portId, portId), eq(ipAllocations.subnetId, a.subnetId), eq(ipAllocations.ipAddress, a.ipAddress)));
  }
}
