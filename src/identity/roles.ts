import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { roles } from './tables.ts';
import { roleIdsOn } from './assignments.ts';
import { newId, unique } from './ids.ts';

export type Role = typeof roles.$inferSelect;
export interface RoleRef {
  id: string;
  name: string;
}

/** Keystone's default implied roles: a grant of admin also grants member and reader. */
const IMPLIES: Record<string, string[]> = { admin: ['member', 'reader'], member: ['reader'] };

export async function getRole(db: Db, id: string): Promise<Role> {
  const [row] = await db.select().from(roles).where(eq(roles.id, id));
  if (!row) throw notFound(`Could not find role: ${id}.`);
  return row;
}

export async function createRole(db: Db, input: { name: string; description?: string | null }): Promise<Role> {
  const [row] = await unique(
    db
      .insert(roles)
      .values({ id: newId(), name: input.name, description: input.description ?? null })
      .returning(),
    input.name,
  );
  return row!;
}

/** The roles a user holds on a project or domain (its own, its groups', inherited), implied
 * roles added, ordered by name. */
export async function effectiveRoles(db: Db, userId: string, targetType: 'project' | 'domain', targetId: string): Promise<RoleRef[]> {
  const ids = await roleIdsOn(db, userId, targetType, targetId);
  const granted = ids.length ? await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.id, ids)) : [];
  const names = new Set(granted.map((r) => r.name));
  const implied = granted.flatMap((r) => impliedBy(r.name)).filter((n) => !names.has(n));
  const extra = implied.length ? await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.name, implied)) : [];
  const byId = new Map([...granted, ...extra].map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export async function listRoles(db: Db, name?: string): Promise<Role[]> {
  return db
    .select()
    .from(roles)
    .where(name !== undefined ? eq(roles.name, name) : undefined)
    .orderBy(roles.name);
}

export async function updateRole(db: Db, id: string, patch: { name?: string; description?: string | null }): Promise<Role> {
  // Only the attributes the API changes: other keys of the body must not reach the columns.
  const set = { name: patch.name, description: patch.description };
  if (Object.values(set).every((v) => v === undefined)) return getRole(db, id);
  const [row] = await unique(db.update(roles).set(set).where(eq(roles.id, id)).returning(), patch.name ?? id);
  if (!row) throw notFound(`Could not find role: ${id}.`);
  return row;
}

export async function deleteRole(db: Db, id: string): Promise<void> {
  const gone = await db.delete(roles).where(eq(roles.id, id)).returning();
  if (!gone.length) throw notFound(`Could not find role: ${id}.`);
}

/** The roles a grant of `name` implies (admin → member, reader). */
export const impliedBy = (name: string) => IMPLIES[name] ?? [];
