import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../lib/errors.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { addMeasures, checkServed, readMeasureQuery, readMeasures, readPoints } from '../measures.ts';
import { createMetric, deleteMetric, findMetric, findNamedMetric, listMetrics, type MetricRow } from '../metrics.ts';
import { findPolicy, listPolicies } from '../policies.ts';
import { findResource, metricsOf } from '../resources.ts';
import { resample } from '../resample.ts';
import type { Caller } from '../types.ts';
import { callerOf, metricView, resourceView } from './views.ts';

type Query = Record<string, string | undefined>;
type ById = { Params: { id: string }; Querystring: Query; Body: unknown };
type ByName = { Params: { type: string; id: string; name: string }; Querystring: Query; Body: unknown };

/** A metric as show answers it: with its policy, and its resource when it has one. */
export async function showMetric(db: Db, m: MetricRow, withResource: boolean) {
  const policy = await findPolicy(db, m.archivePolicyName);
  if (!withResource) return metricView(m, policy);
  if (!m.resourceId) return metricView(m, policy, null);
  const r = await findResource(db, { userId: '', projectId: '', admin: true }, 'generic', m.resourceId);
  return metricView(m, policy, resourceView(r, (await metricsOf(db, [r.id])).get(r.id)!));
}

/** A resource's metric by name, once the caller may see the resource. */
export async function namedMetric(db: Db, caller: Caller, p: ByName['Params']) {
  const r = await findResource(db, caller, p.type, p.id);
  return findNamedMetric(db, r.id, p.name);
}

async function measuresOf(db: Db, m: MetricRow, q: Query) {
  const query = readMeasureQuery(q);
  const policy = await findPolicy(db, m.archivePolicyName);
  checkServed(policy, m.id, query);
  const measures = await readMeasures(db, m.id, query, policy.definition.map((d) => d.granularity));
  return query.resample ? resample(measures, query.resample, query.aggregation) : measures;
}

export function metricRoutes(api: FastifyInstance, store: Store): void {
  const { db } = store;
  api.get<{ Querystring: Query }>('/metric', { config: { policy: 'telemetry:list metric' } }, async (request) => {
    const q = request.query;
    const rows = await listMetrics(db, callerOf(request), { limit: q.limit ? Number(q.limit) : undefined, marker: q.marker, name: q.name });
    const policies = new Map((await listPolicies(db)).map((p) => [p.name, p]));
    return rows.map((m) => metricView(m, policies.get(m.archivePolicyName)!));
  });
  api.post<{ Body: Record<string, unknown> }>('/metric', { config: { policy: 'telemetry:create metric' } }, async (request, reply) => {
    const m = await store.tx((tx) => createMetric(tx, callerOf(request), request.body ?? {}));
    return reply.status(201).send(await showMetric(db, m, false));
  });
  api.get<ById>('/metric/:id', { config: { policy: 'telemetry:get metric' } }, async (request) => showMetric(db, await findMetric(db, callerOf(request), request.params.id), true));
  api.delete<ById>('/metric/:id', { config: { policy: 'telemetry:delete metric' } }, async (request, reply) => {
    await store.tx(async (tx) => deleteMetric(tx, await findMetric(tx, callerOf(request), request.params.id)));
    return reply.status(204).send();
  });
  api.get<ById>('/metric/:id/measures', { config: { policy: 'telemetry:get measures' } }, async (request) =>
    measuresOf(db, await findMetric(db, callerOf(request), request.params.id), request.query),
  );
  api.post<ById>('/metric/:id/measures', { config: { policy: 'telemetry:post measures' } }, async (request, reply) => {
    const points = readPoints(request.body);
    await store.tx(async (tx) => addMeasures(tx, new Map([[(await findMetric(tx, callerOf(request), request.params.id)).id, points]])));
    return reply.status(202).send();
  });
  api.post<{ Body: unknown }>('/batch/metrics/measures', { config: { policy: 'telemetry:post measures' } }, async (request, reply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Invalid input: a map of metric ids to measures');
    const caller = callerOf(request);
    await store.tx(async (tx) => {
      const batch = new Map();
      for (const [id, measures] of Object.entries(body)) batch.set((await findMetric(tx, caller, id)).id, readPoints(measures));
      await addMeasures(tx, batch);
    });
    return reply.status(202).send();
  });

  // The same, with the metric named on its resource.
  const named = '/resource/:type/:id/metric/:name';
  api.get<ByName>(named, { config: { policy: 'telemetry:get metric' } }, async (request) => showMetric(db, await namedMetric(db, callerOf(request), request.params), true));
  api.delete<ByName>(named, { config: { policy: 'telemetry:delete metric' } }, async (request, reply) => {
    await store.tx(async (tx) => deleteMetric(tx, await namedMetric(tx, callerOf(request), request.params)));
    return reply.status(204).send();
  });
  api.get<ByName>(`${named}/measures`, { config: { policy: 'telemetry:get measures' } }, async (request) =>
    measuresOf(db, await namedMetric(db, callerOf(request), request.params), request.query),
  );
  api.post<ByName>(`${named}/measures`, { config: { policy: 'telemetry:post measures' } }, async (request, reply) => {
    const points = readPoints(request.body);
    await store.tx(async (tx) => addMeasures(tx, new Map([[(await namedMetric(tx, callerOf(request), request.params)).id, points]])));
    return reply.status(202).send();
  });
}
