import { and, eq, isNotNull } from 'drizzle-orm';
import { images } from '../../image/tables.ts';
import type { Db } from '../../lib/store/db.ts';
import { endMissing, type Sample } from './meter-store.ts';

// Ceilometer's image pollster: each active image's size in bytes, as the image service records it.

export async function imageSamples(db: Db): Promise<Sample[]> {
  const rows = await db
    .select({ id: images.id, name: images.name, owner: images.owner, size: images.size, diskFormat: images.diskFormat, containerFormat: images.containerFormat })
    .from(images)
    .where(and(eq(images.status, 'active'), isNotNull(images.size)));
  return rows.map((i) => ({
    original: i.id,
    type: 'image',
    projectId: i.owner,
    attributes: { name: i.name ?? '', container_format: i.containerFormat ?? '', disk_format: i.diskFormat ?? '', source: 'image' },
    meters: { 'image.size': { unit: 'B', cumulative: false, value: i.size! } },
  }));
}

/** Ends the resources of images no longer active. */
export const endGoneImages = (tx: Db, present: Sample[]) => endMissing(tx, 'image', { source: 'image' }, present.map((s) => s.original));
