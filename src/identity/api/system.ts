import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { getUser } from '../users.ts';
import { getGroup } from '../groups.ts';
import { getRole } from '../roles.ts';
import { grantSystemRole, revokeSystemRole, systemRolesOf } from '../system.ts';
import { listLinks, roleView } from './views.ts';

const ActorParams = Type.Object({ actor_id: Type.String() });
const GrantParams = Type.Object({ actor_id: Type.String(), role_id: Type.String() });

/** Role grants on the system (the whole deployment), which system-scoped tokens carry. */
export function systemRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  // Keystone serves the same four routes for users and for groups.
  for (const actorType of ['user', 'group'] as const) {
    const base = `/v3/system/${actorType}s/:actor_id/roles`;
    const find = (tx: typeof db, id: string) => (actorType === 'user' ? getUser(tx, id) : getGroup(tx, id));

    api.get(base, { config: { policy: `identity:list_system_grants_for_${actorType}` }, schema: { params: ActorParams } }, async (request) => {
      await find(db, request.params.actor_id);
      const granted = await systemRolesOf(db, request.params.actor_id, actorType);
      return {
        roles: granted.map((r) => roleView(request.publicUrl, r)),
        links: listLinks(request.publicUrl, `system/${actorType}s/${request.params.actor_id}/roles`),
      };
    });

    api.get(
      `${base}/:role_id`,
      { config: { policy: `identity:check_system_grant_for_${actorType}` }, schema: { params: GrantParams } },
      async (request, reply) => {
        const { actor_id: actorId, role_id: roleId } = request.params;
        if (!(await systemRolesOf(db, actorId, actorType)).some((r) => r.id === roleId)) {
          throw notFound(`Could not find role assignment with role: ${roleId}, user or group: ${actorId}, system: all.`);
        }
        return reply.status(204).send();
      },
    );

    api.put(
      `${base}/:role_id`,
      { config: { policy: `identity:create_system_grant_for_${actorType}` }, schema: { params: GrantParams } },
      async (request, reply) => {
        const { actor_id: actorId, role_id: roleId } = request.params;
        await identity.change(async (tx) => {
          await find(tx, actorId);
          await getRole(tx, roleId);
          await grantSystemRole(tx, actorId, roleId, actorType);
        });
        return reply.status(204).send();
      },
    );

    api.delete(
      `${base}/:role_id`,
      { config: { policy: `identity:revoke_system_grant_for_${actorType}` }, schema: { params: GrantParams } },
      async (request, reply) => {
        await identity.change((tx) => revokeSystemRole(tx, request.params.actor_id, request.params.role_id, actorType));
        return reply.status(204).send();
      },
    );
  }
}
