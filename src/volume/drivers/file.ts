import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import { ImageTooLargeError, SourceMissingError, type VolumeDriver } from './driver.ts';
import { exists, syncFile } from '../../lib/durable-fs.ts';

/**
 * Volumes as sparse raw files: `<root>/volumes/<id>.raw`, snapshots as full copies in
 * `<root>/snapshots/<id>.raw`. Every file is made under `<root>/tmp/` and renamed into place once
 * synced, so that a crash leaves the whole file or a temporary one that sweep() removes. A new
 * file reads zeros (the filesystem guarantees it for a sparse truncate and for unlinked blocks),
 * which keeps a deleted volume's bytes away from the next one.
 */
export async function openFileDriver(root: string, log?: Logger): Promise<VolumeDriver> {
  const dirs = { volumes: join(root, 'volumes'), snapshots: join(root, 'snapshots'), tmp: join(root, 'tmp') };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true, mode: 0o700 });
  const volumePath = (id: string) => join(dirs.volumes, `${safe(id)}.raw`);
  const snapshotPath = (id: string) => join(dirs.snapshots, `${safe(id)}.raw`);
  const tempPath = (id: string) => join(dirs.tmp, `${safe(id)}.${randomUUID()}`);

  /** Makes `final` by fill(temp), unless it exists; the temporary file goes on any failure. */
  async function produce(final: string, id: string, fill: (temp: string) => Promise<void>, size?: number): Promise<void> {
    if (await exists(final)) return;
    const temp = tempPath(id);
    try {
      await fill(temp);
      if (size !== undefined && (await stat(temp)).size < size) await truncate(temp, size);
      await syncFile(temp);
      await rename(temp, final);
      await syncFile(dirname(final));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** A sparse copy (a reflink where the filesystem has them), the source read once. */
  async function copy(from: string, to: string): Promise<void> {
    if (!(await exists(from))) throw new SourceMissingError(`${from} is not on the file backend`);
    await run(['cp', '--sparse=always', '--reflink=auto', from, to], { log });
  }

  return {
    name: 'file',
    capabilities: { thinClones: false, onlineExtend: true },
    location: (id) => volumePath(id),

    createBlank: (id, size) =>
      produce(volumePath(id), id, async (temp) => {
        const file = await open(temp, 'wx', 0o600);
        await file.close();
      }, size),

    async createFromImage(id, image, size) {
      const info = JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', image.format, image.path], { log })).stdout) as { 'virtual-size': number };
      if (info['virtual-size'] > size) throw new ImageTooLargeError(info['virtual-size'], size);
      // -W: out-of-order writes; the target is new and sparse, so zero runs are skipped.
      await produce(volumePath(id), id, (temp) => run(['qemu-img', 'convert', '-q', '-W', '-f', image.format, '-O', 'raw', image.path, temp], { log }).then(() => undefined), size);
    },

    cloneFromSnapshot: (id, snapshotId, size) => produce(volumePath(id), id, (temp) => copy(snapshotPath(snapshotId), temp), size),
    cloneFromVolume: (id, sourceId, size) => produce(volumePath(id), id, (temp) => copy(volumePath(sourceId), temp), size),

    async extend(id, size) {
      const path = volumePath(id);
      if ((await stat(path)).size >= size) return;
      await truncate(path, size);
      await syncFile(path);
    },

    async delete(id) {
      await rm(volumePath(id), { force: true });
    },

    async size(id) {
      const st = await stat(volumePath(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      return st?.size;
    },

    createSnapshot: (snapshotId, volumeId) => produce(snapshotPath(snapshotId), snapshotId, (temp) => copy(volumePath(volumeId), temp)),

    async deleteSnapshot(snapshotId) {
      await rm(snapshotPath(snapshotId), { force: true });
    },

    async read(id) {
      const file = await open(volumePath(id), 'r');
      return file.createReadStream({ highWaterMark: 1 << 20 });
    },

    connection: (id) => ({ driver: 'file', filename: volumePath(id), format: 'raw' }),

    async list() {
      const ids = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.raw')).map((n) => n.slice(0, -'.raw'.length));
      return { volumes: await ids(dirs.volumes), snapshots: await ids(dirs.snapshots) };
    },

    async sweep() {
      for (const name of await readdir(dirs.tmp)) await rm(join(dirs.tmp, name), { force: true });
    },
  };
}

/** Ids are UUIDs; anything that could climb out of the directory is refused outright. */
function safe(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid id for the file backend: ${id}`);
  return id;
}
