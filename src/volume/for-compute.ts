import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { VolumeConnection } from './drivers/driver.ts';
import type { VolumeService } from './service.ts';
import { volumes } from './tables.ts';
import type { Volume } from './volumes.ts';

// What the compute service may ask of volumes besides the domain functions of volumes.ts: the
// record behind an attachment and how QEMU opens it. Compute reaches volumes through this file,
// volumes.ts (createVolume, deleteVolume, onInUseExtend) and attachments.ts.

export { type VolumeConnection } from './drivers/driver.ts';
export { createVolume, deleteVolume, onInUseExtend, GiB, type Volume } from './volumes.ts';
export { createSnapshot } from './snapshots.ts';

/** A volume's record by id alone, for the host that carries out what the API already allowed. */
export async function volumeRecord(db: Db, id: string): Promise<Volume | undefined> {
  const [row] = await db.select().from(volumes).where(eq(volumes.id, id));
  return row;
}

/** How QEMU opens the volume (the driver's connection), for blockdev-add. */
export const volumeConnection = (svc: VolumeService, volumeId: string): VolumeConnection => svc.driver.connection(volumeId);
