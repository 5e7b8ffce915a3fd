import type { FastifyInstance } from 'fastify';
import { and, eq, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Identity } from '../identity.ts';
import { endpoints, services } from '../tables.ts';
import { createEndpoint, createService, deleteEndpoint, deleteService, getEndpoint, getService, type Endpoint, type Service } from '../catalog.ts';
import { listLinks, selfLink } from './views.ts';

const serviceView = (base: string, s: Service) => ({
  id: s.id,
  type: s.type,
  name: s.name,
  description: s.description,
  enabled: s.enabled,
  links: selfLink(base, `services/${s.id}`),
});
export const endpointView = (base: string, e: Endpoint) => ({
  id: e.id,
  service_id: e.serviceId,
  interface: e.interface,
  region: e.regionId,
  region_id: e.regionId,
  url: e.url,
  enabled: e.enabled,
  links: selfLink(base, `endpoints/${e.id}`),
});

const Interface = Type.Union([Type.Literal('public'), Type.Literal('internal'), Type.Literal('admin')]);

/** Services and endpoints: the catalog every token carries. */
export function catalogRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get(
    '/v3/services',
    {
      config: { policy: 'identity:list_services' },
      schema: { querystring: Type.Object({ type: Type.Optional(Type.String()), name: Type.Optional(Type.String()) }) },
    },
    async (request) => ({
      services: (
        await db
          .select()
          .from(services)
          .where(
            and(
              ...[
                request.query.type ? eq(services.type, request.query.type) : undefined,
                request.query.name ? eq(services.name, request.query.name) : undefined,
              ],
            ),
          )
          .orderBy(services.type)
      ).map((s) => serviceView(request.publicUrl, s)),
      links: listLinks(request.publicUrl, 'services'),
    }),
  );
  api.get(
    '/v3/services/:service_id',
    { config: { policy: 'identity:get_service' }, schema: { params: Type.Object({ service_id: Type.String() }) } },
    async (request) => ({
      service: serviceView(request.publicUrl, await getService(db, request.params.service_id)),
    }),
  );
  api.post(
    '/v3/services',
    {
      config: { policy: 'identity:create_service' },
      schema: {
        body: Type.Object({
          service: Type.Object({
            type: Type.String({ minLength: 1 }),
            name: Type.Optional(Type.String()),
            description: Type.Optional(Type.String()),
            enabled: Type.Optional(Type.Boolean()),
          }),
        }),
      },
    },
    async (request, reply) =>
      reply.status(201).send({ service: serviceView(request.publicUrl, await identity.change((tx) => createService(tx, request.body.service))) }),
  );
  api.delete(
    '/v3/services/:service_id',
    { config: { policy: 'identity:delete_service' }, schema: { params: Type.Object({ service_id: Type.String() }) } },
    async (request, reply) => {
      await identity.change((tx) => deleteService(tx, request.params.service_id));
      return reply.status(204).send();
    },
  );

  api.get(
    '/v3/endpoints',
    {
      config: { policy: 'identity:list_endpoints' },
      schema: {
        querystring: Type.Object({
          service_id: Type.Optional(Type.String()),
          interface: Type.Optional(Type.String()),
          region_id: Type.Optional(Type.String()),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const where: SQL[] = [];
      if (q.service_id) where.push(eq(endpoints.serviceId, q.service_id));
      if (q.interface) where.push(eq(endpoints.interface, q.interface as Endpoint['interface']));
      if (q.region_id) where.push(eq(endpoints.regionId, q.region_id));
      const rows = await db
        .select()
        .from(endpoints)
        .where(and(...where));
      return { endpoints: rows.map((e) => endpointView(request.publicUrl, e)), links: listLinks(request.publicUrl, 'endpoints') };
    },
  );
  api.get(
    '/v3/endpoints/:endpoint_id',
    { config: { policy: 'identity:get_endpoint' }, schema: { params: Type.Object({ endpoint_id: Type.String() }) } },
    async (request) => ({
      endpoint: endpointView(request.publicUrl, await getEndpoint(db, request.params.endpoint_id)),
    }),
  );
  api.post(
    '/v3/endpoints',
    {
      config: { policy: 'identity:create_endpoint' },
      schema: {
        body: Type.Object({
          endpoint: Type.Object({
            service_id: Type.String(),
            interface: Interface,
            url: Type.String({ minLength: 1 }),
            region_id: Type.Optional(Type.String()),
            region: Type.Optional(Type.String()),
            enabled: Type.Optional(Type.Boolean()),
          }),
        }),
      },
    },
    async (request, reply) => {
      const e = request.body.endpoint;
      const endpoint = await identity.change((tx) =>
        createEndpoint(tx, { serviceId: e.service_id, interface: e.interface, url: e.url, regionId: e.region_id ?? e.region ?? null, enabled: e.enabled }),
      );
      return reply.status(201).send({ endpoint: endpointView(request.publicUrl, endpoint) });
    },
  );
  api.delete(
    '/v3/endpoints/:endpoint_id',
    { config: { policy: 'identity:delete_endpoint' }, schema: { params: Type.Object({ endpoint_id: Type.String() }) } },
    async (request, reply) => {
      await identity.change((tx) => deleteEndpoint(tx, request.params.endpoint_id));
      return reply.status(204).send();
    },
  );
}
