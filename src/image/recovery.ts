import { and, eq, inArray } from 'drizzle-orm';
import { images } from './tables.ts';
import { failInterrupted } from './tasks.ts';
import type { ImageService } from './service.ts';

/**
 * Brings the store and the records back in line after a crash, at every start: temporary files
 * of interrupted uploads go, images this store was receiving go back to queued, and bytes that
 * belong to no active image (a crash between the store's commit and the database's) are removed.
 */
export async function recover(svc: ImageService): Promise<void> {
  await svc.data.sweep();
  await recoverImports(svc);
  const reset = await svc.store.db
    .update(images)
    .set({ status: 'queued', uploadingTo: null, updatedAt: new Date() })
    .where(and(eq(images.status, 'saving'), eq(images.uploadingTo, svc.data.id)))
    .returning({ id: images.id });
  const stored = await svc.data.list();
  const kept = stored.length
    ? new Set(
        (await svc.store.db.select({ id: images.id }).from(images).where(and(inArray(images.id, stored), inArray(images.status, ['active', 'deactivated'])))).map(
          (r) => r.id,
        ),
      )
    : new Set<string>();
  const orphans = stored.filter((id) => !kept.has(id));
  for (const id of orphans) await svc.data.delete(id);
  if (reset.length || orphans.length) svc.log.warn({ reset: reset.map((r) => r.id), orphans }, 'image store recovered from an interrupted run');
}

/**
 * Interoperable imports a crash cut short: a stage under way starts over (queued), an import
 * under way goes back to its staged data (uploading) where that is still kept, else to queued;
 * staged data that no image waits on goes, and the tasks that were running are failed.
 */
async function recoverImports(svc: ImageService): Promise<void> {
  const db = svc.store.db;
  await svc.staging.sweep();
  await db
    .update(images)
    .set({ status: 'queued', size: null, uploadingTo: null, updatedAt: new Date() })
    .where(and(eq(images.status, 'uploading'), eq(images.uploadingTo, svc.staging.id)));
  const staged = new Set(await svc.staging.list());
  const cut = await db
    .select({ id: images.id })
    .from(images)
    .where(and(eq(images.status, 'importing'), eq(images.uploadingTo, svc.data.id)));
  for (const { id } of cut) {
    await db
      .update(images)
      .set(staged.has(id) ? { status: 'uploading', uploadingTo: null, updatedAt: new Date() } : { status: 'queued', size: null, uploadingTo: null, updatedAt: new Date() })
      .where(eq(images.id, id));
  }
  const waiting = staged.size
    ? new Set((await db.select({ id: images.id }).from(images).where(and(inArray(images.id, [...staged]), eq(images.status, 'uploading')))).map((r) => r.id))
    : new Set<string>();
  for (const id of staged) if (!waiting.has(id)) await svc.staging.delete(id);
  await failInterrupted(db);
}
