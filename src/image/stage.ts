import { and, eq } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import { images } from './tables.ts';
import { getOwned, type Caller } from './access.ts';
import { checkBytes, lockQuota, usage } from './quota.ts';
import { asApiError } from './upload.ts';
import type { StoreWriter } from './stores/store.ts';
import type { ImageService } from './service.ts';

/**
 * PUT /v2/images/{id}/stage: keeps the data in the staging area for a later glance-direct import;
 * the image goes queued → uploading. The data is checked at import, as an upload's is. While
 * bytes arrive, uploading_to names the staging area; once they are all kept it is cleared, which
 * is what an import waits for, and the image's size is the staged data's, so that it counts against
 * the quota. A failed stage keeps nothing and puts the image back to queued.
 */
export async function stageImageData(svc: ImageService, c: Caller, id: string, body: AsyncIterable<Buffer>, length?: number): Promise<void> {
  const { image, held } = await svc.store.tx(async (tx) => {
    const image = await getOwned(tx, c, id, 'stage data for');
    if (image.status !== 'queued') throw conflict(`Image status transition from ${image.status} to uploading is not allowed`);
    const { bytes } = await usage(tx, image.owner, id);
    if (length !== undefined) checkBytes(svc.quota, bytes, length);
    await tx.update(images).set({ status: 'uploading', uploadingTo: svc.staging.id, updatedAt: new Date() }).where(eq(images.id, id));
    return { image, held: bytes };
  });
  const mine = and(eq(images.id, id), eq(images.status, 'uploading'), eq(images.uploadingTo, svc.staging.id));
  let writer: StoreWriter | undefined;
  let committed = false;
  try {
    writer = await svc.staging.create(id);
    let received = 0;
    for await (const chunk of body) {
      checkBytes(svc.quota, held, received + chunk.length);
      await writer.write(chunk, received);
      received += chunk.length;
    }
    if (received === 0) throw badRequest('No image data was sent to stage.');
    await writer.commit();
    committed = true;
    // The staged bytes count against the project's quota until the import replaces them.
    await svc.store.tx(async (tx) => {
      await lockQuota(tx, image.owner);
      checkBytes(svc.quota, (await usage(tx, image.owner, id)).bytes, received);
      const done = await tx.update(images).set({ size: received, uploadingTo: null, updatedAt: new Date() }).where(mine).returning({ id: images.id });
      if (!done.length) throw conflict(`Image ${id} changed while its data was staged.`);
    });
  } catch (err) {
    await writer?.abort();
    if (committed) await svc.staging.delete(id);
    await svc.store.db.update(images).set({ status: 'queued', size: null, uploadingTo: null, updatedAt: new Date() }).where(mine);
    throw asApiError(err, svc, id);
  }
}
