import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { getUser } from '../users.ts';
import { getRole } from '../roles.ts';
import { grantSystemRole, revokeSystemRole, systemRolesOf } from '../system.ts';
import { listLinks, roleView } from './views.ts';

const UserParams = Type.Object({ user_id: Type.String() });
const GrantParams = Type.Object({ user_id: Type.String(), role_id: Type.String() });

/** Role grants on the system (the whole deployment), which system-scoped tokens carry. */
export function systemRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const base = '/v3/system/users/:user_id/roles';

  api.get(base, { config: { policy: 'identity:list_system_grants_for_user' }, schema: { params: UserParams } }, async (request) => {
    await getUser(db, request.params.user_id);
    const granted = await systemRolesOf(db, request.params.user_id);
    return { roles: granted.map((r) => roleView(request.publicUrl, r)), links: listLinks(request.publicUrl, `system/users/${request.params.user_id}/roles`) };
  });

  api.get(`${base}/:role_id`, { config: { policy: 'identity:check_system_grant_for_user' }, schema: { params: GrantParams } }, async (request, reply) => {
    const { user_id: userId, role_id: roleId } = request.params;
    if (!(await systemRolesOf(db, userId)).some((r) => r.id === roleId)) {
      throw notFound(`Could not find role assignment with role: ${roleId}, user or group: ${userId}, system: all.`);
    }
    return reply.status(204).send();
  });

  api.put(`${base}/:role_id`, { config: { policy: 'identity:create_system_grant_for_user' }, schema: { params: GrantParams } }, async (request, reply) => {
    const { user_id: userId, role_id: roleId } = request.params;
    await identity.change(async (tx) => {
      await getUser(tx, userId);
      await getRole(tx, roleId);
      await grantSystemRole(tx, userId, roleId);
    });
    return reply.status(204).send();
  });

  api.delete(`${base}/:role_id`, { config: { policy: 'identity:revoke_system_grant_for_user' }, schema: { params: GrantParams } }, async (request, reply) => {
    await identity.change((tx) => revokeSystemRole(tx, request.params.user_id, request.params.role_id));
    return reply.status(204).send();
  });
}
