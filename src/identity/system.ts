import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { roles, systemAssignments } from './tables.ts';
import { impliedBy, type RoleRef } from './roles.ts';

export async function grantSystemRole(db: Db, userId: string, roleId: string): Promise<void> {
  await db.insert(systemAssignments).values({ userId, roleId }).onConflictDoNothing();
}

export async function revokeSystemRole(db: Db, userId: string, roleId: string): Promise<void> {
  const gone = await db
    .delete(systemAssignments)
    .where(and(eq(systemAssignments.userId, userId), eq(systemAssignments.roleId, roleId)))
    .returning();
  if (!gone.length) throw notFound(`Could not find role assignment with role: ${roleId}, user or group: ${userId}, system: all.`);
}

/** The roles granted to a user on the system, by name. */
export async function systemRolesOf(db: Db, userId: string) {
  return db
    .select({ id: roles.id, name: roles.name, description: roles.description })
    .from(systemAssignments)
    .innerJoin(roles, eq(roles.id, systemAssignments.roleId))
    .where(eq(systemAssignments.userId, userId))
    .orderBy(roles.name);
}

/** What a system-scoped token carries: the granted roles and those they imply. */
export async function effectiveSystemRoles(db: Db, userId: string): Promise<RoleRef[]> {
  const granted = await systemRolesOf(db, userId);
  const names = new Set(granted.map((r) => r.name));
  const implied = granted.flatMap((r) => impliedBy(r.name)).filter((n) => !names.has(n));
  const extra = implied.length ? await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.name, implied)) : [];
  const byId = new Map([...granted.map((r) => ({ id: r.id, name: r.name })), ...extra].map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
