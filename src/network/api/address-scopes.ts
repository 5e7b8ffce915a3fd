import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { forbidden } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import { createScope, deleteScope, getScope, listScopes, updateScope, type AddressScope } from '../address-scopes.ts';
import { callerOf } from '../networks.ts';
import { listResponse, showResponse } from './listing.ts';
import { ownerOf } from './networks.ts';

export const addressScopeView = (s: AddressScope) => ({
  id: s.id,
  name: s.name,
  tenant_id: s.projectId,
  project_id: s.projectId,
  ip_version: s.ipVersion,
  shared: s.shared,
});

/** What the api-ref documents of an address scope, for the tests to hold every answer to. */
export const AddressScopeSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    tenant_id: Type.String(),
    project_id: Type.String(),
    ip_version: Type.Union([Type.Literal(4), Type.Literal(6)]),
    shared: Type.Boolean(),
  },
  { additionalProperties: false },
);

const Version = Type.Union([Type.Literal(4), Type.Literal(6), Type.Literal('4'), Type.Literal('6')]);
const CreateBody = Type.Object({
  address_scope: Type.Object(
    {
      name: Type.String({ maxLength: 255 }),
      ip_version: Version,
      shared: Type.Optional(Type.Boolean()),
      project_id: Type.Optional(Type.String({ minLength: 1 })),
      tenant_id: Type.Optional(Type.String({ minLength: 1 })),
    },
    { additionalProperties: false },
  ),
});
const UpdateBody = Type.Object({
  address_scope: Type.Object({ name: Type.Optional(Type.String({ maxLength: 255 })), shared: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
});
const ById = Type.Object({ address_scope_id: Type.String() });

export function addressScopeRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;
  const sharedIsAdmins = (asked: boolean | undefined, rule: string, auth: ReturnType<typeof authOf>) => {
    if (asked !== undefined && !allows(rule, auth)) throw forbidden(`Policy doesn't allow ${rule.replace('network:', '')} to be performed.`);
  };

  api.get('/address-scopes', { config: { policy: 'network:get_address_scope' } }, async (request) =>
    listResponse(request, 'address_scopes', (await listScopes(store.db, callerOf(authOf(request)))).map(addressScopeView)),
  );

  api.get('/address-scopes/:address_scope_id', { config: { policy: 'network:get_address_scope' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'address_scope', addressScopeView(await getScope(store.db, callerOf(authOf(request)), request.params.address_scope_id))),
  );

  api.post('/address-scopes', { config: { policy: 'network:create_address_scope' }, schema: { body: CreateBody } }, async (request, reply) => {
    const b = request.body.address_scope;
    sharedIsAdmins(b.shared, 'network:create_address_scope:shared', authOf(request));
    const projectId = ownerOf(request, b, 'create_address_scope');
    const scope = await store.tx((tx) => createScope(tx, { projectId, name: b.name, ipVersion: Number(b.ip_version) as 4 | 6, shared: b.shared ?? false }));
    return reply.status(201).send({ address_scope: addressScopeView(scope) });
  });

  api.put(
    '/address-scopes/:address_scope_id',
    { config: { policy: 'network:update_address_scope' }, schema: { params: ById, body: UpdateBody } },
    async (request) => {
      const b = request.body.address_scope;
      sharedIsAdmins(b.shared, 'network:update_address_scope:shared', authOf(request));
      const scope = await store.tx((tx) => updateScope(tx, callerOf(authOf(request)), request.params.address_scope_id, b));
      return { address_scope: addressScopeView(scope) };
    },
  );

  api.delete('/address-scopes/:address_scope_id', { config: { policy: 'network:delete_address_scope' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteScope(tx, callerOf(authOf(request)), request.params.address_scope_id));
    return reply.status(204).send();
  });
}
