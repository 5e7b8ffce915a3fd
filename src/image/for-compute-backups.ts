import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { images } from './tables.ts';
import type { ImageService } from './service.ts';

// What compute's createBackup asks of images: a server's backups of one type, and the deletion of
// those its rotation lets go. Images of a server's backups carry the properties Nova gives them.

/** A server's backup images of that type, newest first. */
export function backupsOf(db: Db, serverId: string, backupType: string) {
  return db
    .select({ id: images.id })
    .from(images)
    .where(
      and(
        sql`${images.properties}->>'image_type' = 'backup'`,
        sql`${images.properties}->>'instance_uuid' = ${serverId}`,
        sql`${images.properties}->>'backup_type' = ${backupType}`,
      ),
    )
    .orderBy(desc(images.createdAt), desc(images.id));
}

/** Deletes a backup the rotation lets go: its bytes before its record, as an image DELETE does. */
export async function deleteBackup(tx: Db, svc: ImageService, id: string): Promise<void> {
  await svc.data.delete(id);
  await svc.staging.delete(id);
  await tx.delete(images).where(eq(images.id, id));
}
