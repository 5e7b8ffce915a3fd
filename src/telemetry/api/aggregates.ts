import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { fetchAggregates, type AggregatesRequest } from '../aggregates.ts';
import { readMeasureQuery } from '../measures.ts';
import { ALL_METHODS, findPolicy } from '../policies.ts';
import { listResources, metricsOf } from '../resources.ts';
import { metrics } from '../tables.ts';
import { callerOf, metricView, resourceView } from './views.ts';

type Query = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.at(-1) : v);
const truthy = (v: string | undefined) => v !== undefined && ['true', '1', 'yes', 'on'].includes(v.toLowerCase());

export function aggregateRoutes(api: FastifyInstance, store: Store): void {
  const { db } = store;
  api.post<{ Querystring: Query; Body: AggregatesRequest }>('/aggregates', { config: { policy: 'telemetry:get aggregates' } }, async (request) => {
    const q = request.query;
    const groupby = [q.groupby ?? []].flat().flatMap((g) => g.split(',')).filter(Boolean);
    const base = readMeasureQuery({ start: one(q.start), stop: one(q.stop), granularity: one(q.granularity), resample: one(q.resample) });
    const overlap = one(q.needed_overlap);
    const neededOverlap = overlap === undefined ? 100 : Number(overlap);
    if (!(neededOverlap >= 0 && neededOverlap <= 100)) throw badRequest('Invalid input: needed_overlap is a percentage');
    if (one(q.fill) !== undefined) throw badRequest('Invalid input: fill is not supported');
    const caller = callerOf(request);
    const policies = new Map<string, Awaited<ReturnType<typeof findPolicy>>>();
    const policy = async (name: string) => policies.get(name) ?? policies.set(name, await findPolicy(db, name)).get(name)!;
    return fetchAggregates(
      db,
      caller,
      request.body ?? ({} as AggregatesRequest),
      { start: base.start, stop: base.stop, granularity: base.granularity, groupby, details: truthy(one(q.details)), neededOverlap },
      (filter, type) => listResources(db, caller, type, { filter }),
      {
        metric: async (m) => metricView(m, await policy(m.archivePolicyName)),
        resource: async (r) => resourceView(r, (await metricsOf(db, [r.id])).get(r.id)!),
      },
    );
  });

  api.get('/capabilities', { config: { policy: 'telemetry:get status' } }, async () => ({ aggregation_methods: ALL_METHODS, dynamic_aggregation_methods: ['aggregate', 'metric'] }));

  api.get('/status', { config: { policy: 'telemetry:get status' } }, async () => {
    // Measures are rolled up as they are written: nothing ever waits to be processed.
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(metrics);
    return { storage: { summary: { metrics: 0, measures: 0 } }, metricd: { processors: [], statistics: { metrics: row?.n ?? 0 } } };
  });
}
