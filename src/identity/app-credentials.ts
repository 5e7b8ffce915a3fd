import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, forbidden, notFound } from '../lib/errors.ts';
import type { AccessRule, AuthContext } from '../lib/http/auth.ts';
import { applicationCredentials, roles } from './tables.ts';
import { newId, unique } from './ids.ts';
import { hashPassword } from './passwords.ts';
import { attachAccessRules, type AccessRuleInput } from './access-rules.ts';

export type AppCredential = typeof applicationCredentials.$inferSelect;

export interface AppCredentialInput {
  name: string;
  secret?: string;
  description?: string | null;
  expiresAt?: Date | null;
  unrestricted?: boolean;
  roles?: { id?: string; name?: string }[];
  accessRules?: AccessRuleInput[];
}

/** Keystone lets only an unrestricted application credential create or delete others. */
function assertMayManage(auth: AuthContext): void {
  if (auth.applicationCredential && !auth.applicationCredential.unrestricted) {
    throw forbidden("Using method 'application_credential' is not allowed for managing additional application credentials.");
  }
}

/** Creates an application credential for the caller's own user, on the caller's project, with
 * at most the caller's roles and the access rules asked. The secret is returned here and never again. */
export async function createAppCredential(
  db: Db,
  auth: AuthContext,
  input: AppCredentialInput,
): Promise<{ cred: AppCredential; secret: string; accessRules: AccessRule[] }> {
  if (!auth.project) throw forbidden('Application credentials can only be created with a project-scoped token.');
  assertMayManage(auth);
  const held = new Map(auth.roles.map((r) => [r.id, r]));
  let roleIds = auth.roles.map((r) => r.id);
  if (input.roles?.length) {
    const all = await db.select().from(roles);
    roleIds = input.roles.map((ref) => {
      const role = all.find((r) => r.id === ref.id || (!ref.id && r.name === ref.name));
      if (!role || !held.has(role.id)) throw forbidden(`The caller does not hold role ${ref.id ?? ref.name} on its project.`);
      return role.id;
    });
  }
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badRequest('expires_at must be in the future.');
  const secret = input.secret ?? randomBytes(48).toString('base64url');
  const [cred] = await unique(
    db
      .insert(applicationCredentials)
      .values({
        id: newId(),
        name: input.name,
        userId: auth.userId,
        projectId: auth.project.id,
        secretHash: await hashPassword(secret),
        description: input.description ?? null,
        expiresAt: input.expiresAt ?? null,
        unrestricted: input.unrestricted ?? false,
        roleIds,
      })
      .returning(),
    input.name,
  );
  const accessRules = await attachAccessRules(db, auth.userId, cred!.id, input.accessRules ?? []);
  return { cred: cred!, secret, accessRules };
}

export async function getAppCredential(db: Db, userId: string, id: string): Promise<AppCredential> {
  const [row] = await db
    .select()
    .from(applicationCredentials)
    .where(and(eq(applicationCredentials.userId, userId), eq(applicationCredentials.id, id)));
  if (!row) throw notFound(`Could not find application credential: ${id}.`);
  return row;
}

/** By id, or by name among a user's credentials. */
export async function findAppCredential(db: Db, ref: { id?: string; name?: string; userId?: string }): Promise<AppCredential | undefined> {
  const where = ref.id
    ? eq(applicationCredentials.id, ref.id)
    : ref.name && ref.userId
      ? and(eq(applicationCredentials.name, ref.name), eq(applicationCredentials.userId, ref.userId))
      : undefined;
  if (!where) throw badRequest('An application credential must be given by id, or by name and user.');
  const [row] = await db.select().from(applicationCredentials).where(where);
  return row;
}

export async function listAppCredentials(db: Db, userId: string, name?: string): Promise<AppCredential[]> {
  const where = [eq(applicationCredentials.userId, userId), ...(name !== undefined ? [eq(applicationCredentials.name, name)] : [])];
  return db
    .select()
    .from(applicationCredentials)
    .where(and(...where))
    .orderBy(applicationCredentials.name);
}

export async function deleteAppCredential(db: Db, auth: AuthContext, userId: string, id: string): Promise<void> {
  assertMayManage(auth);
  const gone = await db
    .delete(applicationCredentials)
    .where(and(eq(applicationCredentials.userId, userId), eq(applicationCredentials.id, id)))
    .returning();
  if (!gone.length) throw notFound(`Could not find application credential: ${id}.`);
}
