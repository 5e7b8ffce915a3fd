import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import {
  addHost,
  createAggregate,
  deleteAggregate,
  getAggregate,
  listAggregates,
  removeHost,
  setMetadata,
  updateAggregate,
  type Aggregate,
} from '../aggregates.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { naive } from './naive-time.ts';

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Zone = Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]);
const ById = Type.Object({ id: Type.String() });
const CreateBody = Type.Object({ aggregate: Type.Object({ name: Name, availability_zone: Type.Optional(Zone) }, { additionalProperties: false }) });
const UpdateBody = Type.Object({
  aggregate: Type.Object({ name: Type.Optional(Name), availability_zone: Type.Optional(Zone) }, { additionalProperties: false, minProperties: 1 }),
});
const Host = Type.Object({ host: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false });
const ActionBody = Type.Object(
  {
    add_host: Type.Optional(Host),
    remove_host: Type.Optional(Host),
    set_metadata: Type.Optional(
      Type.Object({ metadata: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Union([Type.String({ maxLength: 255 }), Type.Null()])) }),
    ),
  },
  { minProperties: 1, maxProperties: 1 },
);

/** An aggregate as Nova shows it (Nova's rows are soft-deleted: a live one says deleted false); the create answer has no hosts nor metadata. */
function aggregateView(a: Aggregate, v: Microversion, created = false) {
  return {
    id: a.id,
    name: a.name,
    availability_zone: a.availabilityZone,
    ...(created ? {} : { hosts: a.hosts, metadata: a.metadata }),
    created_at: naive(a.createdAt),
    updated_at: naive(a.updatedAt),
    deleted_at: null,
    deleted: false,
    ...(v.atLeast('2.41') ? { uuid: a.uuid } : {}),
  };
}

/** /os-aggregates: groups of hosts, with the availability zone they put their hosts in. */
export function aggregateRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const config = { policy: 'compute:os-aggregates' };

  api.get('/os-aggregates', { config }, async (request) => {
    const v = versionOf(request);
    return { aggregates: (await listAggregates(db)).map((a) => aggregateView(a, v)) };
  });

  api.post('/os-aggregates', { config, schema: { body: CreateBody } }, async (request) => {
    const b = request.body.aggregate;
    const a = await store.tx((tx) => createAggregate(tx, b.name, b.availability_zone ?? null));
    return { aggregate: aggregateView(a, versionOf(request), true) };
  });

  api.get('/os-aggregates/:id', { config, schema: { params: ById } }, async (request) => ({
    aggregate: aggregateView(await getAggregate(db, request.params.id), versionOf(request)),
  }));

  api.put('/os-aggregates/:id', { config, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const b = request.body.aggregate;
    const a = await store.tx((tx) => updateAggregate(tx, request.params.id, { name: b.name, zone: b.availability_zone }));
    return { aggregate: aggregateView(a, versionOf(request)) };
  });

  api.delete('/os-aggregates/:id', { config, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteAggregate(tx, request.params.id));
    return reply.status(200).send();
  });

  api.post('/os-aggregates/:id/action', { config, schema: { params: ById, body: ActionBody } }, async (request) => {
    const { id } = request.params;
    const b = request.body;
    const a = await store.tx(async (tx) => {
      if (b.add_host) return addHost(tx, id, b.add_host.host);
      if (b.remove_host) return removeHost(tx, id, b.remove_host.host);
      if (b.set_metadata) return setMetadata(tx, id, b.set_metadata.metadata);
      throw badRequest('Unknown aggregate action: expected add_host, remove_host or set_metadata.');
    });
    return { aggregate: aggregateView(a, versionOf(request)) };
  });
}
