import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TerminalError } from '../../lib/reconcile/controller.ts';
import { imageBytes, imageRecord } from '../../image/for-compute.ts';
import type { ImageService } from '../../image/index.ts';
import type { GuestSpec, RbdSnapshot } from '../virt/driver.ts';
import { convertToQcow2, isConverted } from './convert.ts';
import { BOOT_FORMATS } from '../boot-formats.ts';

/** What a guest's root disk is made from: a local file, or the image's snapshot in RBD. */
export type ImageForDisk = Omit<NonNullable<GuestSpec['image']>, 'id'>;

/**
 * The host's copies of the images its servers boot from, one file per image id, fetched once
 * through the image service. A copy is written to a temporary name, synced and renamed, so a
 * crash leaves either a whole copy or none. A host whose disks are RBD clones (rbdSnapshotOf
 * given) copies nothing of a raw image that the image service keeps in the same cluster. An image
 * in another hypervisor's format is kept as the qcow2 converted from it (<id>.qcow2), the
 * download removed once converted.
 */
export function imageCache(dir: string, images: ImageService, rbdSnapshotOf?: (imageId: string) => Promise<RbdSnapshot | undefined>) {
  // Servers built at once from one image share one download.
  const fetching = new Map<string, Promise<ImageForDisk>>();
  return {
    ensure(imageId: string): Promise<ImageForDisk> {
      let pending = fetching.get(imageId);
      if (!pending) {
        pending = fetch(imageId).finally(() => fetching.delete(imageId));
        fetching.set(imageId, pending);
      }
      return pending;
    },
  };

  async function fetch(imageId: string): Promise<ImageForDisk> {
    const image = await imageRecord(images.store.db, imageId);
    if (!image || (image.status !== 'active' && image.status !== 'deactivated')) {
      throw new TerminalError(`Image ${imageId} could not be found or has no data.`);
    }
    const format = image.diskFormat ?? '';
    if (!BOOT_FORMATS.includes(format)) throw new TerminalError(`Image ${imageId} is ${format}, which servers do not boot from.`);
    // Clones need raw bytes: a qcow2 image in RBD is converted from a local copy instead.
    const rbd = image.diskFormat === 'raw' ? await rbdSnapshotOf?.(imageId) : undefined;
    if (rbd) return { rbd, format: 'raw' };
    const path = join(dir, imageId);
    const converted = `${path}.qcow2`;
    if (isConverted(format) && (await stat(converted).catch(() => undefined))) return { path: converted, format: 'qcow2' };
    const have = await stat(path).catch(() => undefined);
    if (have?.size !== image.size) await download(imageId, path);
    if (isConverted(format)) {
      await convertToQcow2(imageId, path, format, converted);
      await rm(path, { force: true });
      return { path: converted, format: 'qcow2' };
    }
    return { path, format: format as 'qcow2' | 'raw' | 'iso' };
  }

  async function download(imageId: string, path: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.part-${process.pid}`;
    try {
      await pipeline(await imageBytes(images, imageId), createWriteStream(tmp, { mode: 0o600 }));
      const fd = await open(tmp, 'r');
      await fd.sync().finally(() => fd.close());
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
