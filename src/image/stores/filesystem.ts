import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFile, writeAll } from '../../lib/durable-fs.ts';
import { ReadAhead } from './read-ahead.ts';
import type { ImageStore, StoreWriter } from './store.ts';

const ID_FILE = 'store-id';
/** Dirty data is flushed every so often while an upload goes on, so that the disk works alongside
 * the network instead of all at once at the final sync. */
const FLUSH_EVERY = 64 * 1024 * 1024;

/**
 * Image bytes as files under one directory: `<root>/<image id>`, written first as
 * `<root>/tmp/<image id>.<random>` and renamed into place once synced, so that a crash leaves
 * either the whole file or a temporary one that sweep() removes.
 */
export async function openFilesystemStore(root: string): Promise<ImageStore> {
  const tmp = join(root, 'tmp');
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const id = await storeId(root);
  const path = (imageId: string) => join(root, safe(imageId));

  return {
    id,
    async create(imageId) {
      const temp = join(tmp, `${safe(imageId)}.${randomUUID()}`);
      const file = await open(temp, 'wx', 0o600);
      return new FileWriter(file, temp, path(imageId), root);
    },
    async read(imageId, range) {
      const file = await open(path(imageId), 'r');
      try {
        return new ReadAhead(file, range?.start ?? 0, range?.end ?? (await file.stat()).size - 1);
      } catch (err) {
        await file.close();
        throw err;
      }
    },
    localFile: (imageId) => path(imageId),
    async delete(imageId) {
      await rm(path(imageId), { force: true });
    },
    async list() {
      const entries = await readdir(root, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && e.name !== ID_FILE).map((e) => e.name);
    },
    async sweep() {
      for (const name of await readdir(tmp)) await rm(join(tmp, name), { force: true });
    },
  };
}

/** Image ids are UUIDs; anything that could climb out of the directory is refused outright. */
function safe(imageId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(imageId)) throw new Error(`invalid image id for the store: ${imageId}`);
  return imageId;
}

/** The store's id, made once and kept beside the images. */
async function storeId(root: string): Promise<string> {
  const file = join(root, ID_FILE);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = `file-${randomUUID()}`;
  const temp = join(root, 'tmp', `${ID_FILE}.${randomUUID()}`);
  await writeFile(temp, `${id}\n`, { mode: 0o600 });
  await rename(temp, file);
  return id;
}

class FileWriter implements StoreWriter {
  private closed = false;
  private unflushed = 0;
  /** The flush under way, if any; it never rejects: a failure is kept for the next call. */
  private flushing?: Promise<void>;
  private failure?: Error;

  constructor(
    private readonly file: FileHandle,
    private readonly temp: string,
    private readonly final: string,
    private readonly dir: string,
  ) {}

  async write(data: Uint8Array, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    await writeAll(this.file, data, position);
    this.unflushed += data.length;
    if (this.unflushed >= FLUSH_EVERY && !this.flushing) {
      this.unflushed = 0;
      this.flushing = this.file.datasync().then(
        () => (this.flushing = undefined),
        (err: Error) => {
          this.failure ??= err;
          this.flushing = undefined;
        },
      );
    }
  }

  async commit(): Promise<void> {
    await this.flushing;
    if (this.failure) throw this.failure;
    await this.file.sync();
    await this.close();
    await rename(this.temp, this.final);
    // The rename itself is durable only once the directory is synced.
    await syncFile(this.dir);
  }

  async abort(): Promise<void> {
    await this.close();
    await rm(this.temp, { force: true });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.file.close();
  }
}
