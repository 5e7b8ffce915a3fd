import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { run } from '../../lib/host/run.ts';
import { Readable } from 'node:stream';
import { conflict } from '../../lib/errors.ts';
import { CephBusyError, CephCli, CephError, CephNotFoundError, CephUnavailableError, rbdSpec } from '../../lib/ceph/index.ts';
import type { Logger } from '../../lib/log.ts';
import type { ImageStore, StoreWriter, UploadInfo } from './store.ts';
import { CONVERTED_TO_RAW, convertingWriter, sweepConversions } from './rbd-convert.ts';

/** The protected snapshot every committed image has; clones (instance disks, volumes) hang off it. */
export const IMAGE_SNAP = 'snap';

/** An upload's RBD image until commit renames it to the image id; sweep() removes what a crash left. */
const PARTIAL = '.partial.';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const IMAGE_ID = new RegExp(`^${UUID}$`, 'i');
const PARTIAL_NAME = new RegExp(`^${UUID}\\.partial\\.[0-9a-f]{8}$`, 'i');

/**
 * Image bytes as RBD images in one pool, as Glance's rbd store keeps them: `<pool>/<image id>` with a
 * protected snapshot `snap`. An upload streams into `rbd import` from stdin under a temporary name,
 * then is snapshotted, protected and renamed; nothing is visible under the id before that.
 */
export class RbdImageStore implements ImageStore {
  readonly id: string;

  constructor(
    /** Its cephx user and pool, which the stores info shows. */
    readonly cli: CephCli,
    /** The cluster's fsid, for rbd:// locations. */
    private readonly fsid: string | undefined,
    private readonly log?: Logger,
    /** Where qcow2 uploads wait to be stored raw (Glance's image conversion); unset: every
     * upload is kept as it came. */
    private readonly convertDir?: string,
  ) {
    this.id = `rbd:${cli.pool}`;
  }

  private spec = (name: string, snap?: string) => rbdSpec(this.cli.pool, name, snap);

  private partialName = (imageId: string) => `${imageId}${PARTIAL}${randomBytes(4).toString('hex')}`;

  async create(imageId: string, upload?: UploadInfo): Promise<StoreWriter> {
    const from = upload?.diskFormat;
    if (this.convertDir && from && CONVERTED_TO_RAW.has(from)) {
      return convertingWriter(this.convertDir, imageId, from, upload.room, {
        importFile: async (path) => {
          const partial = this.partialName(imageId);
          // Streamed, without run()'s time limit: it takes as long as the cluster needs for the bytes.
          const child = this.cli.stream('rbd', ['import', '--no-progress', '--image-format', '2', path, this.spec(partial)]);
          child.stdin.end();
          child.stdout.resume();
          await child.done.catch(async (err) => {
            if (!(err instanceof CephUnavailableError)) await this.remove(partial).catch(() => undefined);
            throw err;
          });
          return partial;
        },
        publish: (partial) => this.publish(partial, imageId),
        discard: (partial) => this.remove(partial),
      }, this.log);
    }
    const partial = this.partialName(imageId);
    const child = this.cli.stream('rbd', ['import', '--no-progress', '--image-format', '2', '-', this.spec(partial)]);
    child.done.catch(() => undefined);
    // `rbd import` reads a stream: a write that comes early waits for the ones before it.
    let next = 0;
    let turn: Promise<void> = Promise.resolve();
    const waiting = new Map<number, () => void>();
    const write = async (data: Uint8Array, position: number) => {
      if (position !== next) await new Promise<void>((resolve) => waiting.set(position, resolve));
      // Done once the pipe took the bytes: the caller reuses the memory they are in.
      const mine = turn.then(
        () =>
          new Promise<void>((resolve, reject) =>
            child.stdin.write(data, (err) => (err ? child.done.then(() => reject(err), reject) : resolve())),
          ),
      );
      turn = mine.catch(() => undefined);
      next = position + data.length;
      waiting.get(next)?.();
      waiting.delete(next);
      await mine;
    };
    const commit = async () => {
      await turn;
      child.stdin.end();
      await child.done;
      await this.publish(partial, imageId);
    };
    const abort = async () => {
      child.kill();
      const unavailable = await child.done.then(
        () => false,
        (err) => err instanceof CephUnavailableError,
      );
      // A cluster that is away keeps what it has of the partial image until the next start's sweep;
      // the upload fails with the cause, not with this.
      if (unavailable) return;
      await this.remove(partial).catch((err: Error) => this.log?.warn({ err: err.message, image: imageId }, 'partial RBD image left for the next sweep'));
    };
    return { write, commit, abort };
  }

  /** A whole image under its temporary name gets its protected snapshot, then the image id. */
  private async publish(partial: string, imageId: string): Promise<void> {
    await this.cli.run('rbd', ['snap', 'create', '--no-progress', this.spec(partial, IMAGE_SNAP)]);
    await this.cli.run('rbd', ['snap', 'protect', this.spec(partial, IMAGE_SNAP)]);
    await this.cli.run('rbd', ['rename', this.spec(partial), this.spec(imageId)]);
  }

  async read(imageId: string, range?: { start: number; end: number }): Promise<Readable> {
    const child = this.cli.stream('rbd', ['export', '--no-progress', this.spec(imageId, IMAGE_SNAP), '-']);
    // A missing image fails here, before a response has begun: wait for the first bytes or the end
    // (an empty image, or a failure).
    await once(child.stdout, 'readable');
    const ended = child.stdout.readableLength === 0;
    if (ended) await child.done;
    const source = child.stdout;
    const out = Readable.from(slice(source, child.done, ended, range));
    // A reader that goes away stops the export.
    out.on('close', () => child.kill());
    return out;
  }

  location(imageId: string): string | undefined {
    return this.fsid && `rbd://${this.fsid}/${this.cli.pool}/${imageId}/${IMAGE_SNAP}`;
  }

  async delete(imageId: string): Promise<void> {
    try {
      await this.cli.run('rbd', ['snap', 'unprotect', this.spec(imageId, IMAGE_SNAP)]);
    } catch (err) {
      // Unprotecting is the atomic test for clones: a disk or volume still reads from this image.
      if (err instanceof CephBusyError)
        throw conflict(`Image ${imageId} could not be deleted because it is in use: The image cannot be deleted because it is in use through the backend store outside of Nubo.`);
      if (err instanceof CephNotFoundError && !(await this.exists(imageId))) return;
      // ENOENT with the image there: no snapshot yet; EINVAL: already unprotected by a delete that
      // stopped half-way. Either way, go on.
      if (!(err instanceof CephError) || (err.errno !== 2 && err.errno !== 22)) throw err;
    }
    await this.remove(imageId);
  }

  /** The images named like image ids: a start's repair removes those without a record, and leaves
   * whatever else an operator keeps in the pool alone. */
  async list(): Promise<string[]> {
    return (await this.names()).filter((n) => IMAGE_ID.test(n));
  }

  async sweep(): Promise<void> {
    if (this.convertDir) await sweepConversions(this.convertDir);
    for (const name of await this.names()) if (PARTIAL_NAME.test(name)) await this.remove(name);
  }

  /** Every image in the pool. Only a start's repair asks, and a cluster that is down then must not
   * keep the cloud from starting: it is repaired at the next start instead. */
  private async names(): Promise<string[]> {
    try {
      return await this.cli.json<string[]>('rbd', ['ls', this.cli.pool]);
    } catch (err) {
      if (!(err instanceof CephUnavailableError)) throw err;
      this.log?.warn({ err: err.message }, 'image store repair skipped: Ceph is unavailable');
      return [];
    }
  }

  private async exists(name: string): Promise<boolean> {
    return this.cli.run('rbd', ['info', this.spec(name)]).then(
      () => true,
      (err) => {
        if (err instanceof CephNotFoundError) return false;
        throw err;
      },
    );
  }

  /** Removes an image with its snapshots; one that is not there is no error. */
  private async remove(name: string): Promise<void> {
    const gone = (err: unknown) => {
      if (!(err instanceof CephNotFoundError)) throw err;
    };
    await this.cli.run('rbd', ['snap', 'unprotect', this.spec(name, IMAGE_SNAP)]).catch((err) => {
      if (!(err instanceof CephError) || (err.errno !== 22 && err.errno !== 2)) throw err;
    });
    await this.cli.run('rbd', ['snap', 'purge', '--no-progress', this.spec(name)]).catch(gone);
    await this.cli.run('rbd', ['rm', '--no-progress', this.spec(name)]).catch(gone);
  }
}

/** The bytes of an export, from start to end inclusive when a range is asked; fails with the
 * export's error when it ends badly. */
async function* slice(source: Readable, done: Promise<void>, ended: boolean, range?: { start: number; end: number }): AsyncGenerator<Buffer> {
  let at = 0;
  if (!ended) {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const from = range ? Math.max(0, range.start - at) : 0;
      const to = range ? Math.min(chunk.length, range.end + 1 - at) : chunk.length;
      at += chunk.length;
      if (to > from) yield chunk.subarray(from, to);
      if (range && at > range.end) return;
    }
  }
  await done;
}

/** The store of a Ceph cluster's pool. Opening it does not reach the cluster, so that the cloud
 * starts while Ceph is down; the fsid of rbd:// locations comes from the ceph.conf, else from the
 * cluster, else there are no locations until the next start. */
export async function openRbdStore(cli: CephCli, log?: Logger, convertDir?: string): Promise<RbdImageStore> {
  const fromConf = await run(['ceph-conf', '--conf', cli.conf, '--lookup', 'fsid'], { okCodes: [0, 1] }).then((r) => r.stdout.trim(), () => '');
  const fsid = fromConf || (await cli.run('ceph', ['fsid']).then((out) => out.trim(), () => undefined));
  if (!fsid) log?.warn({ conf: cli.conf }, 'no fsid in the ceph.conf and no answer from Ceph: images have no rbd:// location');
  return new RbdImageStore(cli, fsid, log, convertDir);
}
