import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { and, eq } from 'drizzle-orm';
import { createImageRecord, imageRecord, uploadImageStream, type Image } from '../image/for-compute.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest } from '../lib/errors.ts';
import { run } from '../lib/host/run.ts';
import type { Db } from '../lib/store/db.ts';
import { settleVolume } from './attachments.ts';
import type { VolumeService } from './service.ts';
import { volumes } from './tables.ts';
import { getVolume, qemuFormatOf, wakeVolume, type Volume } from './volumes.ts';

// os-volume_upload_image: a volume's bytes become a new image in the image service. The API
// makes the image (queued) and marks the volume `uploading` with the image's id; the worker
// streams the bytes (converted when another disk format is asked for) and gives the volume back
// the status its attachments make. A restart finds `uploading` volumes and uploads again.

/** The disk formats Cinder writes an upload in that qemu-img can write too. */
export const UPLOAD_DISK_FORMATS = ['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx'];
const UPLOAD_CONTAINER_FORMATS = ['bare'];
/** Glance's own attributes, which a volume's image metadata does not carry over as properties. */
const GLANCE_CORE = new Set(['checksum', 'container_format', 'disk_format', 'image_name', 'image_id', 'min_disk', 'min_ram', 'name', 'size']);

export interface UploadRequest {
  imageName: string;
  force: boolean;
  diskFormat: string;
  containerFormat: string;
  /** 3.1 and later. */
  visibility?: string;
  protected?: boolean;
}

/** Checks the volume and makes the image it is uploaded into; the worker does the upload. */
export async function requestUpload(
  tx: Db,
  svc: VolumeService,
  auth: AuthContext,
  volumeId: string,
  req: UploadRequest,
): Promise<{ volume: Volume; image: Image }> {
  const vol = await getVolume(tx, auth, volumeId, true);
  if (!UPLOAD_DISK_FORMATS.includes(req.diskFormat)) {
    throw badRequest(`Invalid disk-format '${req.diskFormat}' is specified. Allowed disk-formats are ${UPLOAD_DISK_FORMATS.join(', ')}.`);
  }
  if (!UPLOAD_CONTAINER_FORMATS.includes(req.containerFormat)) {
    throw badRequest(`Invalid container-format '${req.containerFormat}' is specified. Allowed container-formats are ${UPLOAD_CONTAINER_FORMATS.join(', ')}.`);
  }
  if (vol.status !== 'available' && vol.status !== 'in-use') {
    throw badRequest(`Invalid volume: Volume ${vol.id} status must be available or in-use, but current status is: ${vol.status}.`);
  }
  if (vol.status === 'in-use' && !req.force) throw badRequest('Invalid volume: Volume status is in-use.');
  const properties = Object.fromEntries(Object.entries(vol.imageMetadata ?? {}).filter(([k]) => !GLANCE_CORE.has(k)));
  const image = await createImageRecord(tx, svc.images, auth, {
    ...properties,
    name: req.imageName,
    disk_format: req.diskFormat,
    container_format: req.containerFormat,
    ...(req.visibility !== undefined ? { visibility: req.visibility } : {}),
    ...(req.protected !== undefined ? { protected: req.protected } : {}),
  });
  const [row] = await tx.update(volumes).set({ status: 'uploading', uploadImageId: image.id, updatedAt: new Date() }).where(eq(volumes.id, vol.id)).returning();
  await wakeVolume(tx, vol.id);
  return { volume: row!, image };
}

/** The worker's part: uploads the volume into its image unless that is done or gone, then gives the
 * volume back its status. A failed upload leaves the image queued and the reason on the volume. */
export async function finishUpload(svc: VolumeService, vol: Volume): Promise<void> {
  const image = vol.uploadImageId ? await imageRecord(svc.store.db, vol.uploadImageId) : undefined;
  let fault: string | null = null;
  if (image?.status === 'queued') {
    try {
      await writeImage(svc, vol, image);
    } catch (err) {
      svc.log.warn({ volume: vol.id, image: image.id, err }, 'volume upload to image failed');
      fault = `upload to image ${image.id} failed: ${(err as Error).message}`;
    }
  }
  await svc.store.tx(async (tx) => {
    const [row] = await tx
      .select({ id: volumes.id })
      .from(volumes)
      .where(and(eq(volumes.id, vol.id), eq(volumes.status, 'uploading')))
      .for('update');
    if (!row) return;
    // 'available' first: settleVolume then makes it in-use if a guest holds it.
    await tx
      .update(volumes)
      .set({ status: 'available', uploadImageId: null, ...(fault ? { fault } : {}), updatedAt: new Date() })
      .where(eq(volumes.id, vol.id));
    await settleVolume(tx, vol.id);
  });
}

async function writeImage(svc: VolumeService, vol: Volume, image: Image): Promise<void> {
  const format = qemuFormatOf(image.diskFormat);
  if (format === 'raw') return uploadImageStream(svc.images, image.owner, image.id, await svc.driver.read(vol.id));
  // qemu-img writes the other formats from a file it can seek in: the backend's own file, or a
  // raw copy of the volume spooled first.
  await mkdir(svc.spoolDir, { recursive: true, mode: 0o700 });
  const out = join(svc.spoolDir, `${vol.id}.${image.id}.${format}`);
  const raw = join(svc.spoolDir, `${vol.id}.${image.id}.raw`);
  try {
    const conn = svc.driver.connection(vol.id);
    let source = raw;
    if (conn.driver === 'file') source = conn.filename;
    else await pipeline(await svc.driver.read(vol.id), createWriteStream(raw, { mode: 0o600 }));
    await run(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', format, source, out], { log: svc.log });
    await uploadImageStream(svc.images, image.owner, image.id, createReadStream(out));
  } finally {
    await rm(out, { force: true });
    await rm(raw, { force: true });
  }
}
