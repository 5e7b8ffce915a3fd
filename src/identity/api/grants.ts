import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { Identity } from '../identity.ts';
import { getRole } from '../roles.ts';
import { addGrant, grantedRoles, hasGrant, removeGrant, type ActorType, type TargetType } from '../assignments.ts';
import { getUser } from '../users.ts';
import { getGroup } from '../groups.ts';
import { getProject } from '../projects.ts';
import { getDomain } from '../domains.ts';
import { listLinks, roleView } from './views.ts';

const checkTarget = (db: Db, type: TargetType, id: string) => (type === 'project' ? getProject(db, id) : getDomain(db, id));
const checkActor = (db: Db, type: ActorType, id: string) => (type === 'user' ? getUser(db, id) : getGroup(db, id));

/**
 * Role grants to users and groups on projects and domains, and their inherited form
 * (`/v3/OS-INHERIT/…/inherited_to_projects`) that reaches every project below the target.
 * GET on a grant checks it, as HEAD does.
 */
export function grantRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const Params = Type.Object({ target_id: Type.String(), actor_id: Type.String() });
  const GrantParams = Type.Object({ target_id: Type.String(), actor_id: Type.String(), role_id: Type.String() });

  for (const targetType of ['project', 'domain'] as TargetType[])
    for (const actorType of ['user', 'group'] as ActorType[])
      for (const inherited of [false, true]) {
        const prefix = `${inherited ? '/v3/OS-INHERIT' : '/v3'}/${targetType}s/:target_id/${actorType}s/:actor_id/roles`;
        const suffix = inherited ? '/inherited_to_projects' : '';
        const linkOf = (t: string, a: string) => `${inherited ? 'OS-INHERIT/' : ''}${targetType}s/${t}/${actorType}s/${a}/roles${suffix}`;

        // Keystone lists inherited grants on domains only.
        if (!inherited || targetType === 'domain')
          api.get(`${prefix}${suffix}`, { config: { policy: 'identity:list_grants' }, schema: { params: Params } }, async (request) => {
            const { target_id, actor_id } = request.params;
            await Promise.all([checkTarget(db, targetType, target_id), checkActor(db, actorType, actor_id)]);
            const roles = await grantedRoles(db, actorType, actor_id, targetType, target_id, inherited);
            return { roles: roles.map((r) => roleView(request.publicUrl, r)), links: listLinks(request.publicUrl, linkOf(target_id, actor_id)) };
          });

        api.put(`${prefix}/:role_id${suffix}`, { config: { policy: 'identity:create_grant' }, schema: { params: GrantParams } }, async (request, reply) => {
          const { target_id, actor_id, role_id } = request.params;
          await identity.change(async (tx) => {
            await Promise.all([checkTarget(tx, targetType, target_id), checkActor(tx, actorType, actor_id), getRole(tx, role_id)]);
            await addGrant(tx, actorType, actor_id, targetType, target_id, role_id, inherited);
          });
          return reply.status(204).send();
        });

        api.get(`${prefix}/:role_id${suffix}`, { config: { policy: 'identity:check_grant' }, schema: { params: GrantParams } }, async (request, reply) => {
          const { target_id, actor_id, role_id } = request.params;
          await Promise.all([checkTarget(db, targetType, target_id), checkActor(db, actorType, actor_id), getRole(db, role_id)]);
          if (!(await hasGrant(db, actorType, actor_id, targetType, target_id, role_id, inherited)))
            throw notFound(`Could not find role assignment for role ${role_id}.`);
          return reply.status(204).send();
        });

        api.delete(`${prefix}/:role_id${suffix}`, { config: { policy: 'identity:revoke_grant' }, schema: { params: GrantParams } }, async (request, reply) => {
          const { target_id, actor_id, role_id } = request.params;
          await identity.change((tx) => removeGrant(tx, actorType, actor_id, targetType, target_id, role_id, inherited));
          return reply.status(204).send();
        });
      }
}
