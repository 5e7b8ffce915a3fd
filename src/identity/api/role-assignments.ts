import type { FastifyInstance } from 'fastify';
import { inArray } from 'drizzle-orm';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { flag } from '../../lib/http/query.ts';
import type { Identity } from '../identity.ts';
import { domains, projects, users } from '../tables.ts';
import { listAssignments, type Assignment } from '../assignments.ts';
import { impliedBy, listRoles } from '../roles.ts';

const Query = Type.Object({
  'user.id': Type.Optional(Type.String()),
  'group.id': Type.Optional(Type.String()),
  'role.id': Type.Optional(Type.String()),
  'scope.project.id': Type.Optional(Type.String()),
  'scope.domain.id': Type.Optional(Type.String()),
  'scope.system': Type.Optional(Type.String()),
  effective: Type.Optional(Type.String()),
  include_names: Type.Optional(Type.String()),
  include_subtree: Type.Optional(Type.String()),
});

export function roleAssignmentRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/role_assignments', { config: { policy: 'identity:list_role_assignments' }, schema: { querystring: Query } }, async (request) => {
    const q = request.query;
    const base = request.publicUrl + '/identity/v3';
    const links = { self: `${base}/role_assignments`, previous: null, next: null };
    // Nubo has no groups and no system scope: such filters match nothing.
    if (q['group.id'] !== undefined || q['scope.system'] !== undefined) return { role_assignments: [], links };
    const roleList = await listRoles(db);
    const roleById = new Map(roleList.map((r) => [r.id, r]));
    let rows: (Assignment & { priorRoleId?: string })[] = await listAssignments(db, {
      userId: q['user.id'],
      projectId: q['scope.project.id'],
      domainId: q['scope.domain.id'],
    });
    if (flag(q.effective, 'effective')) {
      // Effective assignments spell out the roles each grant implies.
      rows = rows.flatMap((a) => [
        a,
        ...impliedBy(roleById.get(a.roleId)?.name ?? '').flatMap((name) => {
          const implied = roleList.find((r) => r.name === name);
          return implied ? [{ ...a, roleId: implied.id, priorRoleId: a.roleId }] : [];
        }),
      ]);
      const seen = new Set<string>();
      rows = rows.filter((a) => {
        const key = `${a.userId}/${a.targetType}/${a.targetId}/${a.roleId}`;
        return !seen.has(key) && seen.add(key);
      });
    }
    if (q['role.id']) rows = rows.filter((a) => a.roleId === q['role.id']);

    const names = flag(q.include_names, 'include_names') ?? false;
    const userIds = [...new Set(rows.map((a) => a.userId))];
    const projectIds = [...new Set(rows.filter((a) => a.targetType === 'project').map((a) => a.targetId))];
    const [userRows, projectRows, domainRows] = names
      ? await Promise.all([
          userIds.length ? db.select().from(users).where(inArray(users.id, userIds)) : [],
          projectIds.length ? db.select().from(projects).where(inArray(projects.id, projectIds)) : [],
          db.select().from(domains),
        ])
      : [[], [], []];
    const userById = new Map(userRows.map((u) => [u.id, u]));
    const projectById = new Map(projectRows.map((p) => [p.id, p]));
    const domainRef = (id: string) => ({ id, name: domainRows.find((d) => d.id === id)?.name });

    const role_assignments = rows.map((a) => {
      const user = userById.get(a.userId);
      const project = projectById.get(a.targetId);
      const scope =
        a.targetType === 'project'
          ? { project: names && project ? { id: a.targetId, name: project.name, domain: domainRef(project.domainId) } : { id: a.targetId } }
          : { domain: names ? domainRef(a.targetId) : { id: a.targetId } };
      return {
        role: names ? { id: a.roleId, name: roleById.get(a.roleId)?.name } : { id: a.roleId },
        user: names && user ? { id: a.userId, name: user.name, domain: domainRef(user.domainId) } : { id: a.userId },
        scope,
        links: {
          assignment: `${base}/${a.targetType}s/${a.targetId}/users/${a.userId}/roles/${a.priorRoleId ?? a.roleId}`,
          ...(a.priorRoleId ? { prior_role: `${base}/roles/${a.priorRoleId}` } : {}),
        },
      };
    });
    return { role_assignments, links };
  });
}
