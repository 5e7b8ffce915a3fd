// Subnet pools: prefixes that subnets take their cidrs from. A subnet made with a pool (and a
// prefix length) gets the lowest free block of that size; the pool's row is locked for the
// allocation, so that two parallel creates never take the same block.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, or, sql } from 'drizzle-orm';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { bigIntToIp, formatCidr, overlaps, parseCidr, type Cidr } from './addresses.ts';
import { getScope } from './address-scopes.ts';
import { subnetPools, subnets } from './tables.ts';
import type { Caller } from './visibility.ts';

export type SubnetPool = typeof subnetPools.$inferSelect;

const BITS = { 4: 32, 6: 128 } as const;
/** Neutron's bounds when none are given: no block shorter than /8 (/64 for IPv6). */
const DEFAULT_MIN = { 4: 8, 6: 64 } as const;

export const poolNotFound = (id: string) => notFound(`Subnet pool ${id} could not be found.`, 'SubnetPoolNotFound');
const invalid = (msg: string) => badRequest(`Invalid input for operation: ${msg}.`, 'InvalidInput');
const visiblePools = (caller: Caller) => (caller.isAdmin ? undefined : or(eq(subnetPools.projectId, caller.projectId), eq(subnetPools.shared, true)));

export async function getPool(db: Db, caller: Caller, id: string, lock = false): Promise<SubnetPool> {
  const q = db
    .select()
    .from(subnetPools)
    .where(and(eq(subnetPools.id, id), visiblePools(caller)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw poolNotFound(id);
  return row;
}

export const listPools = (db: Db, caller: Caller) => db.select().from(subnetPools).where(visiblePools(caller)).orderBy(asc(subnetPools.id));

/** The default pool of an IP version, for use_default_subnetpool. */
export async function defaultPool(db: Db, version: 4 | 6): Promise<SubnetPool> {
  const [row] = await db
    .select()
    .from(subnetPools)
    .where(and(eq(subnetPools.isDefault, true), eq(subnetPools.ipVersion, version)));
  if (!row) throw badRequest(`No default subnetpool found for IPv${version}.`, 'BadRequest');
  return row;
}

/** Prefixes as given, normalized, of one IP version, sorted, with the overlapping ones merged away. */
function parsePrefixes(texts: string[]): { version: 4 | 6; prefixes: Cidr[] } {
  if (!texts.length) throw invalid('prefixes must not be empty');
  const cidrs = texts.map((t) => {
    const c = parseCidr(t);
    if (!c) throw badRequest(`Invalid input for prefixes. Reason: '${t}' is not a valid IP subnet.`);
    return c;
  });
  const version = cidrs[0]!.version;
  if (cidrs.some((c) => c.version !== version))
    throw badRequest('Illegal subnetpool prefix: Cannot mix IPv4 and IPv6 prefixes in a subnet pool.', 'IllegalSubnetPoolPrefixUpdate');
  cidrs.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.prefix - b.prefix));
  const kept: Cidr[] = [];
  for (const c of cidrs) if (!kept.some((k) => k.first <= c.first && c.last <= k.last)) kept.push(c);
  return { version, prefixes: kept };
}

interface Bounds {
  minPrefixlen?: number;
  maxPrefixlen?: number;
  defaultPrefixlen?: number;
}

function checkBounds(version: 4 | 6, b: Required<Bounds>): void {
  const bits = BITS[version];
  for (const [name, v] of Object.entries(b))
    if (v < 0 || v > bits) throw invalid(`Illegal prefix bounds: ${name.replace(/[A-Z]/, (c) => `_${c.toLowerCase()}`)}=${v}`);
  if (b.minPrefixlen > b.maxPrefixlen || b.defaultPrefixlen < b.minPrefixlen || b.defaultPrefixlen > b.maxPrefixlen)
    throw badRequest(
      `Illegal prefix bounds: min_prefixlen=${b.minPrefixlen}, default_prefixlen=${b.defaultPrefixlen}, max_prefixlen=${b.maxPrefixlen}.`,
      'IllegalSubnetPoolPrefixBounds',
    );
}

export interface PoolInput extends Bounds {
  projectId: string;
  name: string;
  description: string;
  prefixes: string[];
  isDefault: boolean;
  shared: boolean;
  defaultQuota: number | null;
  addressScopeId: string | null;
}

export async function createPool(tx: Db, caller: Caller, input: PoolInput): Promise<SubnetPool> {
  const { version, prefixes } = parsePrefixes(input.prefixes);
  const bounds = {
    minPrefixlen: input.minPrefixlen ?? DEFAULT_MIN[version],
    maxPrefixlen: input.maxPrefixlen ?? BITS[version],
    defaultPrefixlen: input.defaultPrefixlen ?? input.minPrefixlen ?? DEFAULT_MIN[version],
  };
  checkBounds(version, bounds);
  if (input.addressScopeId) {
    const scope = await getScope(tx, caller, input.addressScopeId);
    if (scope.ipVersion !== version)
      throw badRequest(`Illegal subnetpool association: subnetpool cannot be associated with address scope ${scope.id} as their IP versions differ.`);
  }
  const [row] = await tx
    .insert(subnetPools)
    .values({
      id: randomUUID(),
      projectId: input.projectId,
      name: input.name,
      description: input.description,
      ipVersion: version,
      prefixes: prefixes.map(formatCidr),
      ...bounds,
      isDefault: input.isDefault,
      shared: input.shared,
      defaultQuota: input.defaultQuota,
      addressScopeId: input.addressScopeId,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw defaultExists(version);
  return row;
}

const defaultExists = (version: number) =>
  conflict(`A default subnetpool for this IP family (IPv${version}) has already been set.`, 'InvalidSubnetPoolDefault');

export interface PoolChanges extends Bounds {
  name?: string;
  description?: string;
  prefixes?: string[];
  isDefault?: boolean;
  defaultQuota?: number | null;
  addressScopeId?: string | null;
}

export async function updatePool(tx: Db, caller: Caller, id: string, changes: PoolChanges): Promise<SubnetPool> {
  const row = await getPool(tx, caller, id, true);
  if (!caller.isAdmin && row.projectId !== caller.projectId) throw forbidden("Policy doesn't allow update_subnetpool to be performed.");
  let prefixes = row.prefixes;
  if (changes.prefixes) {
    const parsed = parsePrefixes([...row.prefixes, ...changes.prefixes]);
    // A pool only grows: every old prefix stays covered by the new ones.
    const asked = parsePrefixes(changes.prefixes).prefixes;
    if (parsed.version !== row.ipVersion || row.prefixes.some((p) => !asked.some((a) => a.first <= parseCidr(p)!.first && parseCidr(p)!.last <= a.last)))
      throw badRequest(`Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.`, 'IllegalSubnetPoolPrefixUpdate');
    prefixes = asked.map(formatCidr);
  }
  const bounds = {
    minPrefixlen: changes.minPrefixlen ?? row.minPrefixlen,
    maxPrefixlen: changes.maxPrefixlen ?? row.maxPrefixlen,
    defaultPrefixlen: changes.defaultPrefixlen ?? row.defaultPrefixlen,
  };
  checkBounds(row.ipVersion, bounds);
  if (changes.addressScopeId) await getScope(tx, caller, changes.addressScopeId);
  if (changes.isDefault && !row.isDefault) {
    const [other] = await tx
      .select({ id: subnetPools.id })
      .from(subnetPools)
      .where(and(eq(subnetPools.isDefault, true), eq(subnetPools.ipVersion, row.ipVersion)));
    if (other) throw defaultExists(row.ipVersion);
  }
  const [updated] = await tx
    .update(subnetPools)
    .set({
      name: changes.name,
      description: changes.description,
      prefixes,
      ...bounds,
      isDefault: changes.isDefault,
      defaultQuota: changes.defaultQuota,
      addressScopeId: changes.addressScopeId,
      revision: sql`${subnetPools.revision} + 1`,
      updatedAt: new Date(),
    })
    .where(eq(subnetPools.id, id))
    .returning();
  return updated!;
}

export async function setPoolTags(tx: Db, caller: Caller, id: string, tags: string[]): Promise<string[]> {
  const row = await getPool(tx, caller, id, true);
  if (!caller.isAdmin && row.projectId !== caller.projectId) throw forbidden("Policy doesn't allow update_subnetpool to be performed.");
  const unique = [...new Set(tags)];
  await tx
    .update(subnetPools)
    .set({ tags: unique, revision: sql`${subnetPools.revision} + 1`, updatedAt: new Date() })
    .where(eq(subnetPools.id, id));
  return unique;
}

export async function deletePool(tx: Db, caller: Caller, id: string): Promise<void> {
  const row = await getPool(tx, caller, id, true);
  if (!caller.isAdmin && row.projectId !== caller.projectId) throw forbidden("Policy doesn't allow delete_subnetpool to be performed.");
  const [user] = await tx.select({ id: subnets.id }).from(subnets).where(eq(subnets.subnetpoolId, id)).limit(1);
  if (user) throw conflict(`Unable to complete operation on subnet pool ${id}. There are one or more subnets in use on the subnet pool.`, 'SubnetPoolInUse');
  await tx.delete(subnetPools).where(eq(subnetPools.id, id));
}

/**
 * The cidr of a subnet made from the pool: the one asked for (inside the pool, free), or the lowest
 * free block of the prefix length. The pool must be locked by the caller (getPool with lock).
 */
export async function allocateFromPool(tx: Db, pool: SubnetPool, projectId: string, ask: { cidr?: string; prefixlen?: number }): Promise<string> {
  const prefixes = pool.prefixes.map((p) => parseCidr(p)!);
  const taken = (await tx.select({ cidr: subnets.cidr, projectId: subnets.projectId }).from(subnets).where(eq(subnets.subnetpoolId, pool.id))).map((s) => ({
    ...parseCidr(s.cidr)!,
    projectId: s.projectId,
  }));
  const length = ask.cidr ? parseCidr(ask.cidr)?.prefix : (ask.prefixlen ?? pool.defaultPrefixlen);
  if (length === undefined) throw badRequest(`Invalid input for cidr. Reason: '${ask.cidr}' is not a valid IP subnet.`);
  if (length < pool.minPrefixlen || length > pool.maxPrefixlen)
    throw badRequest(
      `Unsupported request type: prefixlen ${length} is not within the bounds ${pool.minPrefixlen}-${pool.maxPrefixlen} of the subnet pool.`,
      'IllegalSubnetPoolPrefixBounds',
    );
  if (pool.defaultQuota !== null) {
    const used = taken.filter((t) => t.projectId === projectId).reduce((n, t) => n + (t.last - t.first + 1n), 0n);
    if (used + (1n << BigInt(BITS[pool.ipVersion] - length)) > BigInt(pool.defaultQuota))
      throw conflict(`Per-tenant subnet pool prefix quota exceeded.`, 'SubnetPoolQuotaExceeded');
  }
  if (ask.cidr) {
    const want = parseCidr(ask.cidr)!;
    if (want.version !== pool.ipVersion || !prefixes.some((p) => p.first <= want.first && want.last <= p.last))
      throw badRequest(`Cidr ${formatCidr(want)} is not within the prefixes of subnet pool ${pool.id}.`, 'SubnetAllocationError');
    if (taken.some((t) => overlaps(t, want)))
      throw conflict(`Failed to allocate subnet: Cidr ${formatCidr(want)} is already allocated in subnet pool ${pool.id}.`, 'SubnetAllocationError');
    return formatCidr(want);
  }
  const size = 1n << BigInt(BITS[pool.ipVersion] - length);
  for (const p of prefixes) {
    if (p.prefix > length) continue;
    let at = p.first;
    while (at + size - 1n <= p.last) {
      const block = { first: at, last: at + size - 1n };
      const hit = taken.filter((t) => overlaps(t, block));
      if (!hit.length) return `${bigIntToIp(at, pool.ipVersion)}/${length}`;
      // Past the last block in the way, rounded up to the next boundary of this size.
      const end = hit.reduce((m, t) => (t.last > m ? t.last : m), 0n) + 1n;
      at = ((end + size - 1n) / size) * size;
    }
  }
  throw conflict(`Failed to allocate subnet: Insufficient prefix space to allocate subnet size /${length}.`, 'SubnetAllocationError');
}
