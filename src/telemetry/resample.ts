import { badRequest } from '../lib/errors.ts';
import { iso, type Measure } from './measures.ts';

// Gnocchi's resample and fill, applied to series already read from the roll-ups: resample groups a
// series' points into longer periods and applies the aggregation method again to the values (as
// Gnocchi does, a mean of means rather than a mean weighted by each bucket's count); fill gives
// every series a value at each time another one has.

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

const RESAMPLERS: Record<string, (v: number[]) => number | undefined> = {
  mean: (v) => sum(v) / v.length,
  sum,
  min: (v) => Math.min(...v),
  max: (v) => Math.max(...v),
  count: (v) => v.length,
  last: (v) => v.at(-1),
  std: (v) => {
    if (v.length < 2) return undefined;
    const m = sum(v) / v.length;
    return Math.sqrt(sum(v.map((x) => (x - m) ** 2)) / (v.length - 1));
  },
};

/** The measures (of one granularity, in time order) regrouped into periods of `period` seconds,
 * each the method (the base method of a rate) applied to the values it holds. */
export function resample(measures: Measure[], period: number, method: string): Measure[] {
  const fn = RESAMPLERS[method.startsWith('rate:') ? method.slice(5) : method]!;
  const groups = new Map<number, number[]>();
  for (const [ts, , v] of measures) {
    const at = Math.floor(Date.parse(ts) / 1000 / period) * period;
    const g = groups.get(at);
    if (g) g.push(v);
    else groups.set(at, [v]);
  }
  return [...groups]
    .sort(([a], [b]) => a - b)
    .flatMap(([at, values]) => {
      const v = fn(values);
      return v === undefined ? [] : [[iso(new Date(at * 1000)), period, v] as Measure];
    });
}

/** A missing point's value: a number, null (the result at that time is null), or dropped. */
export type Fill = number | 'null' | 'dropna';

export function readFill(value: string | undefined): Fill | undefined {
  if (value === undefined) return undefined;
  if (value === 'null' || value === 'dropna') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw badRequest(`Invalid input: fill must be a float, 'null' or 'dropna', not ${JSON.stringify(value)}`);
  return n;
}

/** Each series with a point at every (granularity, time) that any of them has: the fill value, or
 * NaN for null (shown as null); dropna adds nothing, so later steps use only the values present. */
export function fillGaps<S extends { measures: Measure[] }>(series: S[], fill: Fill): S[] {
  if (fill === 'dropna') return series;
  const value = fill === 'null' ? NaN : fill;
  const all = new Map<string, [string, number]>();
  for (const s of series) for (const [ts, g] of s.measures) all.set(`${g} ${ts}`, [ts, g]);
  const order = [...all.values()].sort(([ta, ga], [tb, gb]) => gb - ga || ta.localeCompare(tb));
  return series.map((s) => {
    const have = new Map(s.measures.map((m) => [`${m[1]} ${m[0]}`, m]));
    return { ...s, measures: order.map(([ts, g]) => have.get(`${g} ${ts}`) ?? ([ts, g, value] as Measure)) };
  });
}
