import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import { endpoints, regions } from './tables.ts';
import { newId } from './ids.ts';

export type Region = typeof regions.$inferSelect;

export interface RegionInput {
  id?: string | null;
  description?: string | null;
  parentRegionId?: string | null;
  /** Other attributes, kept as given; an update merges them into those kept. */
  extra?: Record<string, unknown>;
}

export async function getRegion(db: Db, id: string): Promise<Region> {
  const [row] = await db.select().from(regions).where(eq(regions.id, id));
  if (!row) throw notFound(`Could not find region: ${id}.`);
  return row;
}

export async function listRegions(db: Db, filter: { parentRegionId?: string } = {}): Promise<Region[]> {
  return db
    .select()
    .from(regions)
    .where(filter.parentRegionId !== undefined ? eq(regions.parentRegionId, filter.parentRegionId) : undefined)
    .orderBy(regions.id);
}

/** A region with the id asked, or a generated one when none (or an empty one) is given. */
export async function createRegion(db: Db, input: RegionInput): Promise<Region> {
  const id = input.id || newId();
  if (input.parentRegionId) await getRegion(db, input.parentRegionId);
  const [row] = await db
    .insert(regions)
    .values({ id, description: input.description ?? '', parentRegionId: input.parentRegionId ?? null, extra: input.extra ?? {} })
    .onConflictDoNothing()
    .returning();
  if (!row) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
  return row;
}

/** Every region below `id`, however deep. */
function descendants(all: Region[], id: string): string[] {
  const found: string[] = [];
  const pending = [id];
  for (let at = pending.pop(); at !== undefined; at = pending.pop()) {
    for (const r of all) {
      if (r.parentRegionId === at && r.id !== id && !found.includes(r.id)) {
        found.push(r.id);
        pending.push(r.id);
      }
    }
  }
  return found;
}

export async function updateRegion(db: Db, id: string, patch: Omit<RegionInput, 'id'>): Promise<Region> {
  const current = await getRegion(db, id);
  const parent = patch.parentRegionId;
  if (parent) {
    await getRegion(db, parent);
    if (parent === id || descendants(await db.select().from(regions), id).includes(parent)) {
      throw badRequest(`The specified parent region ${parent} would create a circular region hierarchy.`);
    }
  }
  const set: Partial<Region> = {};
  if (patch.description !== undefined) set.description = patch.description ?? '';
  if (parent !== undefined) set.parentRegionId = parent;
  if (patch.extra && Object.keys(patch.extra).length) set.extra = { ...current.extra, ...patch.extra };
  if (Object.keys(set).length === 0) return getRegion(db, id);
  const [row] = await db.update(regions).set(set).where(eq(regions.id, id)).returning();
  return row!;
}

/** Deletes a region and the regions below it, as Keystone does, unless any of them still has
 * endpoints: those would be left in a region that no longer exists. */
export async function deleteRegion(db: Db, id: string): Promise<void> {
  await getRegion(db, id);
  const doomed = [id, ...descendants(await db.select().from(regions), id)];
  const [used] = await db.select({ id: endpoints.id }).from(endpoints).where(inArray(endpoints.regionId, doomed)).limit(1);
  if (used) throw forbidden(`Unable to delete region ${id} because it or its child regions have associated endpoints.`);
  await db.delete(regions).where(inArray(regions.id, doomed));
}
