import { and, count, eq, ne, sql, sum } from 'drizzle-orm';
import { overQuota } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { images } from './tables.ts';

export interface ImageQuota {
  /** Images a project may own. */
  images: number;
  /** Bytes of image data a project may store. */
  bytes: number;
}

/** Serialises the quota checks of one project until the transaction ends, so that two requests
 * cannot both take the last of it. */
export async function lockQuota(tx: Db, owner: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`image-quota:${owner}`}))`);
}

/** What a project holds: its images, and the bytes of their data (apart from one image's). */
export async function usage(db: Db, owner: string, except?: string): Promise<{ images: number; bytes: number }> {
  const [row] = await db
    .select({ images: count(), bytes: sum(images.size).mapWith(Number) })
    .from(images)
    .where(and(eq(images.owner, owner), except ? ne(images.id, except) : undefined));
  return { images: row?.images ?? 0, bytes: row?.bytes ?? 0 };
}

export function checkImageCount(quota: ImageQuota, held: number): void {
  if (held + 1 > quota.images) throw overQuota(`Maximum number of images exceeded: the project holds ${held} of ${quota.images}.`, 413);
}

export function checkBytes(quota: ImageQuota, held: number, adding: number): void {
  if (held + adding > quota.bytes) {
    throw overQuota(`Denying attempt to upload image because it exceeds the quota: ${held + adding} bytes would exceed ${quota.bytes}.`, 413);
  }
}
