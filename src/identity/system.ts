import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { groupMembers, roles, systemAssignments, systemGroupAssignments } from './tables.ts';
import { impliedBy, type RoleRef } from './roles.ts';
import type { ActorType } from './assignments.ts';

// The two tables have the same shape but for the actor's column.
function table(actorType: ActorType) {
  return actorType === 'user'
    ? { t: systemAssignments, actor: systemAssignments.userId }
    : { t: systemGroupAssignments, actor: systemGroupAssignments.groupId };
}

export async function grantSystemRole(db: Db, actorId: string, roleId: string, actorType: ActorType = 'user'): Promise<void> {
  if (actorType === 'user') await db.insert(systemAssignments).values({ userId: actorId, roleId }).onConflictDoNothing();
  else await db.insert(systemGroupAssignments).values({ groupId: actorId, roleId }).onConflictDoNothing();
}

export async function revokeSystemRole(db: Db, actorId: string, roleId: string, actorType: ActorType = 'user'): Promise<void> {
  const { t, actor } = table(actorType);
  const gone = await db
    .delete(t)
    .where(and(eq(actor, actorId), eq(t.roleId, roleId)))
    .returning();
  if (!gone.length) throw notFound(`Could not find role assignment with role: ${roleId}, user or group: ${actorId}, system: all.`);
}

/** The roles granted to a user (or a group) itself on the system, by name. */
export async function systemRolesOf(db: Db, actorId: string, actorType: ActorType = 'user') {
  const { t, actor } = table(actorType);
  return db
    .select({ id: roles.id, name: roles.name, description: roles.description })
    .from(t)
    .innerJoin(roles, eq(roles.id, t.roleId))
    .where(eq(actor, actorId))
    .orderBy(roles.name);
}

/** Every system grant, to users and to groups (for /v3/role_assignments). */
export async function allSystemGrants(db: Db): Promise<{ actorType: ActorType; actorId: string; roleId: string }[]> {
  const [byUser, byGroup] = await Promise.all([db.select().from(systemAssignments), db.select().from(systemGroupAssignments)]);
  return [
    ...byUser.map((g) => ({ actorType: 'user' as const, actorId: g.userId, roleId: g.roleId })),
    ...byGroup.map((g) => ({ actorType: 'group' as const, actorId: g.groupId, roleId: g.roleId })),
  ];
}

/** The system roles a user holds: its own grants and its groups'. */
export async function heldSystemRoles(db: Db, userId: string) {
  const [own, viaGroups] = await Promise.all([
    systemRolesOf(db, userId),
    db
      .select({ id: roles.id, name: roles.name, description: roles.description })
      .from(groupMembers)
      .innerJoin(systemGroupAssignments, eq(systemGroupAssignments.groupId, groupMembers.groupId))
      .innerJoin(roles, eq(roles.id, systemGroupAssignments.roleId))
      .where(eq(groupMembers.userId, userId)),
  ]);
  const byId = new Map([...own, ...viaGroups].map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** What a system-scoped token carries: the held roles and those they imply. */
export async function effectiveSystemRoles(db: Db, userId: string): Promise<RoleRef[]> {
  const granted = await heldSystemRoles(db, userId);
  const names = new Set(granted.map((r) => r.name));
  const implied = granted.flatMap((r) => impliedBy(r.name)).filter((n) => !names.has(n));
  const extra = implied.length ? await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.name, implied)) : [];
  const byId = new Map([...granted.map((r) => ({ id: r.id, name: r.name })), ...extra].map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
