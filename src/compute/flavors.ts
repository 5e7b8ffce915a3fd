import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, exists, gte, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { allows } from '../lib/http/policy.ts';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { isUniqueViolation } from '../lib/store/errors.ts';
import { flavorAccess, flavorExtraSpecs, flavors } from './tables.ts';

export type Flavor = typeof flavors.$inferSelect;
export type FlavorInput = Omit<typeof flavors.$inferInsert, 'createdAt'>;

const isAdmin = (auth: AuthContext) => allows('compute:context_is_admin', auth);

/** Public flavors, and private ones the caller's project was given; the admin sees them all. */
function visibleTo(auth: AuthContext): SQL | undefined {
  if (isAdmin(auth)) return undefined;
  const granted = exists(
    sql`(select 1 from ${flavorAccess} where ${flavorAccess.flavorId} = ${flavors.id} and ${flavorAccess.projectId} = ${auth.project?.id ?? ''})`,
  );
  return or(eq(flavors.isPublic, true), granted);
}

export async function getFlavor(db: Db, auth: AuthContext, id: string): Promise<Flavor> {
  const [row] = await db
    .select()
    .from(flavors)
    .where(and(eq(flavors.id, id), visibleTo(auth)));
  if (!row) throw notFound(`Flavor ${id} could not be found.`);
  return row;
}

export interface FlavorFilter {
  /** true: public only; false: private only; undefined: every flavor the caller may see. */
  isPublic?: boolean;
  minRam?: number;
  minDisk?: number;
  sortKey: FlavorSortKey;
  sortDir: 'asc' | 'desc';
  limit: number;
  marker?: string;
}

/** Nova's sort keys: the column, and the value of a flavor in it (for the marker). */
const sortKeys = {
  id: [flavors.id, (f) => f.id],
  flavorid: [flavors.id, (f) => f.id],
  name: [flavors.name, (f) => f.name],
  description: [flavors.description, (f) => f.description ?? ''],
  memory_mb: [flavors.ram, (f) => f.ram],
  vcpus: [flavors.vcpus, (f) => f.vcpus],
  root_gb: [flavors.disk, (f) => f.disk],
  ephemeral_gb: [flavors.ephemeral, (f) => f.ephemeral],
  swap: [flavors.swap, (f) => f.swap],
  rxtx_factor: [flavors.rxtxFactor, (f) => f.rxtxFactor],
  is_public: [flavors.isPublic, (f) => String(f.isPublic)],
  created_at: [flavors.createdAt, (f) => f.createdAt],
} satisfies Record<string, [AnyPgColumn, (f: Flavor) => string | number | Date]>;
export type FlavorSortKey = keyof typeof sortKeys;
export const FLAVOR_SORT_KEYS = Object.keys(sortKeys) as FlavorSortKey[];

/** Flavors in sort order (ties broken by id), after the marker flavor. */
export async function listFlavors(db: Db, auth: AuthContext, f: FlavorFilter): Promise<Flavor[]> {
  const where: (SQL | undefined)[] = [visibleTo(auth)];
  // A member asking for public flavors still sees the private ones granted to its project, as in Nova.
  if (f.isPublic !== undefined && isAdmin(auth)) where.push(eq(flavors.isPublic, f.isPublic));
  if (f.minRam !== undefined) where.push(gte(flavors.ram, f.minRam));
  if (f.minDisk !== undefined) where.push(gte(flavors.disk, f.minDisk));
  const [column, valueOf] = sortKeys[f.sortKey];
  if (f.marker) {
    const marker = await getFlavor(db, auth, f.marker).catch(() => {
      throw badRequest(`marker [${f.marker}] not found`);
    });
    const value = valueOf(marker);
    const beyond = f.sortDir === 'asc' ? sql`>` : sql`<`;
    where.push(sql`(${column} ${beyond} ${value} or (${column} = ${value} and ${flavors.id} > ${marker.id}))`);
  }
  return db
    .select()
    .from(flavors)
    .where(and(...where))
    .orderBy(f.sortDir === 'asc' ? asc(column) : desc(column), asc(flavors.id))
    .limit(f.limit);
}

export async function createFlavor(db: Db, input: Omit<FlavorInput, 'id'> & { id?: string | null }): Promise<Flavor> {
  const id = !input.id || input.id === 'auto' ? randomUUID() : input.id;
  const [clash] = await db
    .select({ id: flavors.id, name: flavors.name })
    .from(flavors)
    .where(or(eq(flavors.id, id), eq(flavors.name, input.name)));
  if (clash?.id === id) throw conflict(`Flavor with ID ${id} already exists.`);
  if (clash) throw conflict(`Flavor with name ${input.name} already exists.`);
  try {
    const [row] = await db
      .insert(flavors)
      .values({ ...input, id })
      .returning();
    return row!;
  } catch (err) {
    // A create that raced this one took the id or the name between the check and the insert.
    if (isUniqueViolation(err)) throw conflict(`Flavor with ID ${id} or name ${input.name} already exists.`);
    throw err;
  }
}

export async function deleteFlavor(db: Db, auth: AuthContext, id: string): Promise<void> {
  await getFlavor(db, auth, id);
  await db.delete(flavors).where(eq(flavors.id, id));
}

/** Microversion 2.55: the admin changes a flavor's description, and nothing else of it. */
export async function describeFlavor(db: Db, auth: AuthContext, id: string, description: string | null): Promise<Flavor> {
  await getFlavor(db, auth, id);
  const [row] = await db.update(flavors).set({ description }).where(eq(flavors.id, id)).returning();
  return row!;
}

/** The extra specs of many flavors, by flavor id (each has a map, empty when it has none). */
export async function extraSpecsOfMany(db: Db, flavorIds: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map(flavorIds.map((id) => [id, {} as Record<string, string>]));
  if (!flavorIds.length) return out;
  const rows = await db.select().from(flavorExtraSpecs).where(inArray(flavorExtraSpecs.flavorId, flavorIds)).orderBy(flavorExtraSpecs.key);
  for (const r of rows) out.get(r.flavorId)![r.key] = r.value;
  return out;
}

export async function extraSpecsOf(db: Db, flavorId: string): Promise<Record<string, string>> {
  const rows = await db.select().from(flavorExtraSpecs).where(eq(flavorExtraSpecs.flavorId, flavorId)).orderBy(flavorExtraSpecs.key);
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

export async function setExtraSpecs(db: Db, flavorId: string, specs: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(specs)) {
    await db
      .insert(flavorExtraSpecs)
      .values({ flavorId, key, value })
      .onConflictDoUpdate({ target: [flavorExtraSpecs.flavorId, flavorExtraSpecs.key], set: { value } });
  }
}

export async function deleteExtraSpec(db: Db, flavorId: string, key: string): Promise<void> {
  const gone = await db
    .delete(flavorExtraSpecs)
    .where(and(eq(flavorExtraSpecs.flavorId, flavorId), eq(flavorExtraSpecs.key, key)))
    .returning();
  if (!gone.length) throw notFound(`Flavor ${flavorId} has no extra specs with key ${key}.`);
}

export async function accessOf(db: Db, flavor: Flavor): Promise<string[]> {
  if (flavor.isPublic) throw notFound('Access list not available for public flavors.');
  const rows = await db.select().from(flavorAccess).where(eq(flavorAccess.flavorId, flavor.id)).orderBy(flavorAccess.projectId);
  return rows.map((r) => r.projectId);
}

export async function grantAccess(db: Db, flavor: Flavor, projectId: string): Promise<void> {
  if (flavor.isPublic) throw conflict(`Can not add access to a public flavor.`);
  const added = await db.insert(flavorAccess).values({ flavorId: flavor.id, projectId }).onConflictDoNothing().returning();
  if (!added.length) throw conflict(`Flavor access already exists for flavor ${flavor.id} and project ${projectId} combination.`);
}

export async function revokeAccess(db: Db, flavor: Flavor, projectId: string): Promise<void> {
  const gone = await db
    .delete(flavorAccess)
    .where(and(eq(flavorAccess.flavorId, flavor.id), eq(flavorAccess.projectId, projectId)))
    .returning();
  if (!gone.length) throw notFound(`Flavor access not found for ${flavor.id} / ${projectId} combination.`);
}
