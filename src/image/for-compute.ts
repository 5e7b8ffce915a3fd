import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Db } from '../lib/store/db.ts';
import { callerOf, getVisible, type Caller, type Image } from './access.ts';
import { createImage, deleteImage, updateImage } from './images.ts';
import { listImages } from './listing.ts';
import type { Change } from './patch.ts';
import { uploadImageData } from './upload.ts';
import { images } from './tables.ts';
import type { ImageService } from './service.ts';

// What the compute service may ask of images: the one a server boots from, its bytes, and the
// snapshots it writes back. Compute reaches images through this file only.

export type { Image };

/** The upload's format checks, over a host's copy of an image before qemu-img reads it. */
export { inspectImageFile } from './formats/inspect-file.ts';

/** The image as the caller may see it, for a server to boot from. */
export const bootImage = (db: Db, auth: AuthContext, id: string) => getVisible(db, callerOf(auth), id);

/** The bytes of an active image. */
export const imageBytes = (svc: ImageService, id: string): Promise<Readable> => svc.data.read(id);

/** The local file of an active image's bytes, when the store keeps one (read it, never write it). */
export const imageFile = (svc: ImageService, id: string): string | undefined => svc.data.localFile?.(id);

/** A queued qcow2 image owned by the server's project, the record a snapshot fills in. */
export function createSnapshotRecord(tx: Db, svc: ImageService, auth: AuthContext, name: string, properties: Record<string, string>): Promise<Image> {
  return createImage(tx, callerOf(auth), { name, disk_format: 'qcow2', container_format: 'bare', visibility: 'private', ...properties }, svc.quota);
}

/** Uploads a snapshot's file into its record, as the owning project would. */
export const uploadSnapshot = (svc: ImageService, owner: string, imageId: string, path: string): Promise<void> => uploadImageStream(svc, owner, imageId, createReadStream(path));

/** A queued image owned by the caller's project with the attributes given, as POST /v2/images
 * makes it (a volume uploaded to the image service). */
export const createImageRecord = (tx: Db, svc: ImageService, auth: AuthContext, body: Record<string, unknown>): Promise<Image> =>
  createImage(tx, callerOf(auth), body, svc.quota);

/** Streams bytes into a queued image, as its owning project would upload them. */
export function uploadImageStream(svc: ImageService, owner: string, imageId: string, body: AsyncIterable<Buffer>): Promise<void> {
  const caller: Caller = { projectId: owner, admin: false, mayPublicize: false, mayCommunitize: false };
  return uploadImageData(svc, caller, imageId, body);
}

/** An image's record by id alone, for the host that builds a server the API already let boot it. */
export async function imageRecord(db: Db, id: string): Promise<Image | undefined> {
  const [row] = await db.select().from(images).where(eq(images.id, id));
  return row;
}

/** Deletes an image as its owning project would (a server's shelved image, once unshelved): its
 * record and bytes together, then whatever was staged of it. */
export async function deleteProjectImage(svc: ImageService, owner: string, id: string): Promise<void> {
  const caller: Caller = { projectId: owner, admin: false, mayPublicize: false, mayCommunitize: false };
  await svc.store.tx(async (tx) => {
    await deleteImage(tx, caller, id);
    await svc.data.delete(id);
  });
  await svc.staging.delete(id);
}

// Nova's deprecated image proxy (/compute/v2.1/images): the same records and rules as /v2/images.

/** The images the caller would list at /v2/images with that query (Glance's names). */
export async function proxyListImages(db: Db, auth: AuthContext, query: Record<string, string | undefined>): Promise<Image[]> {
  const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
  return (await listImages(db, callerOf(auth), defined)).images;
}

export const proxyImage = (db: Db, auth: AuthContext, id: string) => getVisible(db, callerOf(auth), id);

/** Deletes an image's record and its bytes, as DELETE /v2/images does (the bytes first: a store
 * that refuses leaves the image); imageDeleted then drops what was staged. */
export async function proxyDeleteImage(tx: Db, svc: ImageService, auth: AuthContext, id: string): Promise<Image> {
  const image = await deleteImage(tx, callerOf(auth), id);
  await svc.data.delete(image.id);
  return image;
}

export const imageDeleted = (svc: ImageService, id: string) => svc.staging.delete(id);

/** Makes an image's free properties `next`, as a PATCH of removes and adds would. */
export function proxySetProperties(tx: Db, auth: AuthContext, id: string, current: Record<string, string>, next: Record<string, string>): Promise<Image> {
  const changes: Change[] = [
    ...Object.keys(current)
      .filter((k) => !(k in next))
      .map((name) => ({ op: 'remove' as const, name })),
    ...Object.entries(next)
      .filter(([k, v]) => current[k] !== v)
      .map(([name, value]) => ({ op: 'add' as const, name, value })),
  ];
  return updateImage(tx, callerOf(auth), id, changes);
}
