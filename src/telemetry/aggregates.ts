import { badRequest } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { filterSql, parseFilter } from './filter.ts';
import { checkServed, readMeasures, readResample, type Measure, type MeasureQuery } from './measures.ts';
import { findMetric, metricsByName, type MetricRow } from './metrics.ts';
import { BASE_METHODS, findPolicy } from './policies.ts';
import { fillGaps, resample, type Fill } from './resample.ts';
import { checkType, type ResourceRow } from './resources.ts';
import type { Caller } from './types.ts';

// Gnocchi's /v1/aggregates: operations written as S-expressions over metric references, e.g.
// (aggregate mean (metric cpu rate:mean)) across the resources a search finds.

export type Sexp = string | Sexp[];

export function parseOperations(text: string): Sexp {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const read = (): Sexp => {
    const t = tokens[i++];
    if (t === undefined) throw badRequest('Invalid operations: unexpected end');
    if (t === ')') throw badRequest('Invalid operations: unexpected )');
    if (t !== '(') return t;
    const list: Sexp[] = [];
    while (tokens[i] !== ')') {
      if (i >= tokens.length) throw badRequest('Invalid operations: a parenthesis is not closed');
      list.push(read());
    }
    i++;
    return list;
  };
  const tree = read();
  if (i !== tokens.length) throw badRequest('Invalid operations: text after the expression');
  return tree;
}

/** A series of the result, and where it sits in the response (resource, metric, method). */
interface Series {
  path: string[];
  measures: Measure[];
}

const AGGREGATORS: Record<string, (v: number[]) => number> = {
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  sum: (v) => v.reduce((a, b) => a + b, 0),
  min: (v) => Math.min(...v),
  max: (v) => Math.max(...v),
  count: (v) => v.length,
};

interface Context {
  db: Db;
  caller: Caller;
  query: Omit<MeasureQuery, 'aggregation'>;
  /** The resources a search found, when there is one: metric references are names then. */
  resources?: ResourceRow[];
  type: string;
  filter?: ReturnType<typeof filterSql>;
  references: Map<string, unknown>;
  neededOverlap: number;
  fill?: Fill;
}

async function metricSeries(ctx: Context, ref: string, method: string): Promise<Series[]> {
  const query = { ...ctx.query, aggregation: method };
  const read = async (m: MetricRow, path: string[]) => {
    const policy = await findPolicy(ctx.db, m.archivePolicyName);
    checkServed(policy, m.id, query);
    return { path, measures: await readMeasures(ctx.db, m.id, query, policy.definition.map((d) => d.granularity)) };
  };
  if (!ctx.resources) {
    const m = await findMetric(ctx.db, ctx.caller, ref);
    ctx.references.set(m.id, m);
    return [await read(m, [m.id, method])];
  }
  const found = await metricsByName(ctx.db, ctx.caller, ref, ctx.type, ctx.filter);
  const out: Series[] = [];
  for (const { metric, resource } of found) {
    if (!ctx.resources.some((r) => r.id === resource.id)) continue;
    ctx.references.set(resource.id, resource);
    out.push(await read(metric, [resource.id, ref, method]));
  }
  return out;
}

/** Combines series bucket by bucket; a bucket is kept when enough of the series have it, or,
 * with a fill, always: from the values present (dropna) or with the gaps filled. */
function aggregate(method: string, series: Series[], neededOverlap: number, fill: Fill | undefined): Series {
  const fn = AGGREGATORS[method];
  if (!fn) throw badRequest(`Invalid operations: aggregate takes one of ${Object.keys(AGGREGATORS).join(', ')}`);
  if (fill !== undefined) {
    series = fillGaps(series, fill);
    neededOverlap = 0;
  }
  const buckets = new Map<string, { ts: string; g: number; values: number[] }>();
  for (const s of series) {
    for (const [ts, g, v] of s.measures) {
      const key = `${g} ${ts}`;
      const b = buckets.get(key) ?? { ts, g, values: [] };
      b.values.push(v);
      buckets.set(key, b);
    }
  }
  const measures: Measure[] = [...buckets.values()]
    .filter((b) => series.length > 0 && (b.values.length / series.length) * 100 >= neededOverlap)
    .sort((a, b) => b.g - a.g || a.ts.localeCompare(b.ts))
    .map((b) => [b.ts, b.g, fn(b.values)]);
  return { path: ['aggregated'], measures };
}

async function evaluate(ctx: Context, e: Sexp): Promise<Series[]> {
  if (!Array.isArray(e) || typeof e[0] !== 'string') throw badRequest('Invalid operations: an operation is a list that starts with its name');
  const [op, ...args] = e;
  if (op === 'metric') {
    // (metric REF METHOD) or (metric (REF METHOD) (REF METHOD)…)
    const pairs = typeof args[0] === 'string' ? [args] : args;
    const out: Series[] = [];
    for (const p of pairs) {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') throw badRequest('Invalid operations: metric takes a reference and an aggregation method');
      out.push(...(await metricSeries(ctx, p[0], p[1])));
    }
    return out;
  }
  if (op === 'aggregate') {
    if (args.length !== 2 || typeof args[0] !== 'string') throw badRequest('Invalid operations: aggregate takes a method and an operation');
    return [aggregate(args[0], await evaluate(ctx, args[1]!), ctx.neededOverlap, ctx.fill)];
  }
  if (op === 'resample') {
    // (resample METHOD PERIOD OPERATION)
    const [method, period, operand] = args;
    if (args.length !== 3 || typeof method !== 'string' || typeof period !== 'string') throw badRequest('Invalid operations: resample takes a method, a period and an operation');
    if (!(BASE_METHODS as readonly string[]).includes(method.replace(/^rate:/, ''))) throw badRequest(`Invalid operations: resample takes one of ${BASE_METHODS.join(', ')}`);
    const seconds = readResample(period, ctx.query.granularity)!;
    return (await evaluate(ctx, operand!)).map((s) => ({ ...s, measures: resample(s.measures, seconds, method) }));
  }
  throw badRequest(`Invalid operations: ${op} is not supported (metric, aggregate, resample)`);
}

/** Nests series by their path: {id: {method: measures}} or {resource: {metric: {method: …}}}. */
function nest(series: Series[]): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const s of series) {
    let node = root;
    for (const key of s.path.slice(0, -1)) node = node[key] ??= {};
    node[s.path.at(-1)!] = s.measures;
  }
  return root;
}

export interface AggregatesRequest {
  operations: unknown;
  search?: unknown;
  resource_type?: unknown;
}

/** Runs the operations, over the resources the search finds when there is one, grouped by the
 * attributes named in groupby. */
export async function fetchAggregates(
  db: Db,
  caller: Caller,
  body: AggregatesRequest,
  q: Omit<MeasureQuery, 'aggregation'> & { groupby: string[]; details: boolean; neededOverlap: number; fill?: Fill },
  listResources: (filter: ReturnType<typeof filterSql> | undefined, type: string) => Promise<ResourceRow[]>,
  view: { metric: (m: MetricRow) => Promise<unknown>; resource: (r: ResourceRow) => Promise<unknown> },
): Promise<unknown> {
  const ops = typeof body.operations === 'string' ? parseOperations(body.operations) : body.operations;
  if (!Array.isArray(ops)) throw badRequest('Invalid input: operations is required');
  const base = { db, caller, query: q, references: new Map<string, unknown>(), neededOverlap: q.neededOverlap, fill: q.fill };
  const result = async (series: Series[], refs: Map<string, unknown>, isResource: boolean) => ({
    // Series left apart (no aggregate over them) are filled against each other too.
    measures: nest(q.fill === undefined ? series : fillGaps(series, q.fill)),
    ...(q.details ? { references: await Promise.all([...refs.values()].map((r) => (isResource ? view.resource(r as ResourceRow) : view.metric(r as MetricRow)))) } : {}),
  });
  if (body.search === undefined || body.search === null) {
    if (q.groupby.length) throw badRequest('Invalid input: groupby needs a search');
    return result(await evaluate({ ...base, type: 'generic' }, ops as Sexp), base.references, false);
  }
  const type = typeof body.resource_type === 'string' ? body.resource_type : 'generic';
  checkType(type);
  const filter = filterSql(typeof body.search === 'string' ? parseFilter(body.search) : body.search);
  const found = await listResources(filter, type);
  if (q.groupby.length === 0) {
    return result(await evaluate({ ...base, type, filter, resources: found }, ops as Sexp), base.references, true);
  }
  const groups = new Map<string, { group: Record<string, unknown>; resources: ResourceRow[] }>();
  for (const r of found) {
    const group = Object.fromEntries(q.groupby.map((k) => [k, attributeOf(r, k)]));
    const key = JSON.stringify(group);
    const g = groups.get(key) ?? { group, resources: [] };
    g.resources.push(r);
    groups.set(key, g);
  }
  const out = [];
  for (const g of groups.values()) {
    const refs = new Map<string, unknown>();
    const series = await evaluate({ ...base, references: refs, type, filter, resources: g.resources }, ops as Sexp);
    out.push({ group: g.group, measures: await result(series, refs, true) });
  }
  return out;
}

function attributeOf(r: ResourceRow, k: string): unknown {
  const columns: Record<string, unknown> = { id: r.id, type: r.type, project_id: r.projectId, user_id: r.userId, original_resource_id: r.originalResourceId };
  return k in columns ? columns[k] : (r.attributes[k] ?? null);
}
