import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TerminalError } from '../../lib/reconcile/controller.ts';
import { imageBytes, imageRecord } from '../../image/for-compute.ts';
import type { ImageService } from '../../image/index.ts';

/**
 * The host's copies of the images its servers boot from, one file per image id, fetched once
 * through the image service. A copy is written to a temporary name, synced and renamed, so a
 * crash leaves either a whole copy or none.
 */
export function imageCache(dir: string, images: ImageService) {
  // Servers built at once from one image share one download.
  const fetching = new Map<string, Promise<{ path: string; format: 'qcow2' | 'raw' }>>();
  return {
    ensure(imageId: string): Promise<{ path: string; format: 'qcow2' | 'raw' }> {
      let pending = fetching.get(imageId);
      if (!pending) {
        pending = fetch(imageId).finally(() => fetching.delete(imageId));
        fetching.set(imageId, pending);
      }
      return pending;
    },
  };

  async function fetch(imageId: string): Promise<{ path: string; format: 'qcow2' | 'raw' }> {
    const image = await imageRecord(images.store.db, imageId);
    if (!image || (image.status !== 'active' && image.status !== 'deactivated')) {
      throw new TerminalError(`Image ${imageId} could not be found or has no data.`);
    }
    if (image.diskFormat !== 'qcow2' && image.diskFormat !== 'raw') throw new TerminalError(`Image ${imageId} is ${image.diskFormat}, not qcow2 or raw.`);
    const path = join(dir, imageId);
    const have = await stat(path).catch(() => undefined);
    if (have?.size === image.size) return { path, format: image.diskFormat };
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
    return { path, format: image.diskFormat };
  }
}
