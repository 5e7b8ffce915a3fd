import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { badRequest, overQuota } from '../../lib/errors.ts';
import { writeAll } from '../../lib/durable-fs.ts';
import { HostCommandError, run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import { inspectImageFile } from '../formats/inspect-file.ts';
import type { Stored, StoreWriter } from './store.ts';

/** The disk formats converted to raw on the way into RBD: clones need raw parents. */
export const CONVERTED_TO_RAW = new Set(['qcow2']);

/** What a converting writer asks of its store: an RBD image under a temporary name made from a
 * local raw file, published under the image id; and removed again. */
export interface RawImport {
  /** `rbd import` of the file under a temporary name, returned for publish() and discard(). */
  importFile(path: string): Promise<string>;
  publish(partial: string): Promise<void>;
  discard(partial: string): Promise<void>;
}

/**
 * A writer that keeps the upload in a local file, then stores it in RBD as raw, as Glance's image
 * conversion does before its rbd store sees the data. qemu-img needs the whole file to seek in, so
 * the upload lands under `dir` first; at commit it is inspected again (a qcow2 with a backing or
 * external data file would have qemu-img read host files), converted to a sparse raw file beside
 * it, and that is hashed and imported. The record then describes the stored bytes: raw, their size
 * and digests. A disk whose raw size is over the quota's room is refused before it is converted.
 */
export async function convertingWriter(
  dir: string,
  imageId: string,
  from: string,
  room: number | undefined,
  into: RawImport,
  log?: Logger,
): Promise<StoreWriter> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = join(dir, `${imageId}.${randomBytes(4).toString('hex')}`);
  const upload = `${base}.${from}`;
  const raw = `${base}.raw`;
  let file: FileHandle | undefined = await open(upload, 'wx', 0o600);
  let partial: string | undefined;
  const close = async () => {
    const f = file;
    file = undefined;
    await f?.close();
  };
  const clean = () => Promise.all([rm(upload, { force: true }), rm(raw, { force: true })]);

  return {
    async write(data, position) {
      if (!file) throw new Error(`the upload of image ${imageId} is closed`);
      await writeAll(file, data, position);
    },
    async commit(): Promise<Stored> {
      await close();
      try {
        // The raw bytes are as many as the disk's virtual size: a small qcow2 may claim a huge one.
        const { virtualSize } = await inspectImageFile(upload, from);
        if (room !== undefined && virtualSize !== undefined && virtualSize > room)
          throw overQuota(
            `Denying attempt to upload image because it exceeds the quota: stored raw, its ${virtualSize} bytes would exceed the ${room} bytes left.`,
            413,
          );
        await run(['qemu-img', 'convert', '-q', '-f', from, '-O', 'raw', upload, raw], { log }).catch((err) => {
          if (!(err instanceof HostCommandError) || err.code === null) throw err;
          // What qemu-img said names the host's paths: the log has it, the client the verdict.
          log?.warn({ err: err.message, image: imageId }, 'image conversion failed');
          throw badRequest(`Image conversion from ${from} to raw failed: the data is not a disk qemu-img can read as ${from}.`);
        });
        await rm(upload, { force: true });
        const hashing = Promise.all([stat(raw).then((s) => s.size), digest('md5sum', raw, log), digest('sha512sum', raw, log)]);
        const [hashed, imported] = await Promise.allSettled([hashing, into.importFile(raw)]);
        // An import that succeeded while a hash failed is removed by abort().
        if (imported.status === 'fulfilled') partial = imported.value;
        if (hashed.status === 'rejected') throw hashed.reason;
        if (imported.status === 'rejected') throw imported.reason;
        const [size, md5, sha512] = hashed.value;
        await into.publish(imported.value);
        partial = undefined;
        return { diskFormat: 'raw', size, virtualSize: size, digests: { md5, sha512 } };
      } finally {
        await clean();
      }
    },
    async abort() {
      await close().catch(() => undefined);
      await clean();
      const left = partial;
      partial = undefined;
      if (left) await into.discard(left).catch((err: Error) => log?.warn({ err: err.message, image: imageId }, 'partial RBD image left for the next sweep'));
    },
  };
}

/** The hex digest of a file by coreutils' tool, which hashes on a core of its own. */
async function digest(tool: 'md5sum' | 'sha512sum', path: string, log?: Logger): Promise<string> {
  const { stdout } = await run([tool, '--', path], { log });
  return stdout.slice(0, stdout.indexOf(' '));
}

/** Removes the files of conversions that a crash stopped. */
export async function sweepConversions(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(join(dir, n), { force: true })));
}
