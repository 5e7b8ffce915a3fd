import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../lib/errors.ts';
import { findMetric } from '../metrics.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { filterSql, parseFilter } from '../filter.ts';
import { checkType, createResource, deleteResource, findResource, listResources, metricsOf, updateResource, type ResourceRow } from '../resources.ts';
import { RESOURCE_TYPES } from '../types.ts';
import { showMetric } from './metrics.ts';
import { callerOf, resourceTypeView, resourceView } from './views.ts';

type Query = Record<string, string | undefined>;
type ByType = { Params: { type: string }; Querystring: Query; Body: Record<string, unknown> };
type ById = { Params: { type: string; id: string }; Querystring: Query; Body: Record<string, unknown> };

export async function viewsOf(db: Db, rows: ResourceRow[], asType?: string) {
  const metrics = await metricsOf(db, rows.map((r) => r.id));
  return rows.map((r) => resourceView(r, metrics.get(r.id)!, asType));
}

const page = (q: Query) => ({ limit: q.limit ? Number(q.limit) : undefined, marker: q.marker });

export function resourceRoutes(api: FastifyInstance, store: Store): void {
  const { db } = store;
  api.get('/resource_type', { config: { policy: 'telemetry:list resource type' } }, async () => Object.keys(RESOURCE_TYPES).map(resourceTypeView));
  api.get<ByType>('/resource_type/:type', { config: { policy: 'telemetry:get resource type' } }, async (request) => {
    checkType(request.params.type);
    return resourceTypeView(request.params.type);
  });

  api.get<ByType>('/resource/:type', { config: { policy: 'telemetry:list resource' } }, async (request) =>
    viewsOf(db, await listResources(db, callerOf(request), request.params.type, page(request.query)), request.params.type),
  );
  api.post<ByType>('/resource/:type', { config: { policy: 'telemetry:create resource' } }, async (request, reply) => {
    const r = await store.tx((tx) => createResource(tx, callerOf(request), request.params.type, request.body ?? {}));
    return reply.status(201).send((await viewsOf(db, [r]))[0]);
  });
  api.get<ById>('/resource/:type/:id', { config: { policy: 'telemetry:get resource' } }, async (request) =>
    (await viewsOf(db, [await findResource(db, callerOf(request), request.params.type, request.params.id)], request.params.type))[0],
  );
  api.patch<ById>('/resource/:type/:id', { config: { policy: 'telemetry:update resource' } }, async (request) => {
    const r = await store.tx((tx) => updateResource(tx, callerOf(request), request.params.type, request.params.id, request.body ?? {}));
    return (await viewsOf(db, [r]))[0];
  });
  api.delete<ById>('/resource/:type/:id', { config: { policy: 'telemetry:delete resource' } }, async (request, reply) => {
    await store.tx((tx) => deleteResource(tx, callerOf(request), request.params.type, request.params.id));
    return reply.status(204).send();
  });
  api.get<ById>('/resource/:type/:id/metric', { config: { policy: 'telemetry:get resource' } }, async (request) => {
    const r = await findResource(db, callerOf(request), request.params.type, request.params.id);
    return metricsShown(db, r.id);
  });
  api.post<ById>('/resource/:type/:id/metric', { config: { policy: 'telemetry:update resource' } }, async (request) => {
    const caller = callerOf(request);
    const r = await store.tx((tx) => updateResource(tx, caller, request.params.type, request.params.id, { metrics: request.body ?? {} }));
    return metricsShown(db, r.id);
  });

  api.post<ByType>('/search/resource/:type', { config: { policy: 'telemetry:search resource' } }, async (request) => {
    const text = request.query.filter;
    const body = request.body;
    const hasBody = body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0);
    if (text !== undefined && hasBody) throw badRequest('Invalid input: a filter in the query or in the body, not both');
    const filter = text !== undefined ? filterSql(parseFilter(text)) : hasBody ? filterSql(body) : undefined;
    return viewsOf(db, await listResources(db, callerOf(request), request.params.type, { ...page(request.query), filter }), request.params.type);
  });
}

/** A resource's metrics as a list of metric views (the caller may see the resource). */
async function metricsShown(db: Db, resourceUuid: string) {
  const ids = Object.values((await metricsOf(db, [resourceUuid])).get(resourceUuid)!);
  return Promise.all(ids.map(async (id) => showMetric(db, await findMetric(db, { userId: '', projectId: '', admin: true }, id), false)));
}
