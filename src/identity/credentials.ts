import { createHash } from 'node:crypto';
import { and, count, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import { credentials } from './tables.ts';
import type { CredentialKey } from './credential-key.ts';
import { getUser } from './users.ts';
import { getProject } from './projects.ts';
import { newId } from './ids.ts';

/** A credential as its owner sees it: the blob in clear. In the store it is sealed. */
export interface Credential {
  id: string;
  userId: string;
  projectId: string | null;
  type: string;
  blob: string;
}

export interface CredentialInput {
  id?: string;
  userId: string;
  projectId?: string | null;
  type: string;
  blob: string;
}

// Keystone's [credential] user_limit: one user cannot fill the store with secrets.
const USER_LIMIT = 500;

/** An EC2 credential is found by its access key alone, so its id is the key's SHA-256. */
export const ec2CredentialId = (access: string) => createHash('sha256').update(access, 'utf8').digest('hex');

/** The blob of an ec2 credential: a JSON object with at least an access key. */
export function ec2Blob(blob: string): { access: string; secret?: string; trust_id?: string | null; app_cred_id?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch {
    throw badRequest('Invalid blob in credential');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('Expecting to find blob in credential.');
  const access = (parsed as { access?: unknown }).access;
  if (typeof access !== 'string' || access === '') throw badRequest('Expecting to find access in credential.');
  return parsed as ReturnType<typeof ec2Blob>;
}

const isEc2 = (type: string) => type.toLowerCase() === 'ec2';

function reveal(key: CredentialKey, row: typeof credentials.$inferSelect): Credential {
  return { id: row.id, userId: row.userId, projectId: row.projectId, type: row.type, blob: key.open(row.encryptedBlob, row.keyHash) };
}

export async function getCredential(db: Db, key: CredentialKey, id: string): Promise<Credential> {
  const [row] = await db.select().from(credentials).where(eq(credentials.id, id));
  if (!row) throw notFound(`Could not find credential: ${id}.`);
  return reveal(key, row);
}

export async function findCredential(db: Db, key: CredentialKey, id: string): Promise<Credential | undefined> {
  const [row] = await db.select().from(credentials).where(eq(credentials.id, id));
  return row && reveal(key, row);
}

export async function listCredentials(db: Db, key: CredentialKey, filter: { userId?: string; type?: string } = {}): Promise<Credential[]> {
  const where: SQL[] = [];
  if (filter.userId !== undefined) where.push(eq(credentials.userId, filter.userId));
  if (filter.type !== undefined) where.push(eq(credentials.type, filter.type));
  const rows = await db
    .select()
    .from(credentials)
    .where(and(...where))
    .orderBy(credentials.createdAt, credentials.id);
  return rows.map((r) => reveal(key, r));
}

export async function createCredential(db: Db, key: CredentialKey, input: CredentialInput): Promise<Credential> {
  await getUser(db, input.userId);
  if (input.projectId) await getProject(db, input.projectId);
  let id = input.id || newId();
  if (isEc2(input.type)) {
    if (!input.projectId) throw badRequest('Expecting to find project_id in credential.');
    id = ec2CredentialId(ec2Blob(input.blob).access);
  }
  const [held] = await db.select({ n: count() }).from(credentials).where(eq(credentials.userId, input.userId));
  if ((held?.n ?? 0) >= USER_LIMIT) throw forbidden(`Unable to create additional credentials, maximum of ${USER_LIMIT} already exceeded for user.`);
  const [row] = await db
    .insert(credentials)
    .values({ id, userId: input.userId, projectId: input.projectId ?? null, type: input.type, encryptedBlob: key.seal(input.blob), keyHash: key.hash })
    .onConflictDoNothing()
    .returning();
  if (!row) throw conflict(`Conflict occurred attempting to store credential - Duplicate ID, ${id}.`);
  return reveal(key, row);
}

/** Changes a credential. What scopes an ec2 credential (its access key, trust, application
 * credential) cannot change, since its id and the tokens it gives follow from them. */
export async function updateCredential(db: Db, key: CredentialKey, id: string, patch: Partial<Omit<CredentialInput, 'id'>>): Promise<Credential> {
  const current = await getCredential(db, key, id);
  if (patch.userId !== undefined) await getUser(db, patch.userId);
  if (patch.projectId) await getProject(db, patch.projectId);
  const type = patch.type ?? current.type;
  const blob = patch.blob ?? current.blob;
  if (isEc2(type)) {
    const next = ec2Blob(blob);
    const before = isEc2(current.type) ? ec2Blob(current.blob) : undefined;
    if (!before) throw badRequest('A credential cannot become an ec2 credential: create an ec2 credential instead.');
    if (next.access !== before.access) throw badRequest('access can not be updated for credential');
    for (const k of ['trust_id', 'app_cred_id'] as const) if (next[k] !== before[k]) throw badRequest(`${k} can not be updated for credential`);
  }
  const set: Partial<typeof credentials.$inferInsert> = { type };
  if (patch.userId !== undefined) set.userId = patch.userId;
  if (patch.projectId !== undefined) set.projectId = patch.projectId;
  if (patch.blob !== undefined) Object.assign(set, { encryptedBlob: key.seal(patch.blob), keyHash: key.hash });
  const [row] = await db.update(credentials).set(set).where(eq(credentials.id, id)).returning();
  return reveal(key, row!);
}

export async function deleteCredential(db: Db, id: string): Promise<void> {
  const gone = await db.delete(credentials).where(eq(credentials.id, id)).returning();
  if (!gone.length) throw notFound(`Could not find credential: ${id}.`);
}
