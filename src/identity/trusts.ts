import { and, desc, eq, gt, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, forbidden, notFound } from '../lib/errors.ts';
import { roles, trusts, users } from './tables.ts';
import { newId } from './ids.ts';
import { getUser } from './users.ts';
import { getProject } from './projects.ts';
import { effectiveRoles, impliedBy, type RoleRef } from './roles.ts';

export type Trust = typeof trusts.$inferSelect;

export interface TrustInput {
  trustorUserId: string;
  trusteeUserId: string;
  projectId?: string | null;
  impersonation: boolean;
  roles?: { id?: string; name?: string }[];
  expiresAt?: Date | null;
  remainingUses?: number | null;
}

/** Keystone refuses trusts to application credentials, whatever their restriction. */
export function assertNotAppCredential(auth: AuthContext): void {
  if (auth.applicationCredentialId) throw forbidden("Using method 'application_credential' is not allowed for managing trusts.");
}

/**
 * Creates a trust from the caller (who must be the trustor) to an existing trustee, delegating
 * roles the trustor holds on the project now. A trust-scoped token cannot make another trust:
 * redelegation is not offered.
 */
export async function createTrust(db: Db, auth: AuthContext, input: TrustInput): Promise<Trust> {
  assertNotAppCredential(auth);
  if (auth.trust) throw forbidden('Redelegation of trusts is not allowed.');
  if (input.trustorUserId !== auth.userId) throw forbidden('The authenticated user should match the trustor.');
  if (input.projectId && !input.roles?.length) throw forbidden('At least one role should be specified.');
  if (!input.projectId && input.roles?.length) throw badRequest('Roles can only be delegated on a project.');
  await getUser(db, input.trusteeUserId);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badRequest('expires_at must be in the future.');
  const roleIds: string[] = [];
  if (input.projectId) {
    await getProject(db, input.projectId);
    const all = await db.select({ id: roles.id, name: roles.name }).from(roles);
    const held = new Set((await effectiveRoles(db, auth.userId, 'project', input.projectId)).map((r) => r.id));
    for (const ref of input.roles ?? []) {
      // openstackclient sends a role it may not look up by name as an id: a name is taken too.
      const role = all.find((r) => r.id === ref.id) ?? all.find((r) => r.name === (ref.id ?? ref.name));
      // Keystone answers a role the trustor does not hold there as a role it cannot find.
      if (!role || !held.has(role.id)) throw notFound(`Could not find role: ${ref.id ?? ref.name}.`);
      if (!roleIds.includes(role.id)) roleIds.push(role.id);
    }
  }
  const [row] = await db
    .insert(trusts)
    .values({
      id: newId(),
      trustorUserId: input.trustorUserId,
      trusteeUserId: input.trusteeUserId,
      projectId: input.projectId ?? null,
      impersonation: input.impersonation,
      roleIds,
      expiresAt: input.expiresAt ?? null,
      remainingUses: input.remainingUses ?? null,
    })
    .returning();
  return row!;
}

const live = () => or(isNull(trusts.expiresAt), gt(trusts.expiresAt, new Date()));

/** A trust that has not expired, or 404 as Keystone answers for an expired one. */
export async function getTrust(db: Db, id: string): Promise<Trust> {
  const [row] = await db
    .select()
    .from(trusts)
    .where(and(eq(trusts.id, id), live()));
  if (!row) throw notFound(`Could not find trust: ${id}.`);
  return row;
}

export async function listTrusts(db: Db, filter: { trustorUserId?: string; trusteeUserId?: string }): Promise<Trust[]> {
  const where: SQL[] = [live()!];
  if (filter.trustorUserId) where.push(eq(trusts.trustorUserId, filter.trustorUserId));
  if (filter.trusteeUserId) where.push(eq(trusts.trusteeUserId, filter.trusteeUserId));
  return db
    .select()
    .from(trusts)
    .where(and(...where))
    .orderBy(desc(trusts.createdAt));
}

export async function deleteTrust(db: Db, id: string): Promise<void> {
  const gone = await db.delete(trusts).where(eq(trusts.id, id)).returning({ id: trusts.id });
  if (!gone.length) throw notFound(`Could not find trust: ${id}.`);
}

/** Takes one use of a limited trust for a new token; 403 when none is left. */
export async function consumeTrust(db: Db, trust: Trust): Promise<void> {
  if (trust.remainingUses === null) return;
  const [row] = await db
    .update(trusts)
    .set({ remainingUses: sql`${trusts.remainingUses} - 1` })
    .where(and(eq(trusts.id, trust.id), gt(trusts.remainingUses, 0)))
    .returning({ id: trusts.id });
  if (!row) throw forbidden(`No remaining uses for trust: ${trust.id}.`);
}

/**
 * The roles a trust-scoped token carries: the trust's roles (and those they imply), as long as
 * the trustor still holds every one of them on the project; undefined once it does not.
 */
export async function trustRoles(db: Db, trust: Trust): Promise<RoleRef[] | undefined> {
  if (!trust.projectId) return [];
  const held = await effectiveRoles(db, trust.trustorUserId, 'project', trust.projectId);
  const delegated = held.filter((r) => trust.roleIds.includes(r.id));
  if (delegated.length !== trust.roleIds.length) return undefined;
  const names = new Set(delegated.flatMap((r) => [r.name, ...impliedBy(r.name)]));
  return held.filter((r) => names.has(r.name));
}

/** What a trust-scoped token carries while its trust stands: the trust as the token shows it, and
 * its roles; undefined once the trust is gone, expired, or either user disabled. */
export async function trustScope(db: Db, id: string): Promise<{ trust: NonNullable<AuthContext['trust']>; roles: RoleRef[] } | undefined> {
  const trust = await getTrust(db, id).catch(() => undefined);
  if (!trust) return undefined;
  const parties = await db
    .select({ enabled: users.enabled })
    .from(users)
    .where(inArray(users.id, [trust.trustorUserId, trust.trusteeUserId]));
  if (parties.some((u) => !u.enabled)) return undefined;
  const roleRefs = await trustRoles(db, trust);
  if (!roleRefs) return undefined;
  return {
    trust: { id: trust.id, impersonation: trust.impersonation, trustorUserId: trust.trustorUserId, trusteeUserId: trust.trusteeUserId },
    roles: roleRefs,
  };
}
