import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { isUniqueViolation } from '../lib/store/errors.ts';
import { readTime } from './measures.ts';
import { createMetric, type MetricRow } from './metrics.ts';
import { metrics, resources } from './tables.ts';
import { RESOURCE_TYPES, type Caller } from './types.ts';

export type ResourceRow = typeof resources.$inferSelect;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
// Names the ids of resources whose original id is no UUID (a port's "instance-…-tap…").
const NAMESPACE = Buffer.from('6c1c8e1c4b6a4d2a9a3f0e5b8c7d6a41', 'hex');

/** Gnocchi's resource id: the original when it is a UUID, else a name-based (v5) UUID of it. */
export function resourceId(original: string): string {
  if (UUID.test(original)) {
    const hex = original.replace(/-/g, '').toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const h = createHash('sha1').update(NAMESPACE).update(original).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function checkType(type: string): void {
  if (!RESOURCE_TYPES[type]) throw notFound(`Resource type ${type} does not exist`);
}

/** The rows a caller may see: an admin all, others those of their project or that it made. */
export const visibleResource = (c: Caller): SQL | undefined =>
  c.admin ? undefined : or(eq(resources.projectId, c.projectId), eq(resources.createdByProjectId, c.projectId));

export async function findResource(db: Db, caller: Caller, type: string, id: string): Promise<ResourceRow> {
  checkType(type);
  const rid = resourceId(id);
  const [r] = await db
    .select()
    .from(resources)
    .where(and(eq(resources.id, rid), type === 'generic' ? undefined : eq(resources.type, type), visibleResource(caller)));
  if (!r) throw notFound(`Resource ${id} does not exist`);
  return r;
}

/** Each resource's metrics, name → id. */
export async function metricsOf(db: Db, ids: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const rows = await db.select({ id: metrics.id, name: metrics.name, resourceId: metrics.resourceId }).from(metrics).where(inArray(metrics.resourceId, ids));
  for (const m of rows) out.get(m.resourceId!)![m.name!] = m.id;
  return out;
}

function readAttributes(type: string, body: Record<string, unknown>, creating: boolean): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  const known = new Set(['id', 'project_id', 'user_id', 'started_at', 'ended_at', 'metrics', 'original_resource_id']);
  for (const [name, spec] of Object.entries(RESOURCE_TYPES[type]!)) {
    const v = body[name];
    if (v === undefined) {
      if (creating && spec.required) throw badRequest(`Invalid input: required key not provided @ data['${name}']`);
      continue;
    }
    if (v !== null && spec.type === 'number' ? typeof v !== 'number' : v !== null && typeof v !== 'string') throw badRequest(`Invalid input: ${name} must be a ${spec.type}`);
    if (spec.type === 'uuid' && typeof v === 'string' && !UUID.test(v)) throw badRequest(`Invalid input: ${name} must be a UUID`);
    attrs[name] = v;
  }
  for (const k of Object.keys(body)) if (!known.has(k) && !(k in RESOURCE_TYPES[type]!)) throw badRequest(`Invalid input: extra keys not allowed @ data['${k}']`);
  return attrs;
}

/** Creates a resource and the metrics it names (name → {archive_policy_name, unit} or a metric id). */
export async function createResource(tx: Db, caller: Caller, type: string, body: Record<string, unknown>): Promise<ResourceRow> {
  checkType(type);
  if (typeof body.id !== 'string' || !body.id) throw badRequest("Invalid input: required key not provided @ data['id']");
  const attributes = readAttributes(type, body, true);
  const projectId = body.project_id === undefined ? caller.projectId : (body.project_id as string | null);
  // Only an admin records a resource for another project (the collector does, for each server's).
  if (!caller.admin && projectId !== caller.projectId) throw badRequest('Invalid input: project_id must be your own project');
  const row = {
    id: resourceId(body.id),
    originalResourceId: body.id,
    type,
    projectId,
    userId: body.user_id === undefined ? caller.userId : (body.user_id as string | null),
    createdByUserId: caller.userId,
    createdByProjectId: caller.projectId,
    startedAt: body.started_at ? new Date(readTime(body.started_at, 'started_at')) : new Date(),
    endedAt: body.ended_at ? new Date(readTime(body.ended_at, 'ended_at')) : null,
    revisionStart: new Date(),
    attributes,
  };
  try {
    await tx.insert(resources).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Resource ${body.id} already exists`);
    throw err;
  }
  await attachMetrics(tx, caller, row.id, body.metrics);
  return row;
}

async function attachMetrics(tx: Db, caller: Caller, id: string, wanted: unknown): Promise<void> {
  if (wanted === undefined) return;
  if (typeof wanted !== 'object' || wanted === null || Array.isArray(wanted)) throw badRequest('Invalid input: metrics must map names to metrics');
  for (const [name, m] of Object.entries(wanted)) {
    if (typeof m === 'string') {
      const moved = await tx.update(metrics).set({ resourceId: id, name }).where(and(eq(metrics.id, m), isNull(metrics.resourceId))).returning({ id: metrics.id });
      if (moved.length === 0) throw badRequest(`Metric ${m} does not exist or is already attached`);
    } else {
      const spec = (m ?? {}) as Record<string, unknown>;
      const [taken] = await tx.select({ id: metrics.id }).from(metrics).where(and(eq(metrics.resourceId, id), eq(metrics.name, name)));
      if (taken) throw conflict(`Named metric ${name} already exists`);
      await createMetric(tx, caller, { ...spec, name, resource_id: id }, true);
    }
  }
}

export async function updateResource(tx: Db, caller: Caller, type: string, id: string, body: Record<string, unknown>): Promise<ResourceRow> {
  const r = await findResource(tx, caller, type, id);
  const set: Partial<ResourceRow> = { attributes: { ...r.attributes, ...readAttributes(r.type, body, false) }, revisionStart: new Date() };
  if ('ended_at' in body) set.endedAt = body.ended_at === null ? null : new Date(readTime(body.ended_at, 'ended_at'));
  if ('started_at' in body) set.startedAt = new Date(readTime(body.started_at, 'started_at'));
  await tx.update(resources).set(set).where(eq(resources.id, r.id));
  await attachMetrics(tx, caller, r.id, body.metrics);
  return { ...r, ...set };
}

export async function deleteResource(tx: Db, caller: Caller, type: string, id: string): Promise<void> {
  const r = await findResource(tx, caller, type, id);
  await tx.execute(sql`delete from telemetry_aggregates where metric_id in (select id from telemetry_metrics where resource_id = ${r.id})`);
  await tx.delete(metrics).where(eq(metrics.resourceId, r.id));
  await tx.delete(resources).where(eq(resources.id, r.id));
}

export interface ListOptions {
  limit?: number;
  marker?: string;
  filter?: SQL;
}

/** Resources of a type (every type under generic) the caller sees, by id, a page at a time. */
export async function listResources(db: Db, caller: Caller, type: string, o: ListOptions = {}): Promise<ResourceRow[]> {
  checkType(type);
  const conds = [type === 'generic' ? undefined : eq(resources.type, type), visibleResource(caller)];
  if (o.marker) conds.push(sql`${resources.id} > ${resourceId(o.marker)}::uuid`);
  // The filter names the row r, as search's conditions are written.
  if (o.filter) conds.push(sql`exists (select 1 from telemetry_resources r where r.id = ${resources.id} and ${o.filter})`);
  return db
    .select()
    .from(resources)
    .where(and(...conds))
    .orderBy(resources.id)
    .limit(Math.min(o.limit ?? 1000, 1000));
}

export type { MetricRow };
