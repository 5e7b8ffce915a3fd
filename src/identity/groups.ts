import { and, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { groupMembers, groups, users } from './tables.ts';
import { newId, unique } from './ids.ts';
import { getDomain } from './domains.ts';
import { getUser, type User } from './users.ts';

export type Group = typeof groups.$inferSelect;

export async function getGroup(db: Db, id: string): Promise<Group> {
  const [row] = await db.select().from(groups).where(eq(groups.id, id));
  if (!row) throw notFound(`Could not find group: ${id}.`);
  return row;
}

export async function listGroups(db: Db, filter: { name?: string; domainId?: string }): Promise<Group[]> {
  const where: SQL[] = [];
  if (filter.name !== undefined) where.push(eq(groups.name, filter.name));
  if (filter.domainId !== undefined) where.push(eq(groups.domainId, filter.domainId));
  return db
    .select()
    .from(groups)
    .where(and(...where))
    .orderBy(groups.name);
}

export async function createGroup(db: Db, input: { name: string; domainId: string; description?: string | null }): Promise<Group> {
  await getDomain(db, input.domainId);
  const [row] = await unique(
    db
      .insert(groups)
      .values({ id: newId(), name: input.name, domainId: input.domainId, description: input.description ?? '' })
      .returning(),
    `${input.name} at domain ID ${input.domainId}`,
  );
  return row!;
}

export async function updateGroup(db: Db, id: string, patch: { name?: string; description?: string | null }): Promise<Group> {
  // Only the attributes the API changes: other keys of the body must not reach the columns.
  const set = { name: patch.name, description: patch.description === null ? '' : patch.description };
  if (Object.values(set).every((v) => v === undefined)) return getGroup(db, id);
  const [row] = await unique(db.update(groups).set(set).where(eq(groups.id, id)).returning(), patch.name ?? id);
  if (!row) throw notFound(`Could not find group: ${id}.`);
  return row;
}

/** The group goes with its memberships and its role grants (the tables cascade). */
export async function deleteGroup(db: Db, id: string): Promise<void> {
  const gone = await db.delete(groups).where(eq(groups.id, id)).returning({ id: groups.id });
  if (!gone.length) throw notFound(`Could not find group: ${id}.`);
}

export async function addMember(db: Db, groupId: string, userId: string): Promise<void> {
  await Promise.all([getGroup(db, groupId), getUser(db, userId)]);
  await db.insert(groupMembers).values({ groupId, userId }).onConflictDoNothing();
}

export async function removeMember(db: Db, groupId: string, userId: string): Promise<void> {
  await Promise.all([getGroup(db, groupId), getUser(db, userId)]);
  const gone = await db
    .delete(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
    .returning();
  if (!gone.length) throw notFound(`User ${userId} is not a member of group ${groupId}.`);
}

export async function checkMember(db: Db, groupId: string, userId: string): Promise<void> {
  await Promise.all([getGroup(db, groupId), getUser(db, userId)]);
  const [row] = await db
    .select()
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
  if (!row) throw notFound(`User ${userId} is not a member of group ${groupId}.`);
}

export async function groupUsers(db: Db, groupId: string): Promise<User[]> {
  await getGroup(db, groupId);
  return db
    .select({ user: users })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(eq(groupMembers.groupId, groupId))
    .orderBy(users.name)
    .then((rows) => rows.map((r) => r.user));
}

export async function userGroups(db: Db, userId: string): Promise<Group[]> {
  await getUser(db, userId);
  return db
    .select({ group: groups })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId))
    .orderBy(groups.name)
    .then((rows) => rows.map((r) => r.group));
}
