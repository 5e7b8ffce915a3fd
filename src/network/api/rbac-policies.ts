import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import type { NetworkApi } from '../index.ts';
import { callerOf } from '../networks.ts';
import { createPolicy, deletePolicy, getPolicy, listPolicies, updatePolicy, type RbacPolicy } from '../rbac.ts';
import { listResponse, showResponse } from './listing.ts';
import { ownerOf } from './networks.ts';

export const rbacPolicyView = (p: RbacPolicy) => ({
  id: p.id,
  project_id: p.projectId,
  tenant_id: p.projectId,
  object_type: p.objectType,
  object_id: p.objectId,
  action: p.action,
  target_tenant: p.targetTenant,
});

/** What the api-ref documents of an RBAC policy, for the tests to hold every answer to. */
export const RbacPolicySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    project_id: Type.String(),
    tenant_id: Type.String(),
    object_type: Type.Literal('network'),
    object_id: Type.String(),
    action: Type.Union([Type.Literal('access_as_shared'), Type.Literal('access_as_external')]),
    target_tenant: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const Target = Type.String({ minLength: 1, maxLength: 255 });
const CreateBody = Type.Object({
  rbac_policy: Type.Object(
    {
      object_type: Type.Literal('network'),
      object_id: Type.String({ minLength: 1 }),
      action: Type.Union([Type.Literal('access_as_shared'), Type.Literal('access_as_external')]),
      target_tenant: Target,
      project_id: Type.Optional(Type.String({ minLength: 1 })),
      tenant_id: Type.Optional(Type.String({ minLength: 1 })),
    },
    { additionalProperties: false },
  ),
});
const UpdateBody = Type.Object({ rbac_policy: Type.Object({ target_tenant: Target }, { additionalProperties: false }) });
const ById = Type.Object({ rbac_policy_id: Type.String() });

export function rbacPolicyRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/rbac-policies', { config: { policy: 'network:get_rbac_policy' } }, async (request) =>
    listResponse(request, 'rbac_policies', (await listPolicies(store.db, callerOf(authOf(request)))).map(rbacPolicyView)),
  );

  api.get('/rbac-policies/:rbac_policy_id', { config: { policy: 'network:get_rbac_policy' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'rbac_policy', rbacPolicyView(await getPolicy(store.db, callerOf(authOf(request)), request.params.rbac_policy_id))),
  );

  api.post('/rbac-policies', { config: { policy: 'network:create_rbac_policy' }, schema: { body: CreateBody } }, async (request, reply) => {
    const b = request.body.rbac_policy;
    const projectId = ownerOf(request, b, 'create_rbac_policy');
    const policy = await store.tx((tx) =>
      createPolicy(tx, callerOf(authOf(request)), { projectId, networkId: b.object_id, action: b.action, targetTenant: b.target_tenant }),
    );
    return reply.status(201).send({ rbac_policy: rbacPolicyView(policy) });
  });

  api.put(
    '/rbac-policies/:rbac_policy_id',
    { config: { policy: 'network:update_rbac_policy' }, schema: { params: ById, body: UpdateBody } },
    async (request) => {
      const policy = await store.tx((tx) => updatePolicy(tx, callerOf(authOf(request)), request.params.rbac_policy_id, request.body.rbac_policy.target_tenant));
      return { rbac_policy: rbacPolicyView(policy) };
    },
  );

  api.delete('/rbac-policies/:rbac_policy_id', { config: { policy: 'network:delete_rbac_policy' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deletePolicy(tx, callerOf(authOf(request)), request.params.rbac_policy_id));
    return reply.status(204).send();
  });
}
