import { and, eq, inArray, or, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { assignments, groupAssignments, groupMembers, projects, roles } from './tables.ts';
import { allNodes, ancestorsOf, below } from './project-tree.ts';

export type TargetType = 'project' | 'domain';
export type ActorType = 'user' | 'group';

/** A grant as stored: a role for a user or a group on a project or a domain. An inherited grant
 * applies to the projects below its target, not to the target itself (OS-INHERIT). */
export interface Grant {
  actorType: ActorType;
  actorId: string;
  targetType: TargetType;
  targetId: string;
  roleId: string;
  inherited: boolean;
}

/** A grant as one user holds it on one target, and where it comes from (for links). */
export interface EffectiveGrant extends Grant {
  /** The group through which the user holds it. */
  viaGroupId?: string;
  /** The target of the inherited grant it was expanded from. */
  from?: { targetType: TargetType; targetId: string };
}

// The two tables have the same shape but for the actor's column.
function table(actorType: ActorType) {
  return actorType === 'user' ? { t: assignments, actor: assignments.userId } : { t: groupAssignments, actor: groupAssignments.groupId };
}

function matching(actorType: ActorType, actorId: string, targetType: TargetType, targetId: string, inherited: boolean, roleId?: string): SQL {
  const { t, actor } = table(actorType);
  return and(
    eq(actor, actorId),
    eq(t.targetType, targetType),
    eq(t.targetId, targetId),
    eq(t.inherited, inherited),
    roleId ? eq(t.roleId, roleId) : undefined,
  )!;
}

export async function addGrant(
  db: Db,
  actorType: ActorType,
  actorId: string,
  targetType: TargetType,
  targetId: string,
  roleId: string,
  inherited = false,
): Promise<void> {
  if (actorType === 'user') await db.insert(assignments).values({ userId: actorId, targetType, targetId, roleId, inherited }).onConflictDoNothing();
  else await db.insert(groupAssignments).values({ groupId: actorId, targetType, targetId, roleId, inherited }).onConflictDoNothing();
}

export async function removeGrant(
  db: Db,
  actorType: ActorType,
  actorId: string,
  targetType: TargetType,
  targetId: string,
  roleId: string,
  inherited = false,
): Promise<void> {
  const { t } = table(actorType);
  const gone = await db
    .delete(t)
    .where(matching(actorType, actorId, targetType, targetId, inherited, roleId))
    .returning();
  if (!gone.length) throw notFound(`Could not find role assignment with role: ${roleId}, user or group: ${actorId}, ${targetType}: ${targetId}.`);
}

/** A user's direct role on a target (the bootstrap's grant of admin). */
export const grantRole = (db: Db, userId: string, targetType: TargetType, targetId: string, roleId: string) =>
  addGrant(db, 'user', userId, targetType, targetId, roleId);

export async function hasGrant(
  db: Db,
  actorType: ActorType,
  actorId: string,
  targetType: TargetType,
  targetId: string,
  roleId: string,
  inherited = false,
): Promise<boolean> {
  const { t } = table(actorType);
  const [row] = await db
    .select({ roleId: t.roleId })
    .from(t)
    .where(matching(actorType, actorId, targetType, targetId, inherited, roleId));
  return row !== undefined;
}

/** The roles granted directly to a user or group on one target (GET /v3/projects/{p}/users/{u}/roles). */
export async function grantedRoles(db: Db, actorType: ActorType, actorId: string, targetType: TargetType, targetId: string, inherited = false) {
  const { t } = table(actorType);
  return db
    .select({ id: roles.id, name: roles.name, description: roles.description })
    .from(t)
    .innerJoin(roles, eq(roles.id, t.roleId))
    .where(matching(actorType, actorId, targetType, targetId, inherited))
    .orderBy(roles.name);
}

/** The direct (not inherited) grants a user holds, its groups' included, in the shape of a
 * user's grant (GET /v3/auth/domains reads them). */
export async function listAssignments(db: Db, f: { userId: string }) {
  const grants = await grantsOfUser(db, f.userId, (t) => eq(t.inherited, false));
  return grants.map((g) => ({ userId: f.userId, targetType: g.targetType, targetId: g.targetId, roleId: g.roleId }));
}

/** Every stored grant, users' first. */
export async function allGrants(db: Db): Promise<Grant[]> {
  const [u, g] = await Promise.all([db.select().from(assignments), db.select().from(groupAssignments)]);
  return [
    ...u.map(({ userId, ...a }) => ({ actorType: 'user' as const, actorId: userId, ...a })),
    ...g.map(({ groupId, ...a }) => ({ actorType: 'group' as const, actorId: groupId, ...a })),
  ];
}

const groupIdsOf = (db: Db, userId: string) =>
  db
    .select({ id: groupMembers.groupId })
    .from(groupMembers)
    .where(eq(groupMembers.userId, userId))
    .then((rows) => rows.map((r) => r.id));

/** The grants a user holds through itself or its groups, on any target. */
async function grantsOfUser(db: Db, userId: string, where?: (t: typeof assignments | typeof groupAssignments) => SQL | undefined): Promise<Grant[]> {
  const groupIds = await groupIdsOf(db, userId);
  const [u, g] = await Promise.all([
    db
      .select()
      .from(assignments)
      .where(and(eq(assignments.userId, userId), where?.(assignments))),
    groupIds.length
      ? db
          .select()
          .from(groupAssignments)
          .where(and(inArray(groupAssignments.groupId, groupIds), where?.(groupAssignments)))
      : [],
  ]);
  return [
    ...u.map(({ userId: id, ...a }) => ({ actorType: 'user' as const, actorId: id, ...a })),
    ...g.map(({ groupId, ...a }) => ({ actorType: 'group' as const, actorId: groupId, ...a })),
  ];
}

/**
 * The ids of the roles a user holds on a project or a domain, as a token scoped there carries
 * them (before implied roles): granted to the user or to one of its groups on the target, or
 * inherited from the projects above it and from its domain.
 */
export async function roleIdsOn(db: Db, userId: string, targetType: TargetType, targetId: string): Promise<string[]> {
  const direct = (t: typeof assignments | typeof groupAssignments) => and(eq(t.targetType, targetType), eq(t.targetId, targetId), eq(t.inherited, false));
  if (targetType === 'domain') return [...new Set((await grantsOfUser(db, userId, direct)).map((g) => g.roleId))];
  const [up, [self]] = await Promise.all([
    ancestorsOf(db, targetId),
    db.select({ domainId: projects.domainId }).from(projects).where(eq(projects.id, targetId)),
  ]);
  const inheritedFrom = (t: typeof assignments | typeof groupAssignments) =>
    and(
      eq(t.inherited, true),
      or(
        and(eq(t.targetType, 'domain'), eq(t.targetId, self?.domainId ?? '')),
        up.length
          ? and(
              eq(t.targetType, 'project'),
              inArray(
                t.targetId,
                up.map((p) => p.id),
              ),
            )
          : undefined,
      ),
    );
  const grants = await grantsOfUser(db, userId, (t) => or(direct(t), inheritedFrom(t)));
  return [...new Set(grants.map((g) => g.roleId))];
}

/** The ids of the projects on which a user holds some role, directly, by group or inherited. */
export async function projectIdsOf(db: Db, userId: string): Promise<Set<string>> {
  const grants = await grantsOfUser(db, userId);
  const ids = new Set(grants.filter((g) => g.targetType === 'project' && !g.inherited).map((g) => g.targetId));
  const inherited = grants.filter((g) => g.inherited);
  if (inherited.length) {
    const nodes = await allNodes(db);
    for (const g of inherited) {
      const reached = g.targetType === 'domain' ? nodes.filter((n) => n.domainId === g.targetId).map((n) => n.id) : below(nodes, g.targetId);
      for (const id of reached) ids.add(id);
    }
  }
  return ids;
}

/**
 * Grants as users hold them (GET /v3/role_assignments?effective): a group's grant becomes one per
 * member, and an inherited grant one per project it reaches. Implied roles are added by the caller.
 */
export async function effectiveGrants(db: Db, grants: Grant[]): Promise<EffectiveGrant[]> {
  const groupIds = [...new Set(grants.filter((g) => g.actorType === 'group').map((g) => g.actorId))];
  const members = groupIds.length ? await db.select().from(groupMembers).where(inArray(groupMembers.groupId, groupIds)) : [];
  const nodes = grants.some((g) => g.inherited) ? await allNodes(db) : [];
  const out: EffectiveGrant[] = [];
  for (const g of grants) {
    const users =
      g.actorType === 'user'
        ? [{ userId: g.actorId, viaGroupId: undefined }]
        : members.filter((m) => m.groupId === g.actorId).map((m) => ({ userId: m.userId, viaGroupId: g.actorId }));
    const targets: { targetType: TargetType; targetId: string }[] = !g.inherited
      ? [{ targetType: g.targetType, targetId: g.targetId }]
      : (g.targetType === 'domain' ? nodes.filter((n) => n.domainId === g.targetId).map((n) => n.id) : below(nodes, g.targetId)).map((id) => ({
          targetType: 'project' as const,
          targetId: id,
        }));
    for (const u of users)
      for (const t of targets)
        out.push({
          ...g,
          actorType: 'user',
          actorId: u.userId,
          ...t,
          inherited: false,
          viaGroupId: u.viaGroupId,
          from: g.inherited ? { targetType: g.targetType, targetId: g.targetId } : undefined,
        });
  }
  return out;
}
