import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { policies } from './tables.ts';
import { newId } from './ids.ts';

// Keystone's /v3/policies: opaque documents (a blob and its media type) that services may fetch.
// Nubo keeps them; its own rules are in policy.ts and do not read them, as Keystone's don't.

export type StoredPolicy = typeof policies.$inferSelect;

export async function getPolicy(db: Db, id: string): Promise<StoredPolicy> {
  const [row] = await db.select().from(policies).where(eq(policies.id, id));
  if (!row) throw notFound(`Could not find policy: ${id}.`);
  return row;
}

export const listPolicies = (db: Db, filter: { type?: string } = {}) =>
  db
    .select()
    .from(policies)
    .where(filter.type !== undefined ? eq(policies.type, filter.type) : undefined)
    .orderBy(policies.id);

export async function createPolicy(db: Db, input: { type: string; blob: string }): Promise<StoredPolicy> {
  const [row] = await db.insert(policies).values({ id: newId(), type: input.type, blob: input.blob }).returning();
  return row!;
}

export async function updatePolicy(db: Db, id: string, patch: { type?: string; blob?: string }): Promise<StoredPolicy> {
  await getPolicy(db, id);
  const set = Object.fromEntries(Object.entries({ type: patch.type, blob: patch.blob }).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length === 0) return getPolicy(db, id);
  const [row] = await db.update(policies).set(set).where(eq(policies.id, id)).returning();
  return row!;
}

export async function deletePolicy(db: Db, id: string): Promise<void> {
  const gone = await db.delete(policies).where(eq(policies.id, id)).returning();
  if (!gone.length) throw notFound(`Could not find policy: ${id}.`);
}
