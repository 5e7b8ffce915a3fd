import type { PolicyLevel } from './tables.ts';

/** A raw measure: when (ms since the epoch) and its value. */
export interface Point {
  t: number;
  v: number;
}

/** What one bucket gains from a batch of measures; merged into the stored bucket on write. */
export interface BucketSums {
  granularity: number;
  /** The bucket's start, ms. */
  ts: number;
  count: number;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  last: number;
  lastAt: number;
  rcount: number;
  rsum: number;
  rsumsq: number;
  rmin: number | null;
  rmax: number | null;
  rlast: number | null;
}

export const bucketOf = (t: number, granularity: number) => Math.floor(t / (granularity * 1000)) * granularity * 1000;

/**
 * Rolls a batch of measures into per-bucket partial sums for every level. `previous` is the
 * metric's newest raw point before this batch: a rate is the difference between a point and the
 * one before it, counted in the newer point's bucket; points older than the newest seen count
 * in their buckets' values but not in a rate. Returns the partials and the new newest point.
 */
export function rollUp(points: Point[], levels: PolicyLevel[], previous?: Point): { partials: BucketSums[]; newest?: Point } {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const buckets = new Map<string, BucketSums>();
  let prev = previous;
  for (const p of sorted) {
    const rate = prev && p.t > prev.t ? p.v - prev.v : undefined;
    if (!prev || p.t > prev.t) prev = p;
    for (const { granularity } of levels) {
      const ts = bucketOf(p.t, granularity);
      const key = `${granularity}:${ts}`;
      let b = buckets.get(key);
      if (!b) {
        b = { granularity, ts, count: 0, sum: 0, sumsq: 0, min: p.v, max: p.v, last: p.v, lastAt: p.t, rcount: 0, rsum: 0, rsumsq: 0, rmin: null, rmax: null, rlast: null };
        buckets.set(key, b);
      }
      b.count += 1;
      b.sum += p.v;
      b.sumsq += p.v * p.v;
      b.min = Math.min(b.min, p.v);
      b.max = Math.max(b.max, p.v);
      if (p.t >= b.lastAt) [b.last, b.lastAt] = [p.v, p.t];
      if (rate !== undefined) {
        b.rcount += 1;
        b.rsum += rate;
        b.rsumsq += rate * rate;
        b.rmin = b.rmin === null ? rate : Math.min(b.rmin, rate);
        b.rmax = b.rmax === null ? rate : Math.max(b.rmax, rate);
        b.rlast = rate;
      }
    }
  }
  return { partials: [...buckets.values()], newest: prev };
}

/** The SQL expression of an aggregation method over a stored bucket's columns, and the condition
 * for the bucket to have a value of it (a rate needs two points, a deviation two values). */
export function methodSql(method: string): { value: string; has: string } {
  const rate = method.startsWith('rate:');
  const m = rate ? method.slice(5) : method;
  const c = (name: string) => (rate ? `r${name}` : name);
  const n = rate ? 'rcount' : 'count';
  const value: Record<string, string> = {
    mean: `${c('sum')} / ${n}`,
    min: rate ? 'rmin' : 'min',
    max: rate ? 'rmax' : 'max',
    sum: c('sum'),
    count: `${n}::float8`,
    last: rate ? 'rlast' : 'last',
    std: `sqrt(greatest(${c('sumsq')} - ${c('sum')} * ${c('sum')} / ${n}, 0) / (${n} - 1))`,
  };
  return { value: value[m]!, has: m === 'std' ? `${n} > 1` : `${n} > 0` };
}
