import { and, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, notFound, unauthorized } from '../lib/errors.ts';
import { users } from './tables.ts';
import { newId, unique } from './ids.ts';
import { findDomain, getDomain } from './domains.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export type User = typeof users.$inferSelect;

export async function getUser(db: Db, id: string): Promise<User> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!row) throw notFound(`Could not find user: ${id}.`);
  return row;
}

/** A user by id, or by name within a domain (by id or name). */
export async function findUser(db: Db, ref: { id?: string; name?: string; domain?: { id?: string; name?: string } }): Promise<User> {
  if (ref.id) return getUser(db, ref.id);
  if (!ref.name || !ref.domain) throw badRequest('A user must be given by id, or by name and domain.');
  const domain = await findDomain(db, ref.domain);
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.name, ref.name), eq(users.domainId, domain.id)));
  if (!row) throw notFound(`Could not find user: ${ref.name}.`);
  return row;
}

export async function listUsers(db: Db, filter: { name?: string; domainId?: string; enabled?: boolean }): Promise<User[]> {
  const where: SQL[] = [];
  if (filter.name !== undefined) where.push(eq(users.name, filter.name));
  if (filter.domainId !== undefined) where.push(eq(users.domainId, filter.domainId));
  if (filter.enabled !== undefined) where.push(eq(users.enabled, filter.enabled));
  return db
    .select()
    .from(users)
    .where(and(...where))
    .orderBy(users.name);
}

export interface UserInput {
  name: string;
  domainId: string;
  password?: string | null;
  enabled?: boolean;
  defaultProjectId?: string | null;
  description?: string | null;
  email?: string | null;
}

export async function createUser(db: Db, input: UserInput): Promise<User> {
  await getDomain(db, input.domainId);
  const { password, ...rest } = input;
  const passwordHash = password ? await hashPassword(password) : null;
  const [row] = await unique(
    db
      .insert(users)
      .values({ id: newId(), ...rest, passwordHash })
      .returning(),
    `${input.name} at domain ID ${input.domainId}`,
  );
  return row!;
}

export async function updateUser(db: Db, id: string, patch: Partial<Omit<UserInput, 'domainId'>>): Promise<User> {
  const { password, ...rest } = patch;
  const set = password !== undefined ? { ...rest, passwordHash: password ? await hashPassword(password) : null } : rest;
  // A body that changes nothing is an update that changes nothing, not a query without columns.
  if (Object.values(set).every((v) => v === undefined)) return getUser(db, id);
  const [row] = await unique(db.update(users).set(set).where(eq(users.id, id)).returning(), patch.name ?? id);
  if (!row) throw notFound(`Could not find user: ${id}.`);
  return row;
}

export async function deleteUser(db: Db, id: string): Promise<void> {
  const [row] = await db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
  if (!row) throw notFound(`Could not find user: ${id}.`);
}

/** The user if the password is theirs and they may log in; a 401 that tells nothing otherwise. */
export async function checkPassword(db: Db, user: User, password: string): Promise<User> {
  if (!(await verifyPassword(password, user.passwordHash)) || !user.enabled) throw unauthorized();
  const domain = await getDomain(db, user.domainId);
  if (!domain.enabled) throw unauthorized();
  return user;
}
