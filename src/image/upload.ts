import { and, eq } from 'drizzle-orm';
import { ApiError, badRequest, conflict, overQuota } from '../lib/errors.ts';
import { images } from './tables.ts';
import { getOwned, type Caller, type Image } from './access.ts';
import { BARE_CONTAINERS } from './attributes.ts';
import { checkBytes, lockQuota, usage } from './quota.ts';
import { FormatSniffer } from './formats/sniff.ts';
import { Spool } from './spool.ts';
import type { StoreWriter } from './stores/store.ts';
import type { ImageService } from './service.ts';

/**
 * PUT /v2/images/{id}/file: streams the data into the store while checking its format and the
 * quota and hashing it; the image goes queued → saving → active. Whatever stops the upload (a
 * refusal, the client going away, a store failure) removes what was written and puts the image
 * back to queued.
 */
export async function uploadImageData(svc: ImageService, c: Caller, id: string, body: AsyncIterable<Buffer>, length?: number): Promise<void> {
  const image = await svc.store.tx(async (tx) => {
    const image = await getOwned(tx, c, id, 'upload data to');
    if (image.status !== 'queued') throw conflict(`Image status transition from ${image.status} to saving is not allowed`);
    if (!image.diskFormat || !image.containerFormat) throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
    if (length !== undefined) checkBytes(svc.quota, (await usage(tx, image.owner, id)).bytes, length);
    await tx.update(images).set({ status: 'saving', uploadingTo: svc.data.id, updatedAt: new Date() }).where(eq(images.id, id));
    return image;
  });
  await storeImageData(svc, image, 'saving', body);
}

/**
 * Streams data into the store for an image the caller already moved to `during` (saving for an
 * upload, importing for an import) with this store's id in uploading_to; the data is checked,
 * hashed and counted against the quota as it passes, and the image becomes active. On failure
 * the store keeps nothing and the image goes back to queued.
 */
export async function storeImageData(svc: ImageService, image: Image, during: 'saving' | 'importing', body: AsyncIterable<Buffer>): Promise<void> {
  const id = image.id;
  const { bytes: held } = await usage(svc.store.db, image.owner, id);
  const mine = and(eq(images.id, id), eq(images.status, during), eq(images.uploadingTo, svc.data.id));
  let writer: StoreWriter | undefined;
  let spool: Spool | undefined;
  let committed = false;
  try {
    writer = await svc.data.create(id, { diskFormat: image.diskFormat!, room: svc.quota.bytes - held });
    const declared = image.diskFormat!;
    const sniffer = new FormatSniffer({ declared, strict: BARE_CONTAINERS.has(image.containerFormat!) && !svc.settings.formatCheckSkip.has(declared) });
    spool = new Spool(writer, ['md5', 'sha512'], (bytes) => sniffer.push(bytes));
    let received = 0;
    for await (const chunk of body) {
      received += chunk.length;
      checkBytes(svc.quota, held, received);
      const full = spool.write(chunk);
      if (full) await full;
    }
    // The spool's last slot is inspected as it ends, before the sniffer's verdict.
    const { size, digests } = await spool.end();
    const { virtualSize } = sniffer.finish();
    const converted = await writer.commit();
    committed = true;
    // A store that converted the data (a qcow2 kept raw) says what the record must describe.
    const kept = converted ?? { diskFormat: declared, size, virtualSize, digests: { md5: digests.md5!, sha512: digests.sha512! } };
    await svc.store.tx(async (tx) => {
      await lockQuota(tx, image.owner);
      checkBytes(svc.quota, (await usage(tx, image.owner, id)).bytes, kept.size);
      const done = await tx
        .update(images)
        .set({ status: 'active', diskFormat: kept.diskFormat, size: kept.size, virtualSize: kept.virtualSize ?? null, checksum: kept.digests.md5, hashAlgo: 'sha512', hashValue: kept.digests.sha512, uploadingTo: null, updatedAt: new Date() })
        .where(mine)
        .returning({ id: images.id });
      if (!done.length) throw new ApiError('NotFound', `Image ${id} could not be found after upload. The image may have been deleted during the upload.`, 'NotFound', 410);
    });
  } catch (err) {
    await spool?.close();
    await writer?.abort();
    if (committed) await svc.data.delete(id);
    await svc.store.db.update(images).set({ status: 'queued', size: null, uploadingTo: null, updatedAt: new Date() }).where(mine);
    throw asApiError(err, svc, id);
  } finally {
    await spool?.close();
  }
}

/** Refusals pass through; a client that went away and a store that failed get errors of their
 * own, never a bare 500. */
export function asApiError(err: unknown, svc: ImageService, id: string): ApiError {
  if (err instanceof ApiError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return overQuota('Image storage media is full.', 413);
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).message === 'aborted') {
    return badRequest(`The upload of image ${id} was interrupted before its end.`);
  }
  svc.log.error({ err, image: id }, 'image upload failed in the store');
  return new ApiError('Unavailable', 'The image store could not keep the data; try again later.');
}
