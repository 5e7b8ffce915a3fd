import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Identity } from '../identity.ts';
import { createPolicy, deletePolicy, getPolicy, listPolicies, updatePolicy, type StoredPolicy } from '../stored-policies.ts';
import { listLinks, selfLink } from './views.ts';

export const policyView = (base: string, p: StoredPolicy) => ({ id: p.id, type: p.type, blob: p.blob, links: selfLink(base, `policies/${p.id}`) });

const Fields = { blob: Type.String(), type: Type.String({ maxLength: 255 }) };
const CreateBody = Type.Object({ policy: Type.Object(Fields) });
const UpdateBody = Type.Object({ policy: Type.Object({ blob: Type.Optional(Fields.blob), type: Type.Optional(Fields.type) }, { minProperties: 1 }) });
const Params = Type.Object({ policy_id: Type.String() });

/** Keystone's /v3/policies: documents kept for the services that fetch them; admin only. */
export function policyRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get(
    '/v3/policies',
    { config: { policy: 'identity:list_policies' }, schema: { querystring: Type.Object({ type: Type.Optional(Type.String()) }) } },
    async (request) => ({
      policies: (await listPolicies(db, { type: request.query.type })).map((p) => policyView(request.publicUrl, p)),
      links: listLinks(request.publicUrl, 'policies'),
    }),
  );
  api.post('/v3/policies', { config: { policy: 'identity:create_policy' }, schema: { body: CreateBody } }, async (request, reply) => {
    const policy = await identity.store.tx((tx) => createPolicy(tx, request.body.policy));
    return reply.status(201).send({ policy: policyView(request.publicUrl, policy) });
  });
  api.get('/v3/policies/:policy_id', { config: { policy: 'identity:get_policy' }, schema: { params: Params } }, async (request) => ({
    policy: policyView(request.publicUrl, await getPolicy(db, request.params.policy_id)),
  }));
  api.patch('/v3/policies/:policy_id', { config: { policy: 'identity:update_policy' }, schema: { params: Params, body: UpdateBody } }, async (request) => ({
    policy: policyView(request.publicUrl, await identity.store.tx((tx) => updatePolicy(tx, request.params.policy_id, request.body.policy))),
  }));
  api.delete('/v3/policies/:policy_id', { config: { policy: 'identity:delete_policy' }, schema: { params: Params } }, async (request, reply) => {
    await identity.store.tx((tx) => deletePolicy(tx, request.params.policy_id));
    return reply.status(204).send();
  });
}
