import { randomUUID } from 'node:crypto';
import { and, eq, exists, gt, or, sql, type SQL } from 'drizzle-orm';
import { badRequest, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { findPolicy, policyForName } from './policies.ts';
import { metrics, resources } from './tables.ts';
import type { Caller } from './types.ts';

export type MetricRow = typeof metrics.$inferSelect;

/** A metric is the caller's when they made it or when its resource is their project's. */
export const visibleMetric = (c: Caller): SQL | undefined =>
  c.admin
    ? undefined
    : or(
        eq(metrics.createdByProjectId, c.projectId),
        exists(
          sql`(select 1 from telemetry_resources r where r.id = ${metrics.resourceId} and (r.project_id = ${c.projectId} or r.created_by_project_id = ${c.projectId}))`,
        ),
      );

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates a metric; its policy is the one named, else the one the rules give its name. */
export async function createMetric(tx: Db, caller: Caller, body: Record<string, unknown>, onResource = false): Promise<MetricRow> {
  const name = body.name === undefined || body.name === null ? undefined : String(body.name);
  if (name !== undefined && (name === '' || name.includes('/'))) throw badRequest('Invalid input: a metric name is not empty and has no slash');
  if (body.unit !== undefined && body.unit !== null && (typeof body.unit !== 'string' || body.unit.length > 31)) throw badRequest('Invalid input: unit is a string of at most 31 characters');
  const policy = typeof body.archive_policy_name === 'string' ? body.archive_policy_name : await policyForName(tx, name);
  await findPolicy(tx, policy).catch(() => {
    throw badRequest(`Archive policy ${policy} does not exist`);
  });
  if (!onResource && body.resource_id !== undefined) throw badRequest('Invalid input: a metric is attached to a resource through the resource');
  const row: MetricRow = {
    id: randomUUID(),
    name: name ?? null,
    unit: (body.unit as string | undefined) ?? null,
    resourceId: onResource ? (body.resource_id as string) : null,
    archivePolicyName: policy,
    createdByUserId: caller.userId,
    createdByProjectId: caller.projectId,
    createdAt: new Date(),
    lastAt: null,
    lastValue: null,
  };
  await tx.insert(metrics).values(row);
  return row;
}

export async function findMetric(db: Db, caller: Caller, id: string): Promise<MetricRow> {
  if (!UUID.test(id)) throw notFound(`Metric ${id} does not exist`);
  const [m] = await db.select().from(metrics).where(and(eq(metrics.id, id), visibleMetric(caller)));
  if (!m) throw notFound(`Metric ${id} does not exist`);
  return m;
}

/** A resource's metric by name; the resource is looked up (and its visibility checked) first. */
export async function findNamedMetric(db: Db, resourceUuid: string, name: string): Promise<MetricRow> {
  const [m] = await db.select().from(metrics).where(and(eq(metrics.resourceId, resourceUuid), eq(metrics.name, name)));
  if (!m) throw notFound(`Metric ${name} does not exist`);
  return m;
}

export async function listMetrics(db: Db, caller: Caller, o: { limit?: number; marker?: string; name?: string } = {}): Promise<MetricRow[]> {
  return db
    .select()
    .from(metrics)
    .where(and(visibleMetric(caller), o.marker && UUID.test(o.marker) ? gt(metrics.id, o.marker) : undefined, o.name ? eq(metrics.name, o.name) : undefined))
    .orderBy(metrics.id)
    .limit(Math.min(o.limit ?? 1000, 1000));
}

export async function deleteMetric(tx: Db, m: MetricRow): Promise<void> {
  await tx.execute(sql`delete from telemetry_aggregates where metric_id = ${m.id}`);
  await tx.delete(metrics).where(eq(metrics.id, m.id));
}

/** The metrics of live resources matching a resource filter, by name, that the caller sees. */
export async function metricsByName(db: Db, caller: Caller, name: string, type: string, filter?: SQL) {
  return db
    .select({ metric: metrics, resource: resources })
    .from(metrics)
    .innerJoin(resources, eq(resources.id, metrics.resourceId))
    .where(
      and(
        eq(metrics.name, name),
        type === 'generic' ? undefined : eq(resources.type, type),
        caller.admin ? undefined : or(eq(resources.projectId, caller.projectId), eq(resources.createdByProjectId, caller.projectId)),
        filter ? sql`exists (select 1 from telemetry_resources r where r.id = ${resources.id} and ${filter})` : undefined,
      ),
    )
    .orderBy(resources.id);
}

