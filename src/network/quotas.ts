import { count, eq, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { ApiError } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { floatingIps, networks, ports, quotas, routers, securityGroupRules, securityGroups, subnets } from './tables.ts';

/** Neutron's quota resources and their default limits (-1: unlimited). */
export const QUOTA_DEFAULTS = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
} as const;

export type NetworkResource = keyof typeof QUOTA_DEFAULTS;
export type QuotaSet = Record<NetworkResource, number>;
export const isNetworkResource = (k: string): k is NetworkResource => Object.hasOwn(QUOTA_DEFAULTS, k);
export const RESOURCES = Object.keys(QUOTA_DEFAULTS) as NetworkResource[];

/** The table whose rows of a project count against each resource, and its owner column. */
const counted: Record<NetworkResource, [PgTable, AnyPgColumn]> = {
  network: [networks, networks.projectId],
  subnet: [subnets, subnets.projectId],
  port: [ports, ports.projectId],
  router: [routers, routers.projectId],
  floatingip: [floatingIps, floatingIps.projectId],
  security_group: [securityGroups, securityGroups.projectId],
  security_group_rule: [securityGroupRules, securityGroupRules.projectId],
};

/**
 * Holds the project's quota lock until the transaction ends: two creates that both count, then
 * both insert, would otherwise pass the limit together. Re-entrant within one transaction.
 */
export const lockProjectQuota = (tx: Db, projectId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`network-quota:${projectId}`}))`);

export async function limitsOf(db: Db, projectId: string): Promise<QuotaSet> {
  const rows = await db.select().from(quotas).where(eq(quotas.projectId, projectId));
  const out: QuotaSet = { ...QUOTA_DEFAULTS };
  for (const r of rows) if (isNetworkResource(r.resource)) out[r.resource] = r.hardLimit;
  return out;
}

export async function usageOf(db: Db, projectId: string, resource: NetworkResource): Promise<number> {
  const [table, owner] = counted[resource];
  const [row] = await db.select({ n: count() }).from(table).where(eq(owner, projectId));
  return row?.n ?? 0;
}

export async function usagesOf(db: Db, projectId: string): Promise<QuotaSet> {
  const counts = await Promise.all(RESOURCES.map((r) => usageOf(db, projectId, r)));
  return Object.fromEntries(RESOURCES.map((r, i) => [r, counts[i]])) as QuotaSet;
}

export async function setLimits(db: Db, projectId: string, limits: Partial<QuotaSet>): Promise<void> {
  for (const [resource, hardLimit] of Object.entries(limits)) {
    await db
      .insert(quotas)
      .values({ projectId, resource, hardLimit })
      .onConflictDoUpdate({ target: [quotas.projectId, quotas.resource], set: { hardLimit } });
  }
}

export const resetLimits = (db: Db, projectId: string) => db.delete(quotas).where(eq(quotas.projectId, projectId));

/** The projects whose limits differ from the defaults somewhere. */
export async function projectsWithLimits(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ projectId: quotas.projectId }).from(quotas).orderBy(quotas.projectId);
  return rows.map((r) => r.projectId);
}

/** Neutron's 409 OverQuota, with the resource list as Python prints it. */
export const quotaExceeded = (resources: NetworkResource[]) =>
  new ApiError('Conflict', `Quota exceeded for resources: [${resources.map((r) => `'${r}'`).join(', ')}].`, 'OverQuota');

/** Checks, inside the transaction that creates them, that the project may hold count more of
 * resource; concurrent creates are serialized per project so that none passes the limit.
 * Over the limit: Neutron's 409 OverQuota. */
export async function reserve(tx: Db, projectId: string, resource: NetworkResource, count = 1): Promise<void> {
  await lockProjectQuota(tx, projectId);
  const limit = (await limitsOf(tx, projectId))[resource];
  if (limit < 0) return;
  if ((await usageOf(tx, projectId, resource)) + count > limit) throw quotaExceeded([resource]);
}
