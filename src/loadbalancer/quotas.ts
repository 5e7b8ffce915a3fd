// Octavia's quotas: how many load balancers, listeners, pools, health monitors, members, L7
// policies and rules a project may have (-1: no limit). A project's own setting wins over the
// default; a create beyond it is Octavia's 403. Rows count until they are gone, as Octavia's
// usage does until the deletion completes.

import { count, eq, sql } from 'drizzle-orm';
import { overQuota } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { healthMonitors, l7Policies, l7Rules, lbQuotas, listeners, loadBalancers, members, pools } from './tables.ts';

export const QUOTA_KINDS = {
  load_balancer: { column: 'loadBalancer', table: loadBalancers, label: 'Load Balancer' },
  listener: { column: 'listener', table: listeners, label: 'Listener' },
  pool: { column: 'pool', table: pools, label: 'Pool' },
  health_monitor: { column: 'healthMonitor', table: healthMonitors, label: 'Health Monitor' },
  member: { column: 'member', table: members, label: 'Member' },
  l7policy: { column: 'l7Policy', table: l7Policies, label: 'L7 Policy' },
  l7rule: { column: 'l7Rule', table: l7Rules, label: 'L7 Rule' },
} as const;
export type QuotaKind = keyof typeof QUOTA_KINDS;
export type Quota = Record<QuotaKind, number>;
type QuotaRow = typeof lbQuotas.$inferSelect;

/** Octavia's defaults (its default_*_quota options): no limit. */
export const DEFAULT_QUOTA: Quota = { load_balancer: -1, listener: -1, pool: -1, health_monitor: -1, member: -1, l7policy: -1, l7rule: -1 };

const kinds = Object.keys(QUOTA_KINDS) as QuotaKind[];

/** The quotas that apply to a project: its own where set, the default elsewhere. */
export async function quotaOf(db: Db, projectId: string): Promise<Quota> {
  const [row] = await db.select().from(lbQuotas).where(eq(lbQuotas.projectId, projectId));
  return Object.fromEntries(kinds.map((k) => [k, row?.[QUOTA_KINDS[k].column] ?? DEFAULT_QUOTA[k]])) as Quota;
}

/** The projects an admin set quotas for, each with what applies to it. */
export async function listQuotas(db: Db): Promise<{ projectId: string; quota: Quota }[]> {
  const rows = await db.select().from(lbQuotas).orderBy(lbQuotas.projectId);
  return rows.map((row) => ({
    projectId: row.projectId,
    quota: Object.fromEntries(kinds.map((k) => [k, row[QUOTA_KINDS[k].column] ?? DEFAULT_QUOTA[k]])) as Quota,
  }));
}

/** Sets the given limits (null: back to the default), keeping the others. */
export async function setQuota(db: Db, projectId: string, limits: Partial<Record<QuotaKind, number | null>>): Promise<void> {
  const set: Partial<QuotaRow> = {};
  for (const k of kinds) if (limits[k] !== undefined) (set as Record<string, number | null>)[QUOTA_KINDS[k].column] = limits[k]!;
  await db
    .insert(lbQuotas)
    .values({ projectId, ...set })
    .onConflictDoUpdate({ target: lbQuotas.projectId, set: Object.keys(set).length ? set : { projectId } });
}

export const resetQuota = (db: Db, projectId: string) => db.delete(lbQuotas).where(eq(lbQuotas.projectId, projectId));

/** Refuses (403) a new record of `kind` in the project once its quota is met. Takes the
 * project's lock first, so that two creates at once cannot both pass the last free place. */
export async function withinQuota(tx: Db, projectId: string, kind: QuotaKind): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lb-quota:${projectId}`}))`);
  const limit = (await quotaOf(tx, projectId))[kind];
  if (limit < 0) return;
  const t = QUOTA_KINDS[kind].table as typeof listeners;
  const [used] = await tx.select({ n: count() }).from(t).where(eq(t.projectId, projectId));
  if ((used?.n ?? 0) >= limit) throw overQuota(`Quota has been met for resources: ${QUOTA_KINDS[kind].label}`);
}
