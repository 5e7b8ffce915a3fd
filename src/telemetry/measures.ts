import { and, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import { badRequest, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import type { ArchivePolicy } from './policies.ts';
import { bucketOf, methodSql, rollUp, type BucketSums, type Point } from './rollup.ts';
import { aggregates, archivePolicies, metrics } from './tables.ts';

type Row = Omit<BucketSums, 'ts' | 'lastAt'> & { metricId: string; ts: Date; lastAt: Date };

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
  const values: Row[] = [];
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
  // One statement per few thousand buckets, each column one array parameter (a batch never holds
  // one bucket twice): a parameter per value would cost more to send than the upsert itself.
  for (let i = 0; i < values.length; i += 5000) await upsert(tx, values.slice(i, i + 5000));
  await expire(tx, ids);
}

/** A PostgreSQL array literal of numbers, uuids or timestamps (nothing that needs quoting). */
const array = (items: (string | number | null)[]) => `{${items.map((v) => (v === null ? 'NULL' : String(v))).join(',')}}`;

/** Merges partial buckets into the stored ones: sums add up, extremes widen, the newest last wins. */
async function upsert(tx: Db, rows: Row[]): Promise<void> {
  const col = (f: (r: Row) => string | number | null) => array(rows.map(f));
  const newer = (c: string) => `case when excluded.last_at >= a.last_at then excluded.${c} else a.${c} end`;
  await tx.execute(sql`
    insert into telemetry_aggregates as a (metric_id, granularity, ts, count, sum, sumsq, min, max, last, last_at, rcount, rsum, rsumsq, rmin, rmax, rlast)
    select * from unnest(${col((r) => r.metricId)}::uuid[], ${col((r) => r.granularity)}::int[], ${col((r) => r.ts.toISOString())}::timestamptz[],
      ${col((r) => r.count)}::int[], ${col((r) => r.sum)}::float8[], ${col((r) => r.sumsq)}::float8[], ${col((r) => r.min)}::float8[],
      ${col((r) => r.max)}::float8[], ${col((r) => r.last)}::float8[], ${col((r) => r.lastAt.toISOString())}::timestamptz[],
      ${col((r) => r.rcount)}::int[], ${col((r) => r.rsum)}::float8[], ${col((r) => r.rsumsq)}::float8[], ${col((r) => r.rmin)}::float8[],
      ${col((r) => r.rmax)}::float8[], ${col((r) => r.rlast)}::float8[])
    on conflict (metric_id, granularity, ts) do update set
      count = a.count + excluded.count, sum = a.sum + excluded.sum, sumsq = a.sumsq + excluded.sumsq,
      min = least(a.min, excluded.min), max = greatest(a.max, excluded.max),
      last = ${sql.raw(newer('last'))}, last_at = greatest(a.last_at, excluded.last_at),
      rcount = a.rcount + excluded.rcount, rsum = a.rsum + excluded.rsum, rsumsq = a.rsumsq + excluded.rsumsq,
      rmin = least(a.rmin, excluded.rmin), rmax = greatest(a.rmax, excluded.rmax),
      rlast = coalesce(case when excluded.last_at >= a.last_at then excluded.rlast end, a.rlast)`);
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
  /** The period the measures are regrouped into, in seconds. */
  resample?: number;
}

/** Reads a resample period in seconds; one needs a granularity to start from. */
export function readResample(value: string | undefined, granularity: number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (granularity === undefined) throw badRequest('A granularity must be specified to resample');
  const period = Number(value);
  if (!(period > 0)) throw badRequest(`Invalid input: resample ${value} is not a number of seconds`);
  return period;
}

/** Reads a query string's start, stop, granularity, aggregation and resample. */
export function readMeasureQuery(q: Record<string, string | undefined>): MeasureQuery {
  const granularity = q.granularity ? Number(q.granularity) : undefined;
  if (granularity !== undefined && !(granularity > 0)) throw badRequest(`Invalid input: granularity ${q.granularity} is not a number of seconds`);
  return {
    start: q.start ? readTime(q.start, 'start') : undefined,
    stop: q.stop ? readTime(q.stop, 'stop') : undefined,
    granularity,
    aggregation: q.aggregation || 'mean',
    resample: readResample(q.resample, granularity),
  };
}

/** Checks that the policy keeps that method at that granularity; Gnocchi's 404 otherwise. */
export function checkServed(policy: Pick<ArchivePolicy, 'definition' | 'aggregationMethods'>, metricId: string, q: MeasureQuery): void {
  const served = policy.aggregationMethods.includes(q.aggregation) && (q.granularity === undefined || policy.definition.some((d) => d.granularity === q.granularity));
  if (!served) throw notFound(`Aggregation method '${q.aggregation}' at granularity '${q.granularity ?? ''}' for metric ${metricId} does not exist`);
}

export const iso = (d: Date) => d.toISOString().replace(/\.000Z$/, '+00:00').replace(/Z$/, '+00:00');

/** A metric's measures from its rolled-up buckets at the policy's granularities: coarsest first,
 * each in time order. A start inside a bucket takes that bucket, as Gnocchi rounds it down. */
export async function readMeasures(db: Db, metricId: string, q: MeasureQuery, granularities: number[]): Promise<Measure[]> {
  const { value, has } = methodSql(q.aggregation);
  const levels = granularities.filter((g) => q.granularity === undefined || g === q.granularity);
  if (levels.length === 0) return [];
  // Bounds worked out here per granularity, so that each level is one range of the primary key.
  const ranges = levels.map((g) =>
    and(
      eq(aggregates.granularity, g),
      q.start !== undefined ? gte(aggregates.ts, new Date(bucketOf(q.start, g))) : undefined,
      q.stop !== undefined ? lt(aggregates.ts, new Date(q.stop)) : undefined,
    ),
  );
  const rows = await db
    .select({ ts: aggregates.ts, granularity: aggregates.granularity, value: sql<number>`(${sql.raw(value)})::float8` })
    .from(aggregates)
    .where(and(eq(aggregates.metricId, metricId), sql.raw(has), or(...ranges)))
    .orderBy(sql`${aggregates.granularity} desc`, aggregates.ts);
  return rows.map((r) => [iso(r.ts), r.granularity, Number(r.value)]);
}
