import { and, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { assignments, roles } from './tables.ts';

export type TargetType = 'project' | 'domain';
export type Assignment = typeof assignments.$inferSelect;

export async function grantRole(db: Db, userId: string, targetType: TargetType, targetId: string, roleId: string): Promise<void> {
  await db.insert(assignments).values({ userId, targetType, targetId, roleId }).onConflictDoNothing();
}

export async function revokeRole(db: Db, userId: string, targetType: TargetType, targetId: string, roleId: string): Promise<void> {
  const gone = await db
    .delete(assignments)
    .where(and(eq(assignments.userId, userId), eq(assignments.targetType, targetType), eq(assignments.targetId, targetId), eq(assignments.roleId, roleId)))
    .returning();
  if (!gone.length) throw notFound(`Could not find role assignment with role: ${roleId}, user or group: ${userId}, ${targetType}: ${targetId}.`);
}

export async function hasGrant(db: Db, userId: string, targetType: TargetType, targetId: string, roleId: string): Promise<boolean> {
  const [row] = await db
    .select({ roleId: assignments.roleId })
    .from(assignments)
    .where(and(eq(assignments.userId, userId), eq(assignments.targetType, targetType), eq(assignments.targetId, targetId), eq(assignments.roleId, roleId)));
  return row !== undefined;
}

/** The roles granted directly to a user on one target (GET /v3/projects/{p}/users/{u}/roles). */
export async function grantedRoles(db: Db, userId: string, targetType: TargetType, targetId: string) {
  return db
    .select({ id: roles.id, name: roles.name, description: roles.description })
    .from(assignments)
    .innerJoin(roles, eq(roles.id, assignments.roleId))
    .where(and(eq(assignments.userId, userId), eq(assignments.targetType, targetType), eq(assignments.targetId, targetId)))
    .orderBy(roles.name);
}

export interface AssignmentFilter {
  userId?: string;
  roleId?: string;
  projectId?: string;
  domainId?: string;
}

export async function listAssignments(db: Db, f: AssignmentFilter): Promise<Assignment[]> {
  const where: SQL[] = [];
  if (f.userId) where.push(eq(assignments.userId, f.userId));
  if (f.roleId) where.push(eq(assignments.roleId, f.roleId));
  if (f.projectId) where.push(and(eq(assignments.targetType, 'project'), eq(assignments.targetId, f.projectId))!);
  if (f.domainId) where.push(and(eq(assignments.targetType, 'domain'), eq(assignments.targetId, f.domainId))!);
  return db
    .select()
    .from(assignments)
    .where(and(...where));
}
