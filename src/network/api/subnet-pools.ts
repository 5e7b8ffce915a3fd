import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { forbidden } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import { callerOf } from '../networks.ts';
import { createPool, deletePool, getPool, listPools, setPoolTags, updatePool, type SubnetPool } from '../subnet-pools.ts';
import { listResponse, showResponse, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';
import { tagRoutes } from './tags.ts';

export const subnetPoolView = (p: SubnetPool) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  tenant_id: p.projectId,
  project_id: p.projectId,
  ip_version: p.ipVersion,
  prefixes: p.prefixes,
  default_prefixlen: p.defaultPrefixlen,
  min_prefixlen: p.minPrefixlen,
  max_prefixlen: p.maxPrefixlen,
  is_default: p.isDefault,
  shared: p.shared,
  default_quota: p.defaultQuota,
  address_scope_id: p.addressScopeId,
  tags: p.tags,
  revision_number: p.revision,
  created_at: timestamp(p.createdAt),
  updated_at: timestamp(p.updatedAt),
});

/** What the api-ref documents of a subnet pool, for the tests to hold every answer to. */
export const SubnetPoolSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    tenant_id: Type.String(),
    project_id: Type.String(),
    ip_version: Type.Union([Type.Literal(4), Type.Literal(6)]),
    prefixes: Type.Array(Type.String()),
    default_prefixlen: Type.Integer(),
    min_prefixlen: Type.Integer(),
    max_prefixlen: Type.Integer(),
    is_default: Type.Boolean(),
    shared: Type.Boolean(),
    default_quota: Type.Union([Type.Integer(), Type.Null()]),
    address_scope_id: Type.Union([Type.String(), Type.Null()]),
    tags: Type.Array(Type.String()),
    revision_number: Type.Integer(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: false },
);

// Neutron converts prefix lengths and quotas to integers: clients send strings too.
const Int = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]);
const Mutable = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.Optional(Type.String({ maxLength: 255 })),
  prefixes: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  default_prefixlen: Type.Optional(Int),
  min_prefixlen: Type.Optional(Int),
  max_prefixlen: Type.Optional(Int),
  is_default: Type.Optional(Type.Boolean()),
  default_quota: Type.Optional(Type.Union([Int, Type.Null()])),
  address_scope_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};
const PoolBody = Type.Object(
  {
    ...Mutable,
    prefixes: Type.Array(Type.String(), { minItems: 1 }),
    shared: Type.Optional(Type.Boolean()),
    project_id: Type.Optional(Type.String({ minLength: 1 })),
    tenant_id: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
const CreateBody = Type.Object({ subnetpool: PoolBody });
const UpdateBody = Type.Object({ subnetpool: Type.Object(Mutable, { additionalProperties: false }) });
const ById = Type.Object({ subnetpool_id: Type.String() });

const num = (v: number | string | undefined) => (v === undefined ? undefined : Number(v));

/** A shared or default pool is the admin's to make, as in Neutron's policy. */
function checkAdminFields(request: FastifyRequest, b: { shared?: boolean; is_default?: boolean }, action: string): void {
  for (const [asked, field] of [
    [b.shared, 'shared'],
    [b.is_default, 'is_default'],
  ] as const)
    if (asked !== undefined && !allows(`network:${action}:${field}`, authOf(request)))
      throw forbidden(`Policy doesn't allow ${action}:${field} to be performed.`);
}

export function subnetPoolRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/subnetpools', { config: { policy: 'network:get_subnetpool' } }, async (request) =>
    listResponse(request, 'subnetpools', (await listPools(store.db, callerOf(authOf(request)))).map(subnetPoolView)),
  );

  api.get('/subnetpools/:subnetpool_id', { config: { policy: 'network:get_subnetpool' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'subnetpool', subnetPoolView(await getPool(store.db, callerOf(authOf(request)), request.params.subnetpool_id))),
  );

  api.post('/subnetpools', { config: { policy: 'network:create_subnetpool' }, schema: { body: CreateBody } }, async (request, reply) => {
    const b: Static<typeof PoolBody> = request.body.subnetpool;
    checkAdminFields(request, b, 'create_subnetpool');
    const projectId = ownerOf(request, b, 'create_subnetpool');
    const pool = await store.tx((tx) =>
      createPool(tx, callerOf(authOf(request)), {
        projectId,
        name: b.name ?? '',
        description: b.description ?? '',
        prefixes: b.prefixes,
        defaultPrefixlen: num(b.default_prefixlen),
        minPrefixlen: num(b.min_prefixlen),
        maxPrefixlen: num(b.max_prefixlen),
        isDefault: b.is_default ?? false,
        shared: b.shared ?? false,
        defaultQuota: b.default_quota == null ? null : Number(b.default_quota),
        addressScopeId: b.address_scope_id ?? null,
      }),
    );
    return reply.status(201).send({ subnetpool: subnetPoolView(pool) });
  });

  api.put('/subnetpools/:subnetpool_id', { config: { policy: 'network:update_subnetpool' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const b = request.body.subnetpool;
    checkAdminFields(request, b, 'update_subnetpool');
    const pool = await store.tx((tx) =>
      updatePool(tx, callerOf(authOf(request)), request.params.subnetpool_id, {
        name: b.name,
        description: b.description,
        prefixes: b.prefixes,
        defaultPrefixlen: num(b.default_prefixlen),
        minPrefixlen: num(b.min_prefixlen),
        maxPrefixlen: num(b.max_prefixlen),
        isDefault: b.is_default,
        defaultQuota: b.default_quota === undefined ? undefined : b.default_quota === null ? null : Number(b.default_quota),
        addressScopeId: b.address_scope_id,
      }),
    );
    return { subnetpool: subnetPoolView(pool) };
  });

  api.delete('/subnetpools/:subnetpool_id', { config: { policy: 'network:delete_subnetpool' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deletePool(tx, callerOf(authOf(request)), request.params.subnetpool_id));
    return reply.status(204).send();
  });

  tagRoutes(app, store, {
    collection: 'subnetpools',
    policy: { read: 'network:get_subnetpool', write: 'network:update_subnetpool' },
    tagsOf: async (db, caller, id) => (await getPool(db, caller, id)).tags,
    setTags: setPoolTags,
  });
}
