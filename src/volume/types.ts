import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, or } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { isUniqueViolation } from '../lib/store/errors.ts';
import { volumes, volumeTypeAccess, volumeTypeExtraSpecs, volumeTypes } from './tables.ts';

export const DEFAULT_TYPE = '__DEFAULT__';

export type VolumeType = typeof volumeTypes.$inferSelect & { extraSpecs: Record<string, string> };

/** Creates `__DEFAULT__` once, as Cinder's database migration does. */
export async function ensureDefaultType(db: Db): Promise<void> {
  await db
    .insert(volumeTypes)
    .values({ id: randomUUID(), name: DEFAULT_TYPE, description: 'Default Volume Type', isPublic: true })
    .onConflictDoNothing();
}

async function withSpecs(db: Db, rows: (typeof volumeTypes.$inferSelect)[]): Promise<VolumeType[]> {
  if (rows.length === 0) return [];
  const specs = await db.select().from(volumeTypeExtraSpecs).where(inArray(volumeTypeExtraSpecs.typeId, rows.map((r) => r.id)));
  return rows.map((r) => ({ ...r, extraSpecs: Object.fromEntries(specs.filter((s) => s.typeId === r.id).map((s) => [s.key, s.value])) }));
}

/** The types a project may use: public ones and private ones it was given; an admin sees all. */
export async function listTypes(db: Db, projectId: string | undefined, all: boolean, isPublic?: boolean): Promise<VolumeType[]> {
  const granted = db.select({ id: volumeTypeAccess.typeId }).from(volumeTypeAccess).where(eq(volumeTypeAccess.projectId, projectId ?? ''));
  const visible = all ? undefined : or(eq(volumeTypes.isPublic, true), inArray(volumeTypes.id, granted));
  const pub = isPublic === undefined ? undefined : eq(volumeTypes.isPublic, isPublic);
  return withSpecs(db, await db.select().from(volumeTypes).where(and(visible, pub)).orderBy(asc(volumeTypes.name)));
}

/** A type by id or name, as the caller may see it. */
export async function findType(db: Db, idOrName: string, projectId: string | undefined, all: boolean): Promise<VolumeType> {
  const rows = await db.select().from(volumeTypes).where(or(eq(volumeTypes.id, idOrName), eq(volumeTypes.name, idOrName)));
  const row = rows.find((r) => r.id === idOrName) ?? rows[0];
  if (row && (all || row.isPublic || (await hasAccess(db, row.id, projectId)))) return (await withSpecs(db, [row]))[0]!;
  throw notFound(`Volume type ${idOrName} could not be found.`);
}

async function hasAccess(db: Db, typeId: string, projectId: string | undefined): Promise<boolean> {
  if (!projectId) return false;
  const [row] = await db
    .select()
    .from(volumeTypeAccess)
    .where(and(eq(volumeTypeAccess.typeId, typeId), eq(volumeTypeAccess.projectId, projectId)));
  return row !== undefined;
}

export async function defaultType(db: Db): Promise<VolumeType> {
  return findType(db, DEFAULT_TYPE, undefined, true);
}

export async function createType(db: Db, req: { name: string; description?: string | null; isPublic?: boolean; extraSpecs?: Record<string, string> }): Promise<VolumeType> {
  const name = req.name.trim();
  if (!name || name.length > 255) throw badRequest('Volume type name can not be empty or longer than 255 characters.');
  const id = randomUUID();
  try {
    await db.insert(volumeTypes).values({ id, name, description: req.description ?? null, isPublic: req.isPublic ?? true });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Volume Type ${name} already exists.`);
    throw err;
  }
  await setExtraSpecs(db, id, req.extraSpecs ?? {});
  return findType(db, id, undefined, true);
}

export async function updateType(db: Db, id: string, req: { name?: string; description?: string | null; isPublic?: boolean }): Promise<VolumeType> {
  const type = await findType(db, id, undefined, true);
  if (req.name !== undefined && type.name === DEFAULT_TYPE && req.name !== DEFAULT_TYPE) throw badRequest('The default volume type cannot be renamed.');
  try {
    await db
      .update(volumeTypes)
      .set({ ...(req.name !== undefined ? { name: req.name } : {}), ...(req.description !== undefined ? { description: req.description } : {}), ...(req.isPublic !== undefined ? { isPublic: req.isPublic } : {}), updatedAt: new Date() })
      .where(eq(volumeTypes.id, type.id));
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Volume Type ${req.name} already exists.`);
    throw err;
  }
  return findType(db, type.id, undefined, true);
}

export async function deleteType(db: Db, id: string): Promise<void> {
  const type = await findType(db, id, undefined, true);
  if (type.name === DEFAULT_TYPE) throw badRequest('Default volume type can not be deleted.');
  const [inUse] = await db.select({ id: volumes.id }).from(volumes).where(eq(volumes.volumeTypeId, type.id)).limit(1);
  if (inUse) throw badRequest(`Target volume type is still in use. Volume Type ${type.id} deletion is not allowed with volumes present with the type.`);
  await db.delete(volumeTypes).where(eq(volumeTypes.id, type.id));
}

export async function setExtraSpecs(db: Db, typeId: string, specs: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(specs)) {
    if (!key || key.length > 255 || typeof value !== 'string' || value.length > 255) throw badRequest(`Invalid extra spec ${key}: keys and values are strings of 1 to 255 characters.`);
    await db
      .insert(volumeTypeExtraSpecs)
      .values({ typeId, key, value })
      .onConflictDoUpdate({ target: [volumeTypeExtraSpecs.typeId, volumeTypeExtraSpecs.key], set: { value } });
  }
}

export async function deleteExtraSpec(db: Db, typeId: string, key: string): Promise<void> {
  const gone = await db
    .delete(volumeTypeExtraSpecs)
    .where(and(eq(volumeTypeExtraSpecs.typeId, typeId), eq(volumeTypeExtraSpecs.key, key)))
    .returning();
  if (gone.length === 0) throw notFound(`Volume Type ${typeId} has no extra specs with key ${key}.`);
}

export async function typeAccess(db: Db, typeId: string): Promise<string[]> {
  const rows = await db.select().from(volumeTypeAccess).where(eq(volumeTypeAccess.typeId, typeId));
  return rows.map((r) => r.projectId);
}

export async function addTypeAccess(db: Db, typeId: string, projectId: string): Promise<void> {
  const type = await findType(db, typeId, undefined, true);
  if (type.isPublic) throw badRequest(`Invalid volume type: Type access modification is not applicable to public volume type.`);
  const added = await db.insert(volumeTypeAccess).values({ typeId: type.id, projectId }).onConflictDoNothing().returning();
  if (added.length === 0) throw conflict(`Volume type access for ${type.id} / ${projectId} combination already exists.`);
}

export async function removeTypeAccess(db: Db, typeId: string, projectId: string): Promise<void> {
  const gone = await db
    .delete(volumeTypeAccess)
    .where(and(eq(volumeTypeAccess.typeId, typeId), eq(volumeTypeAccess.projectId, projectId)))
    .returning();
  if (gone.length === 0) throw notFound(`Volume type access not found for ${typeId} / ${projectId} combination.`);
}
