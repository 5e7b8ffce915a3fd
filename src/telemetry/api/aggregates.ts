import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'drizzle-orm';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { fetchAggregates, type AggregatesRequest, type Sexp } from '../aggregates.ts';
import { readMeasureQuery } from '../measures.ts';
import { ALL_METHODS, findPolicy } from '../policies.ts';
import { readFill } from '../resample.ts';
import { listResources, metricsOf } from '../resources.ts';
import { metrics } from '../tables.ts';
import { callerOf, metricView, resourceView } from './views.ts';

type Query = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.at(-1) : v);
const truthy = (v: string | undefined) => v !== undefined && ['true', '1', 'yes', 'on'].includes(v.toLowerCase());

/** The query string's time window and granularity. */
const windowOf = (q: Query) => {
  const { start, stop, granularity } = readMeasureQuery({ start: one(q.start), stop: one(q.stop), granularity: one(q.granularity) });
  return { start, stop, granularity };
};
const groupbyOf = (q: Query) => [q.groupby ?? []].flat().flatMap((g) => g.split(',')).filter(Boolean);
function overlapOf(q: Query): number {
  const overlap = one(q.needed_overlap);
  const neededOverlap = overlap === undefined ? 100 : Number(overlap);
  if (!(neededOverlap >= 0 && neededOverlap <= 100)) throw badRequest('Invalid input: needed_overlap is a percentage');
  return neededOverlap;
}

export function aggregateRoutes(api: FastifyInstance, store: Store): void {
  const { db } = store;
  api.post<{ Querystring: Query; Body: AggregatesRequest }>('/aggregates', { config: { policy: 'telemetry:get aggregates' } }, async (request) => {
    const q = request.query;
    const caller = callerOf(request);
    const policies = new Map<string, Awaited<ReturnType<typeof findPolicy>>>();
    const policy = async (name: string) => policies.get(name) ?? policies.set(name, await findPolicy(db, name)).get(name)!;
    return fetchAggregates(
      db,
      caller,
      request.body ?? ({} as AggregatesRequest),
      { ...windowOf(q), groupby: groupbyOf(q), details: truthy(one(q.details)), neededOverlap: overlapOf(q), fill: readFill(one(q.fill)) },
      (filter, type) => listResources(db, caller, type, { filter }),
      {
        metric: async (m) => metricView(m, await policy(m.archivePolicyName)),
        resource: async (r) => resourceView(r, (await metricsOf(db, [r.id])).get(r.id)!),
      },
    );
  });

  // Gnocchi's older cross-metric aggregation, which `openstack metric measures aggregation` calls:
  // the metrics' series at `aggregation`, resampled if asked, combined bucket by bucket with
  // `reaggregation` (the same method by default): the operations /aggregates would be given.
  const legacy = async (request: FastifyRequest<{ Querystring: Query }>, refs: string[], search?: { type: string; query: unknown }) => {
    const q = request.query;
    const caller = callerOf(request);
    const aggregation = one(q.aggregation) ?? 'mean';
    const resample = one(q.resample);
    let operand: Sexp = ['metric', ...refs.map((r) => [r, aggregation])];
    if (resample) operand = ['resample', aggregation, resample, operand];
    const result = await fetchAggregates(
      db,
      caller,
      { operations: ['aggregate', one(q.reaggregation) ?? aggregation, operand], search: search?.query, resource_type: search?.type },
      { ...windowOf(q), groupby: groupbyOf(q), details: false, neededOverlap: overlapOf(q), fill: readFill(one(q.fill)) },
      (filter, type) => listResources(db, caller, type, { filter }),
      { metric: async () => undefined, resource: async () => undefined },
    );
    const aggregated = (r: unknown) => (r as { measures: { aggregated: unknown } }).measures.aggregated;
    return Array.isArray(result) ? result.map((g) => ({ group: g.group, measures: aggregated(g.measures) })) : aggregated(result);
  };
  api.get<{ Querystring: Query }>('/aggregation/metric', { config: { policy: 'telemetry:get aggregates' } }, async (request) => {
    const refs = [request.query.metric ?? []].flat().filter(Boolean);
    if (refs.length === 0) throw badRequest('Invalid input: give at least one metric');
    return legacy(request, refs);
  });
  api.post<{ Querystring: Query; Params: { type: string; name: string }; Body: unknown }>(
    '/aggregation/resource/:type/metric/:name',
    { config: { policy: 'telemetry:get aggregates' } },
    // The search as JSON in the body, or in the text form as the filter parameter.
    async (request) => legacy(request, [request.params.name], { type: request.params.type, query: one(request.query.filter) ?? request.body ?? {} }),
  );

  api.get('/capabilities', { config: { policy: 'telemetry:get status' } }, async () => ({ aggregation_methods: ALL_METHODS, dynamic_aggregation_methods: ['aggregate', 'metric'] }));

  api.get('/status', { config: { policy: 'telemetry:get status' } }, async () => {
    // Measures are rolled up as they are written: nothing ever waits to be processed.
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(metrics);
    return { storage: { summary: { metrics: 0, measures: 0 } }, metricd: { processors: [], statistics: { metrics: row?.n ?? 0 } } };
  });
}
