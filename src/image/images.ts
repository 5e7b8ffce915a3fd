import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { badRequest, conflict, forbidden, notFound, overQuota } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { images } from './tables.ts';
import { CORE, checkValue, checkWritable } from './attributes.ts';
import { getOwned, type Caller, type Image } from './access.ts';
import { checkImageCount, lockQuota, usage, type ImageQuota } from './quota.ts';
import type { Change } from './patch.ts';

/** Glance's default limits on what one image carries. */
const MAX_TAGS = 128;
const MAX_PROPERTIES = 128;

/** The attributes a client may set, and the column each is kept in. */
const COLUMNS = {
  name: 'name',
  visibility: 'visibility',
  protected: 'protected',
  os_hidden: 'hidden',
  owner: 'owner',
  container_format: 'containerFormat',
  disk_format: 'diskFormat',
  min_ram: 'minRam',
  min_disk: 'minDisk',
  tags: 'tags',
} as const satisfies Record<string, keyof Image>;

type Settable = Pick<Image, (typeof COLUMNS)[keyof typeof COLUMNS] | 'properties'>;
const columnOf = (name: string) => COLUMNS[name as keyof typeof COLUMNS] as keyof Settable | undefined;

/** POST /v2/images: a queued image owned by the caller's project unless the admin names another. */
export async function createImage(tx: Db, c: Caller, body: Record<string, unknown>, quota: ImageQuota): Promise<Image> {
  const values: Partial<Settable> & { properties: Record<string, string> } = { properties: {} };
  let id: string = randomUUID();
  for (const [name, value] of Object.entries(body)) {
    if (name !== 'id') checkWritable(name);
    checkValue(name, value);
    if (name === 'id') id = (value as string).toLowerCase();
    else set(values, name, value);
  }
  const owner = values.owner ?? c.projectId;
  if (owner !== c.projectId && !c.admin) throw forbidden(`You are not permitted to create images owned by '${owner}'.`);
  checkRules(c, undefined, { ...values, owner });
  await lockQuota(tx, owner);
  checkImageCount(quota, (await usage(tx, owner)).images);
  const [existing] = await tx.select({ id: images.id }).from(images).where(eq(images.id, id));
  if (existing) throw conflict(`Image with identifier ${id} already exists!`);
  const [row] = await tx
    .insert(images)
    .values({ ...values, id, owner, tags: dedupe(values.tags ?? []) })
    .returning();
  return row!;
}

/** PATCH /v2/images/{id}: applies the changes in order, as one update. */
export async function updateImage(tx: Db, c: Caller, id: string, changes: Change[]): Promise<Image> {
  const image = await getOwned(tx, c, id);
  const next: Settable = { ...image, properties: { ...image.properties } };
  for (const change of changes) {
    const column = columnOf(change.name);
    if (change.op === 'remove') {
      if (column || CORE[change.name]) throw forbidden(`Property ${change.name} may not be removed.`);
      if (!(change.name in next.properties)) throw conflict(`Property ${change.name} does not exist.`);
      delete next.properties[change.name];
    } else if (change.op === 'replace' && !column && !(change.name in next.properties)) {
      throw conflict(`Property ${change.name} does not exist.`);
    } else {
      set(next, change.name, change.value);
    }
  }
  checkRules(c, image, next);
  if (!changes.length) return image;
  const [row] = await tx
    .update(images)
    .set({ ...pick(next), tags: dedupe(next.tags), updatedAt: new Date() })
    .where(eq(images.id, id))
    .returning();
  return row!;
}

/** DELETE /v2/images/{id}: removes the record; the caller removes the bytes once committed. */
export async function deleteImage(tx: Db, c: Caller, id: string): Promise<Image> {
  const image = await getOwned(tx, c, id, 'delete');
  if (image.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
  await tx.delete(images).where(eq(images.id, id));
  return image;
}

export async function addTag(tx: Db, c: Caller, id: string, tag: string): Promise<void> {
  const image = await getOwned(tx, c, id);
  if (tag.length > 255) throw badRequest('Tags are at most 255 characters long.');
  if (image.tags.includes(tag)) return;
  if (image.tags.length >= MAX_TAGS) throw overQuota(`Maximum number of tags (${MAX_TAGS}) exceeded for image ${id}.`, 413);
  await tx.update(images).set({ tags: [...image.tags, tag], updatedAt: new Date() }).where(eq(images.id, id));
}

export async function removeTag(tx: Db, c: Caller, id: string, tag: string): Promise<void> {
  const image = await getOwned(tx, c, id);
  if (!image.tags.includes(tag)) throw notFound(`Tag ${tag} not found on image ${id}.`);
  await tx.update(images).set({ tags: image.tags.filter((t) => t !== tag), updatedAt: new Date() }).where(eq(images.id, id));
}

/** POST /v2/images/{id}/actions/deactivate and reactivate: only between active and deactivated;
 * asking for the state an image is already in is no error. */
export async function setDeactivated(tx: Db, c: Caller, id: string, deactivated: boolean): Promise<void> {
  const image = await getOwned(tx, c, id);
  const [from, to] = deactivated ? (['active', 'deactivated'] as const) : (['deactivated', 'active'] as const);
  if (image.status === to) return;
  if (image.status !== from) throw badRequest(`Not allowed to ${deactivated ? 'deactivate' : 'reactivate'} image in status '${image.status}'`);
  await tx.update(images).set({ status: to, updatedAt: new Date() }).where(eq(images.id, id));
}

function set(target: Partial<Settable> & { properties: Record<string, string> }, name: string, value: unknown): void {
  const column = columnOf(name);
  if (column) (target as Record<string, unknown>)[column] = value;
  else target.properties[name] = value as string;
}

const pick = (s: Settable): Settable => {
  const out = { properties: s.properties } as Settable;
  for (const column of Object.values(COLUMNS)) (out as Record<string, unknown>)[column] = s[column];
  return out;
};

const dedupe = (tags: string[]) => [...new Set(tags)];

/** The rules that depend on who asks and on the image's state, for creation (before undefined)
 * and updates alike. */
function checkRules(c: Caller, before: Image | undefined, after: Partial<Settable> & { properties: Record<string, string> }): void {
  if (after.visibility !== before?.visibility) {
    if (after.visibility === 'public' && !c.mayPublicize) throw forbidden("Policy doesn't allow image:publicize_image to be performed.");
    if (after.visibility === 'community' && !c.mayCommunitize) throw forbidden("Policy doesn't allow image:communitize_image to be performed.");
  }
  if (before && after.owner !== before.owner && !c.admin) throw forbidden("Owner can't be updated by non admin.");
  if (before && before.status !== 'queued') {
    for (const name of ['disk_format', 'container_format'] as const) {
      if (after[COLUMNS[name]] !== before[COLUMNS[name]]) throw forbidden(`Attribute ${name} can be only replaced for a queued image.`);
    }
  }
  if (after.tags && dedupe(after.tags).length > MAX_TAGS) throw overQuota(`Maximum number of tags (${MAX_TAGS}) exceeded.`, 413);
  if (Object.keys(after.properties).length > MAX_PROPERTIES) throw overQuota(`Maximum number of properties (${MAX_PROPERTIES}) exceeded.`, 413);
}
