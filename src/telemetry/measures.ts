import { and, eq, inArray, sql } from 'drizzle-orm';
import { badRequest, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import type { ArchivePolicy } from './policies.ts';
import { methodSql, rollUp, type Point } from './rollup.ts';
import { aggregates, archivePolicies, metrics } from './tables.ts';

/** A measure as Gnocchi lists it: bucket start (ISO), granularity (s), value. */
export type Measure = [string, number, number];

/** Reads a measure's timestamp: ISO 8601 (UTC when no zone is given, as Gnocchi does) or seconds
 * since the epoch. */
export function readTime(value: unknown, what = 'timestamp'): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string') {
    if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
    const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
    const t = Date.parse(zoned);
    if (!Number.isNaN(t)) return t;
  }
  throw badRequest(`Invalid input: ${what} ${JSON.stringify(value)} is not a date`);
}

/** A POSTed list of {timestamp, value}. */
export function readPoints(body: unknown): Point[] {
  if (!Array.isArray(body)) throw badRequest('Invalid input: measures must be a list of {timestamp, value}');
  return body.map((m: Record<string, unknown>) => {
    const v = typeof m?.value === 'string' ? Number(m.value) : m?.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`Invalid input: value ${JSON.stringify(m?.value)} is not a number`);
    return { t: readTime(m.timestamp), v };
  });
}

/**
 * Adds measures to metrics, rolled up at once into every level of each one's policy, and drops the
 * buckets that fell out of the policy's timespan. Points older than the back window (counted in
 * the coarsest granularity, from the metric's newest point) are ignored, as Gnocchi ignores them.
 */
export async function addMeasures(tx: Db, batch: Map<string, Point[]>): Promise<void> {
  const ids = [...batch.keys()].filter((id) => batch.get(id)!.length > 0);
  if (ids.length === 0) return;
  const rows = await tx
    .select({ id: metrics.id, lastAt: metrics.lastAt, lastValue: metrics.lastValue, definition: archivePolicies.definition, backWindow: archivePolicies.backWindow })
    .from(metrics)
    .innerJoin(archivePolicies, eq(archivePolicies.name, metrics.archivePolicyName))
    .where(inArray(metrics.id, ids))
    .for('update', { of: metrics });
  const values: (typeof aggregates.$inferInsert)[] = [];
  const newest: { id: string; p: Point }[] = [];
  for (const m of rows) {
    const coarsest = Math.max(...m.definition.map((d) => d.granularity)) * 1000;
    const previous = m.lastAt && m.lastValue !== null ? { t: m.lastAt.getTime(), v: m.lastValue } : undefined;
    const floor = previous ? Math.floor(previous.t / coarsest) * coarsest - m.backWindow * coarsest : -Infinity;
    const rolled = rollUp(batch.get(m.id)!.filter((p) => p.t >= floor), m.definition, previous);
    for (const p of rolled.partials) values.push({ metricId: m.id, ...p, ts: new Date(p.ts), lastAt: new Date(p.lastAt) });
    if (rolled.newest && rolled.newest !== previous) newest.push({ id: m.id, p: rolled.newest });
  }
  // Each metric's newest point, in one statement for the whole batch.
  for (let i = 0; i < newest.length; i += 2000) {
    const rows = sql.join(
      newest.slice(i, i + 2000).map(({ id, p }) => sql`(${id}::uuid, ${new Date(p.t).toISOString()}::timestamptz, ${p.v}::float8)`),
      sql`, `,
    );
    await tx.execute(sql`update telemetry_metrics m set last_at = v.t, last_value = v.v from (values ${rows}) as v(id, t, v) where m.id = v.id`);
  }
  // One statement per few thousand buckets; a batch never holds one bucket twice.
  for (let i = 0; i < values.length; i += 2000) {
    const a = (col: string) => sql.raw(`"telemetry_aggregates"."${col}"`);
    const x = (col: string) => sql.raw(`excluded."${col}"`);
    const add = (col: string) => sql`${a(col)} + ${x(col)}`;
    const newer = (col: string) => sql`case when ${x('last_at')} >= ${a('last_at')} then ${x(col)} else ${a(col)} end`;
    await tx
      .insert(aggregates)
      .values(values.slice(i, i + 2000))
      .onConflictDoUpdate({
        target: [aggregates.metricId, aggregates.granularity, aggregates.ts],
        set: {
          count: add('count'),
          sum: add('sum'),
          sumsq: add('sumsq'),
          min: sql`least(${a('min')}, ${x('min')})`,
          max: sql`greatest(${a('max')}, ${x('max')})`,
          last: newer('last'),
          lastAt: sql`greatest(${a('last_at')}, ${x('last_at')})`,
          rcount: add('rcount'),
          rsum: add('rsum'),
          rsumsq: add('rsumsq'),
          rmin: sql`least(${a('rmin')}, ${x('rmin')})`,
          rmax: sql`greatest(${a('rmax')}, ${x('rmax')})`,
          rlast: sql`coalesce(case when ${x('last_at')} >= ${a('last_at')} then ${x('rlast')} end, ${a('rlast')})`,
        },
      });
  }
  await expire(tx, ids);
}

/** Drops each level's buckets older than its timespan before the metric's newest point. */
async function expire(tx: Db, ids: string[]): Promise<void> {
  await tx.execute(sql`
    delete from telemetry_aggregates a
    using telemetry_metrics m, telemetry_archive_policies p, jsonb_array_elements(p.definition) d
    where m.id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )}) and a.metric_id = m.id and p.name = m.archive_policy_name
      and a.granularity = (d->>'granularity')::int
      and a.ts <= m.last_at - make_interval(secs => (d->>'granularity')::int * (d->>'points')::int)`);
}

export interface MeasureQuery {
  start?: number;
  stop?: number;
  granularity?: number;
  aggregation: string;
}

/** Reads a query string's start, stop, granularity and aggregation. */
export function readMeasureQuery(q: Record<string, string | undefined>): MeasureQuery {
  if (q.resample) throw badRequest('Invalid input: resample is not supported');
  const granularity = q.granularity ? Number(q.granularity) : undefined;
  if (granularity !== undefined && !(granularity > 0)) throw badRequest(`Invalid input: granularity ${q.granularity} is not a number of seconds`);
  return {
    start: q.start ? readTime(q.start, 'start') : undefined,
    stop: q.stop ? readTime(q.stop, 'stop') : undefined,
    granularity,
    aggregation: q.aggregation || 'mean',
  };
}

/** Checks that the policy keeps that method at that granularity; Gnocchi's 404 otherwise. */
export function checkServed(policy: Pick<ArchivePolicy, 'definition' | 'aggregationMethods'>, metricId: string, q: MeasureQuery): void {
  const served = policy.aggregationMethods.includes(q.aggregation) && (q.granularity === undefined || policy.definition.some((d) => d.granularity === q.granularity));
  if (!served) throw notFound(`Aggregation method '${q.aggregation}' at granularity '${q.granularity ?? ''}' for metric ${metricId} does not exist`);
}

const iso = (d: Date) => d.toISOString().replace(/\.000Z$/, '+00:00').replace(/Z$/, '+00:00');

/** A metric's measures from its rolled-up buckets: coarsest granularity first, each in time order. */
export async function readMeasures(db: Db, metricId: string, q: MeasureQuery): Promise<Measure[]> {
  const { value, has } = methodSql(q.aggregation);
  const conds = [eq(aggregates.metricId, metricId), sql.raw(has)];
  if (q.granularity !== undefined) conds.push(eq(aggregates.granularity, q.granularity));
  // A start inside a bucket takes that bucket, as Gnocchi rounds it down to the granularity.
  if (q.start !== undefined) conds.push(sql`${aggregates.ts} >= to_timestamp(floor(${q.start / 1000}::float8 / ${aggregates.granularity}) * ${aggregates.granularity})`);
  if (q.stop !== undefined) conds.push(sql`${aggregates.ts} < ${new Date(q.stop)}`);
  const rows = await db
    .select({ ts: aggregates.ts, granularity: aggregates.granularity, value: sql<number>`(${sql.raw(value)})::float8` })
    .from(aggregates)
    .where(and(...conds))
    .orderBy(sql`${aggregates.granularity} desc`, aggregates.ts);
  return rows.map((r) => [iso(r.ts), r.granularity, Number(r.value)]);
}
