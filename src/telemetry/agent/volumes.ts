import { eq, notInArray } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import { attachments, snapshots, volumes, volumeTypes } from '../../volume/tables.ts';
import { endMissing, type Sample } from './meter-store.ts';

// Ceilometer's volume pollsters: each volume's and each snapshot's size in GB, as the volume
// service records it, on resources of Gnocchi's volume type. What a volume reads and writes is
// metered where its guest runs (the host's collector adds its disk counters to the same resource).

const GONE = ['deleting', 'error_deleting'] as const;

export async function volumeSamples(db: Db): Promise<Sample[]> {
  const rows = await db
    .select({ v: volumes, type: volumeTypes.name })
    .from(volumes)
    .leftJoin(volumeTypes, eq(volumeTypes.id, volumes.volumeTypeId))
    .where(notInArray(volumes.status, [...GONE]));
  const attached = new Map(
    (await db.select({ volumeId: attachments.volumeId, serverId: attachments.serverId }).from(attachments).where(eq(attachments.status, 'attached'))).map((a) => [a.volumeId, a.serverId]),
  );
  const snaps = await db.select().from(snapshots).where(notInArray(snapshots.status, [...GONE]));
  return [
    ...rows.map(({ v, type }) => ({
      original: v.id,
      type: 'volume',
      projectId: v.projectId,
      attributes: { display_name: v.name ?? '', volume_type: type ?? v.volumeTypeId, image_id: v.imageId, instance_id: attached.get(v.id) ?? null },
      meters: { volume: { unit: 'volume', cumulative: false, value: 1 }, 'volume.size': { unit: 'GB', cumulative: false, value: v.size } },
    })),
    ...snaps.map((s) => ({
      original: s.id,
      type: 'volume',
      projectId: s.projectId,
      attributes: { display_name: s.name ?? '', volume_type: null, image_id: null, instance_id: null },
      meters: { 'snapshot.size': { unit: 'GB', cumulative: false, value: s.size } },
    })),
  ];
}

/** Ends the resources of volumes and snapshots that are gone. */
export const endGoneVolumes = (tx: Db, present: Sample[]) => endMissing(tx, 'volume', undefined, present.map((s) => s.original));
