import type { FastifyInstance } from 'fastify';
import { inArray } from 'drizzle-orm';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import { flag } from '../../lib/http/query.ts';
import type { Identity } from '../identity.ts';
import { domains, groupMembers, groups, projects, users } from '../tables.ts';
import { allGrants, effectiveGrants, type EffectiveGrant, type TargetType } from '../assignments.ts';
import { allSystemGrants } from '../system.ts';
import { subtreeOf } from '../project-tree.ts';
import { impliedBy, listRoles } from '../roles.ts';

const INHERITED_TO = 'scope.OS-INHERIT:inherited_to';

const Query = Type.Object({
  'user.id': Type.Optional(Type.String()),
  'group.id': Type.Optional(Type.String()),
  'role.id': Type.Optional(Type.String()),
  'scope.project.id': Type.Optional(Type.String()),
  'scope.domain.id': Type.Optional(Type.String()),
  'scope.system': Type.Optional(Type.String()),
  [INHERITED_TO]: Type.Optional(Type.String()),
  effective: Type.Optional(Type.String()),
  include_names: Type.Optional(Type.String()),
  include_subtree: Type.Optional(Type.String()),
});

// A system grant's target is the whole deployment.
type Row = Omit<EffectiveGrant, 'targetType'> & { targetType: TargetType | 'system'; priorRoleId?: string };

export function roleAssignmentRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/role_assignments', { config: { policy: 'identity:list_role_assignments' }, schema: { querystring: Query } }, async (request) => {
    const q = request.query;
    const base = request.publicUrl + '/identity/v3';
    const links = { self: `${base}/role_assignments`, previous: null, next: null };
    const effective = flag(q.effective, 'effective') ?? false;
    const subtree = flag(q.include_subtree, 'include_subtree') ?? false;
    const projectId = q['scope.project.id'];
    // Keystone's own refusals of filters that cannot be combined.
    if (effective && q['group.id'] !== undefined) throw badRequest('Combining effective and group filter will always result in an empty list.');
    if (projectId !== undefined && q['scope.domain.id'] !== undefined) throw badRequest('Specify a domain or project, not both');
    if (subtree && projectId === undefined) throw badRequest('scope.project.id must be specified if include_subtree is also specified');
    if (q[INHERITED_TO] !== undefined && q[INHERITED_TO] !== 'projects') throw badRequest(`${INHERITED_TO} must be projects, not ${q[INHERITED_TO]}`);
    if (q['scope.system'] !== undefined && q['scope.system'] !== 'all') throw badRequest(`scope.system must be all, not ${q['scope.system']}`);

    const roleList = await listRoles(db);
    const roleById = new Map(roleList.map((r) => [r.id, r]));
    const stored = await allGrants(db);
    const system: Row[] = (await allSystemGrants(db)).map((g) => ({ ...g, targetType: 'system', targetId: 'all', inherited: false }));
    let rows: Row[] = effective ? await effectiveGrants(db, stored) : stored;
    if (effective) {
      // A group's system grant is held by each of its members.
      const groupIds = system.filter((a) => a.actorType === 'group').map((a) => a.actorId);
      const members = groupIds.length ? await db.select().from(groupMembers).where(inArray(groupMembers.groupId, groupIds)) : [];
      rows = rows.concat(
        system.flatMap((a) =>
          a.actorType === 'user'
            ? [a]
            : members.filter((m) => m.groupId === a.actorId).map((m) => ({ ...a, actorType: 'user' as const, actorId: m.userId, viaGroupId: a.actorId })),
        ),
      );
    } else rows = rows.concat(system);
    if (effective) {
      // Effective assignments also spell out the roles each grant implies.
      rows = rows.flatMap((a) => [
        a,
        ...impliedBy(roleById.get(a.roleId)?.name ?? '').flatMap((name) => {
          const implied = roleList.find((r) => r.name === name);
          return implied ? [{ ...a, roleId: implied.id, priorRoleId: a.roleId }] : [];
        }),
      ]);
      const seen = new Set<string>();
      rows = rows.filter((a) => {
        const key = `${a.actorId}/${a.targetType}/${a.targetId}/${a.roleId}`;
        return !seen.has(key) && seen.add(key);
      });
    }
    const projectIds = projectId === undefined ? undefined : new Set([projectId, ...(subtree ? (await subtreeOf(db, projectId)).map((p) => p.id) : [])]);
    rows = rows.filter(
      (a) =>
        (q['user.id'] === undefined || (a.actorType === 'user' && a.actorId === q['user.id'])) &&
        (q['group.id'] === undefined || (a.actorType === 'group' && a.actorId === q['group.id'])) &&
        (q['role.id'] === undefined || a.roleId === q['role.id']) &&
        (projectIds === undefined || (a.targetType === 'project' && projectIds.has(a.targetId))) &&
        (q['scope.domain.id'] === undefined || (a.targetType === 'domain' && a.targetId === q['scope.domain.id'])) &&
        (q['scope.system'] === undefined || a.targetType === 'system') &&
        (q[INHERITED_TO] === undefined || a.inherited),
    );

    const names = flag(q.include_names, 'include_names') ?? false;
    const idsOf = (type: string) => [...new Set(rows.filter((a) => a.actorType === type).map((a) => a.actorId))];
    const scopeProjects = [...new Set(rows.filter((a) => a.targetType === 'project').map((a) => a.targetId))];
    const [userRows, groupRows, projectRows, domainRows] = names
      ? await Promise.all([
          idsOf('user').length
            ? db
                .select()
                .from(users)
                .where(inArray(users.id, idsOf('user')))
            : [],
          idsOf('group').length
            ? db
                .select()
                .from(groups)
                .where(inArray(groups.id, idsOf('group')))
            : [],
          scopeProjects.length ? db.select().from(projects).where(inArray(projects.id, scopeProjects)) : [],
          db.select().from(domains),
        ])
      : [[], [], [], []];
    const actorById = new Map<string, { name: string; domainId: string }>([...userRows, ...groupRows].map((u) => [u.id, u]));
    const projectById = new Map(projectRows.map((p) => [p.id, p]));
    const domainRef = (id: string) => ({ id, name: domainRows.find((d) => d.id === id)?.name });
    const named = (id: string, o: { name: string; domainId: string } | undefined) =>
      names && o ? { id, name: o.name, domain: domainRef(o.domainId) } : { id };

    const role_assignments = rows.map((a) => {
      const scope =
        a.targetType === 'system'
          ? { system: { all: true } }
          : a.targetType === 'project'
            ? { project: named(a.targetId, projectById.get(a.targetId)) }
            : { domain: names ? domainRef(a.targetId) : { id: a.targetId } };
      // The grant the assignment comes from: the group's, or the inherited one on a target above.
      const actor = a.viaGroupId ? `groups/${a.viaGroupId}` : `${a.actorType}s/${a.actorId}`;
      const roleId = a.priorRoleId ?? a.roleId;
      const from = a.from;
      const inherited = a.inherited || from !== undefined;
      const target = from ? `${from.targetType}s/${from.targetId}` : a.targetType === 'system' ? 'system' : `${a.targetType}s/${a.targetId}`;
      return {
        role: names ? { id: a.roleId, name: roleById.get(a.roleId)?.name } : { id: a.roleId },
        [a.actorType]: named(a.actorId, actorById.get(a.actorId)),
        scope: a.inherited ? { ...scope, 'OS-INHERIT:inherited_to': 'projects' } : scope,
        links: {
          assignment: inherited ? `${base}/OS-INHERIT/${target}/${actor}/roles/${roleId}/inherited_to_projects` : `${base}/${target}/${actor}/roles/${roleId}`,
          ...(a.viaGroupId ? { membership: `${base}/groups/${a.viaGroupId}/users/${a.actorId}` } : {}),
          ...(a.priorRoleId ? { prior_role: `${base}/roles/${a.priorRoleId}` } : {}),
        },
      };
    });
    return { role_assignments, links };
  });
}
