import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, notFound, unauthorized } from '../lib/errors.ts';
import { users } from './tables.ts';
import { newId, unique } from './ids.ts';
import { findDomain, getDomain } from './domains.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import {
  accountLocked,
  checkPasswordHistory,
  checkPasswordRules,
  isLockedOut,
  NO_RULES,
  passwordExpired,
  passwordExpiry,
  type SecurityCompliance,
} from './password-rules.ts';

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

/** Creates a user; a password given is held to the rules (none for the bootstrap's admin). */
export async function createUser(db: Db, input: UserInput, rules: SecurityCompliance = NO_RULES): Promise<User> {
  await getDomain(db, input.domainId);
  const { password, ...rest } = input;
  if (password) checkPasswordRules(password, rules);
  const passwordHash = password ? await hashPassword(password) : null;
  const passwordExpiresAt = password ? passwordExpiry(rules, true) : null;
  const [row] = await unique(
    db
      .insert(users)
      .values({ id: newId(), ...rest, passwordHash, passwordExpiresAt })
      .returning(),
    `${input.name} at domain ID ${input.domainId}`,
  );
  return row!;
}

/** An administrator's update; a new password is held to the rules and clears a lockout. */
export async function updateUser(db: Db, id: string, patch: Partial<Omit<UserInput, 'domainId'>>, rules: SecurityCompliance = NO_RULES): Promise<User> {
  const { password, ...rest } = patch;
  if (password) checkPasswordRules(password, rules);
  const set =
    password !== undefined
      ? { ...rest, ...(await newPassword(db, id, password || null, password ? passwordExpiry(rules, true) : null, rules)) }
      : rest.enabled
        ? { ...rest, failedAuthCount: 0, failedAuthAt: null }
        : rest;
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

/** The columns that set a password: the old one joins the history, a lockout ends. */
async function newPassword(db: Db, id: string, password: string | null, expiresAt: Date | null, rules: SecurityCompliance) {
  const [old] = await db.select({ hash: users.passwordHash, history: users.passwordHistory }).from(users).where(eq(users.id, id));
  const history = [...(old?.history ?? []), ...(old?.hash ? [old.hash] : [])].slice(-Math.max(0, rules.uniqueLastPasswordCount - 1));
  return {
    passwordHash: password ? await hashPassword(password) : null,
    passwordExpiresAt: expiresAt,
    passwordHistory: history,
    failedAuthCount: 0,
    failedAuthAt: null,
  };
}

/**
 * The user if the password is theirs and they may log in; a 401 otherwise, which tells nothing
 * more except what Keystone tells too: that the account is locked, or the password expired
 * (`expired: 'allow'` for a password change, which an expired password may still make).
 * A wrong password counts towards a lockout when lockout_failure_attempts is set.
 */
export async function checkPassword(
  db: Db,
  user: User,
  password: string,
  rules: SecurityCompliance = NO_RULES,
  expired: 'refuse' | 'allow' = 'refuse',
): Promise<User> {
  if (isLockedOut(user, rules)) throw accountLocked(user.id);
  if (!(await verifyPassword(password, user.passwordHash))) {
    if (rules.lockoutFailureAttempts) {
      // A lockout that has run its course starts counting afresh.
      const count = user.failedAuthCount >= rules.lockoutFailureAttempts ? 1 : sql`${users.failedAuthCount} + 1`;
      await db.update(users).set({ failedAuthCount: count, failedAuthAt: new Date() }).where(eq(users.id, user.id));
    }
    throw unauthorized();
  }
  if (!user.enabled) throw unauthorized();
  const domain = await getDomain(db, user.domainId);
  if (!domain.enabled) throw unauthorized();
  if (expired === 'refuse' && user.passwordExpiresAt && user.passwordExpiresAt.getTime() <= Date.now()) throw passwordExpired(user.id);
  if (user.failedAuthCount) await db.update(users).set({ failedAuthCount: 0, failedAuthAt: null }).where(eq(users.id, user.id));
  return user;
}

/** A user's own change of password (POST /v3/users/{id}/password), once the caller has checked
 * the original: the new one must follow the rules and differ from the last ones; it then expires
 * as configured. */
export async function setOwnPassword(db: Db, user: User, password: string, rules: SecurityCompliance): Promise<void> {
  checkPasswordRules(password, rules);
  await checkPasswordHistory(password, [...user.passwordHistory, ...(user.passwordHash ? [user.passwordHash] : [])], rules);
  await db
    .update(users)
    .set(await newPassword(db, user.id, password, passwordExpiry(rules, false), rules))
    .where(eq(users.id, user.id));
}
