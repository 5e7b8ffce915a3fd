import { randomUUID } from 'node:crypto';
import { and, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import { addMeasures } from '../measures.ts';
import { resourceId } from '../resources.ts';
import { metrics, resources } from '../tables.ts';

// Measures of things other than guests (images, routers, floating IPs): each sample names its
// resource and meters; the resource and its metrics are made on first sight, and the resources of
// a kind no longer seen are ended.

/** Counters get a policy that keeps their rate; gauges one that keeps their mean. */
export const CUMULATIVE = 'ceilometer-high-rate';
export const GAUGE = 'ceilometer-high';
export const COLLECTOR = 'nubo-telemetry';

export interface Meter {
  unit: string;
  cumulative: boolean;
  value: number;
}

export interface Sample {
  original: string;
  type: string;
  projectId: string | null;
  /** Absent when another collector owns the resource's attributes: the resource is then made
   * bare if missing, and otherwise left as it is (ended or not). */
  attributes?: Record<string, unknown>;
  meters: Record<string, Meter>;
}

/** Writes one poll's samples at time t; a resource's row is touched only when its attributes
 * changed since `known` last saw them. */
export async function writeSamples(tx: Db, samples: Sample[], t: number, known: Map<string, { attributes: string; metrics: Map<string, string> }>): Promise<void> {
  const batch = new Map<string, { t: number; v: number }[]>();
  for (const s of samples) {
    const attributes = JSON.stringify(s.attributes ?? null);
    let entry = known.get(s.original);
    if (!entry || entry.attributes !== attributes || Object.keys(s.meters).some((m) => !entry!.metrics.has(m))) {
      entry = { attributes, metrics: await ensure(tx, s) };
      known.set(s.original, entry);
    }
    for (const [name, m] of Object.entries(s.meters)) batch.set(entry.metrics.get(name)!, [{ t, v: m.value }]);
  }
  await addMeasures(tx, batch);
}

async function ensure(tx: Db, s: Sample): Promise<Map<string, string>> {
  const id = resourceId(s.original);
  const project = s.projectId ?? COLLECTOR;
  const insert = tx
    .insert(resources)
    .values({ id, originalResourceId: s.original, type: s.type, projectId: s.projectId, createdByUserId: COLLECTOR, createdByProjectId: project, attributes: s.attributes ?? {} });
  if (s.attributes) await insert.onConflictDoUpdate({ target: resources.id, set: { attributes: s.attributes, projectId: s.projectId, endedAt: null, revisionStart: new Date() } });
  else await insert.onConflictDoNothing();
  const have = new Map((await tx.select({ id: metrics.id, name: metrics.name }).from(metrics).where(eq(metrics.resourceId, id))).map((m) => [m.name!, m.id]));
  for (const [name, m] of Object.entries(s.meters)) {
    if (have.has(name)) continue;
    const metricId = randomUUID();
    await tx.insert(metrics).values({ id: metricId, name, unit: m.unit, resourceId: id, archivePolicyName: m.cumulative ? CUMULATIVE : GAUGE, createdByUserId: COLLECTOR, createdByProjectId: project });
    have.set(name, metricId);
  }
  return have;
}

/** Ends the collector's live resources of a type (and of a kind, by attributes) not in `present`. */
export async function endMissing(tx: Db, type: string, kind: Record<string, string> | undefined, present: string[]): Promise<void> {
  await tx
    .update(resources)
    .set({ endedAt: new Date() })
    .where(
      and(
        eq(resources.type, type),
        eq(resources.createdByUserId, COLLECTOR),
        isNull(resources.endedAt),
        ...Object.entries(kind ?? {}).map(([key, value]) => sql`${resources.attributes}->>${key} = ${value}`),
        present.length ? notInArray(resources.originalResourceId, present) : undefined,
      ),
    );
}
