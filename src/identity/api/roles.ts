import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { Identity } from '../identity.ts';
import { createRole, deleteRole, getRole, listRoles, updateRole } from '../roles.ts';
import { grantRole, grantedRoles, hasGrant, revokeRole, type TargetType } from '../assignments.ts';
import { getUser } from '../users.ts';
import { getProject } from '../projects.ts';
import { getDomain } from '../domains.ts';
import { listLinks, roleView } from './views.ts';

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Description = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const ById = Type.Object({ role_id: Type.String() });

export function roleRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/roles', { config: { policy: 'identity:list_roles' }, schema: { querystring: Type.Object({ name: Type.Optional(Type.String()) }) } }, async (request) => ({
    roles: (await listRoles(db, request.query.name)).map((r) => roleView(request.publicUrl, r)),
    links: listLinks(request.publicUrl, 'roles'),
  }));

  api.post(
    '/v3/roles',
    { config: { policy: 'identity:create_role' }, schema: { body: Type.Object({ role: Type.Object({ name: Name, description: Description }) }) } },
    async (request, reply) => {
      const role = await identity.change((tx) => createRole(tx, request.body.role));
      return reply.status(201).send({ role: roleView(request.publicUrl, role) });
    },
  );

  api.get('/v3/roles/:role_id', { config: { policy: 'identity:get_role' }, schema: { params: ById } }, async (request) => ({
    role: roleView(request.publicUrl, await getRole(db, request.params.role_id)),
  }));

  api.patch(
    '/v3/roles/:role_id',
    { config: { policy: 'identity:update_role' }, schema: { params: ById, body: Type.Object({ role: Type.Object({ name: Type.Optional(Name), description: Description }) }) } },
    async (request) => ({ role: roleView(request.publicUrl, await identity.change((tx) => updateRole(tx, request.params.role_id, request.body.role))) }),
  );

  api.delete('/v3/roles/:role_id', { config: { policy: 'identity:delete_role' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => deleteRole(tx, request.params.role_id));
    return reply.status(204).send();
  });

  for (const targetType of ['project', 'domain'] as TargetType[]) {
    const base = `/v3/${targetType}s/:target_id/users/:user_id/roles`;
    const Params = Type.Object({ target_id: Type.String(), user_id: Type.String() });
    const GrantParams = Type.Object({ target_id: Type.String(), user_id: Type.String(), role_id: Type.String() });
    const checkTarget = (ex: Db, id: string) => (targetType === 'project' ? getProject(ex, id) : getDomain(ex, id));

    api.get(base, { config: { policy: 'identity:list_grants' }, schema: { params: Params } }, async (request) => {
      const { target_id, user_id } = request.params;
      await Promise.all([checkTarget(db, target_id), getUser(db, user_id)]);
      return { roles: (await grantedRoles(db, user_id, targetType, target_id)).map((r) => roleView(request.publicUrl, r)), links: listLinks(request.publicUrl, `${targetType}s/${target_id}/users/${user_id}/roles`) };
    });

    api.put(`${base}/:role_id`, { config: { policy: 'identity:create_grant' }, schema: { params: GrantParams } }, async (request, reply) => {
      const { target_id, user_id, role_id } = request.params;
      await identity.change(async (tx) => {
        await Promise.all([checkTarget(tx, target_id), getUser(tx, user_id), getRole(tx, role_id)]);
        await grantRole(tx, user_id, targetType, target_id, role_id);
      });
      return reply.status(204).send();
    });

    api.head(`${base}/:role_id`, { config: { policy: 'identity:check_grant' }, schema: { params: GrantParams } }, async (request, reply) => {
      const { target_id, user_id, role_id } = request.params;
      if (!(await hasGrant(db, user_id, targetType, target_id, role_id))) throw notFound(`Could not find role assignment for role ${role_id}.`);
      return reply.status(204).send();
    });

    api.delete(`${base}/:role_id`, { config: { policy: 'identity:revoke_grant' }, schema: { params: GrantParams } }, async (request, reply) => {
      const { target_id, user_id, role_id } = request.params;
      await identity.change((tx) => revokeRole(tx, user_id, targetType, target_id, role_id));
      return reply.status(204).send();
    });
  }
}
