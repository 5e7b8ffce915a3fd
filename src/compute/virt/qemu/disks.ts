import { copyFile, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, dirname } from 'node:path';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';
import type { GuestSpec } from '../driver.ts';
import { createBlankDisk } from './blank-disk.ts';

// Guests' root disks: qcow2 overlays on bases that the guests of one image share. A base is the
// image's file, hard-linked (or copied) once into <instancesDir>/_base/<imageId>, so that
// deleting the image later breaks no guest. Every file appears under its final name only when
// whole, so a crash at any point leaves either nothing or something complete.

export interface Disks {
  /** Creates the guest's overlay at `disk` (and the base it needs) unless the overlay exists. */
  ensureDisk(spec: GuestSpec & { image: NonNullable<GuestSpec['image']> }, disk: string): Promise<void>;
  /** Writes `disk` flattened (overlay and base) as a standalone qcow2 to target. `shared` reads
   * past the write lock of a qemu that has the disk open: the caller has paused it. */
  flatten(disk: string, target: string, shared: boolean): Promise<void>;
  /** Removes every base whose image no guest uses; inUse answers undefined when it cannot tell,
   * and then nothing is removed. */
  prune(inUse: () => Promise<Set<string> | undefined>): Promise<void>;
}

const SAFE_NAME = /^[\w][\w.-]*$/;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

export function createDisks(instancesDir: string, log: Logger): Disks {
  const baseDir = join(instancesDir, '_base');

  // Making a base and its overlays, and pruning bases, run one at a time: a prune never removes
  // a base between its check and an overlay being made on it.
  let tail: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work);
    tail = result.catch(() => {});
    return result;
  };

  const virtualSize = async (file: string, fmt: string) =>
    (JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', fmt, file], { log })).stdout) as { 'virtual-size': number })['virtual-size'];

  async function ensureBase(image: NonNullable<GuestSpec['image']>): Promise<string> {
    if (!SAFE_NAME.test(image.id)) throw new Error(`image id ${JSON.stringify(image.id)} cannot name a file`);
    if (!image.path) throw new Error(`image ${image.id} has no file on this host for a local disk`);
    const from = image.path;
    const base = join(baseDir, image.id);
    if (await exists(base)) return base;
    await mkdir(baseDir, { recursive: true, mode: 0o700 });
    const tmp = join(baseDir, `.${image.id}.part`);
    await rm(tmp, { force: true });
    try {
      await link(from, tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another filesystem, or one without hard links: a copy, synced before it is renamed.
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
      await copyFile(from, tmp);
      const file = await open(tmp, 'r');
      await file.sync().finally(() => file.close());
    }
    await rename(tmp, base);
    log.info({ image: image.id, base }, 'image base created');
    return base;
  }

  return {
    async ensureDisk(spec, disk) {
      if (await exists(disk)) return;
      if (spec.image.format === 'iso') return createBlankDisk(disk, spec.rootGiB, log);
      await serially(async () => {
        const base = await ensureBase(spec.image);
        const fmt = spec.image.format;
        const size = spec.rootGiB * 2 ** 30;
        const tmp = `${disk}.part`;
        await rm(tmp, { force: true });
        // Relative to the overlay, the backing path survives a move of the whole data directory.
        const backing = relative(dirname(disk), base);
        // Never smaller than the image: that would cut its file systems short (the API refuses it).
        const grow = size > 0 && size > (await virtualSize(base, fmt)) ? [String(size)] : [];
        await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', fmt, '-b', backing, tmp, ...grow], { log });
        await rename(tmp, disk);
      });
    },

    async flatten(disk, target, shared) {
      const tmp = `${target}.part`;
      try {
        await run(['qemu-img', 'convert', ...(shared ? ['-U'] : []), '-O', 'qcow2', disk, tmp], { log });
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    prune: (inUse) =>
      serially(async () => {
        const used = await inUse();
        if (!used) return;
        for (const name of await readdir(baseDir).catch(() => [])) {
          if (used.has(name)) continue;
          await rm(join(baseDir, name), { force: true });
          log.info({ image: name }, 'image base no longer used; removed');
        }
      }),
  };
}
