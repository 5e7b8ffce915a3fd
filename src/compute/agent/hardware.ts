import type { Db } from '../../lib/store/db.ts';
import { TerminalError } from '../../lib/reconcile/controller.ts';
import { imageRecord } from '../../image/for-compute.ts';
import { hardwareOf, type GuestHardware } from '../virt/hardware.ts';

/** The virtual hardware the server's image asks for (hw_disk_bus…); Nova's defaults for a server
 * booted from a volume, or whose image is gone. A value that cannot be honoured fails the build. */
export async function imageHardware(db: Db, imageId: string): Promise<GuestHardware | undefined> {
  const image = imageId ? await imageRecord(db, imageId) : undefined;
  if (!image) return undefined;
  try {
    return hardwareOf(image.properties);
  } catch (err) {
    throw new TerminalError((err as Error).message);
  }
}
