import type { Readable } from 'node:stream';
import { CephBusyError, CephExistsError, CephNotFoundError, rbdSpec, type CephCli } from '../../lib/ceph/index.ts';
import type { CephClientAuth } from '../../lib/ceph/auth.ts';
import { rbdGrow, rbdImport, rbdInfo, unlessMissing } from '../../lib/ceph/rbd-images.ts';
import { run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import { ImageTooLargeError, SourceMissingError, type VolumeDriver } from './driver.ts';

/**
 * Volumes as RBD images in one pool, named as Cinder names them: `volume-<id>`, snapshots
 * `volume-<id>@snapshot-<id>` (protected, so that volumes can be cloned from them). Clones are
 * copy-on-write: from a snapshot directly, from a volume through a snapshot `clone-<new id>` of
 * it, from an image through the image service's own `<pool>/<image id>@snap`. A snapshot or
 * volume that clones still depend on is removed after its clones are flattened (they get their
 * own copy of the shared bytes), so that deletes never wait on other volumes.
 *
 * An import is written under `volume-<id>.part` and renamed once whole; a clone appears whole in
 * one step; so a crash leaves a complete volume or a `.part` that sweep() removes. Growing is
 * level-based: each create grows the volume to its size again, which repairs a crash between a
 * clone and its resize.
 */
export interface RbdDriverOptions {
  /** The volume service's cephx user; its pool holds the volumes. */
  cli: CephCli;
  /** What a guest's qemu is given to open a volume: the monitors and the user's key. */
  auth: CephClientAuth;
  /** The pool the image service keeps raw images in (`<id>@snap`), when it keeps them in this
   * cluster: volumes from those images are clones of them. */
  imagePool?: string;
  log?: Logger;
}

interface LsEntry {
  image: string;
  snapshot?: string;
  protected?: string;
  parent?: { pool: string; image: string; snapshot: string };
}

const VOLUME = /^volume-([0-9a-f-]+)$/;
const SNAPSHOT = /^snapshot-([0-9a-f-]+)$/;
const CLONE = /^clone-([0-9a-f-]+)$/;
const PART = /^volume-[0-9a-f-]+\.part$/;

/** Ids are UUIDs; anything else could name another image or option. */
function safe(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid id for the rbd backend: ${id}`);
  return id;
}

export function openRbdDriver(opts: RbdDriverOptions): VolumeDriver {
  const { cli, log } = opts;
  const pool = cli.pool;
  const volumeName = (id: string) => `volume-${safe(id)}`;
  const snapshotName = (id: string) => `snapshot-${safe(id)}`;
  const spec = (image: string, snap?: string) => rbdSpec(pool, image, snap);
  const rbd = (args: string[], timeoutMs?: number) => cli.run('rbd', args, { pool, timeoutMs });

  const orUndefined = unlessMissing;
  const info = (image: string) => rbdInfo(cli, image);
  const grow = (image: string, size: number) => rbdGrow(cli, image, size);
  const entries = async () => (await cli.json<LsEntry[]>('rbd', ['ls', '-l', pool], { pool })) ?? [];

  /** Makes the image by make() unless it is there, then grows it to size. */
  async function ensure(id: string, size: number, make: (image: string) => Promise<void>): Promise<void> {
    const image = volumeName(id);
    if (!(await info(image))) {
      try {
        await make(image);
      } catch (err) {
        if (!(err instanceof CephExistsError)) throw err;
      }
    }
    await grow(image, size);
  }

  const protect = (image: string, snap: string) =>
    rbd(['snap', 'protect', spec(image, snap)]).catch((err) => {
      // EBUSY: protected already (a repeated call).
      if (!(err instanceof CephBusyError)) throw err;
    });

  /** Removes a snapshot; the clones that still depend on it are flattened first. */
  async function removeSnapshot(image: string, snap: string): Promise<void> {
    const children = (await orUndefined(cli.json<{ pool: string; image: string }[]>('rbd', ['children', spec(image, snap)], { pool }))) ?? [];
    for (const child of children) {
      log?.info({ parent: spec(image, snap), child: `${child.pool}/${child.image}` }, 'flattening a clone before its parent snapshot goes');
      await cli.run('rbd', ['flatten', rbdSpec(child.pool, child.image)], { pool: child.pool, timeoutMs: 3_600_000 });
    }
    await rbd(['snap', 'unprotect', spec(image, snap)]).catch((err) => {
      // Not protected (EINVAL), or gone.
      if (err instanceof CephBusyError) throw err;
    });
    await orUndefined(rbd(['snap', 'rm', spec(image, snap)]));
  }

  /** The volume image that holds snapshot `snapshot-<id>`, if any does. */
  async function snapshotHolder(snapshotId: string): Promise<string | undefined> {
    const name = snapshotName(snapshotId);
    return (await entries()).find((e) => e.snapshot === name)?.image;
  }

  return {
    name: 'rbd',
    capabilities: { thinClones: true, onlineExtend: true },
    location: (id) => spec(volumeName(id)),

    createBlank: (id, size) => ensure(id, size, (image) => rbd(['create', '--size', `${size}B`, spec(image)]).then(() => undefined)),

    async createFromImage(id, image, size) {
      if (await info(volumeName(id))) return grow(volumeName(id), size);
      const virtual = (
        JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', image.format, image.path], { log })).stdout) as { 'virtual-size': number }
      )['virtual-size'];
      if (virtual > size) throw new ImageTooLargeError(virtual, size);
      await ensure(id, size, (name) => rbdImport(cli, name, image, size, log));
    },

    async cloneImage(id, image, size) {
      if (!opts.imagePool || image.format !== 'raw') return false;
      if (image.virtualSize > size) throw new ImageTooLargeError(image.virtualSize, size);
      if (!(await info(volumeName(id)))) {
        const parent = rbdSpec(opts.imagePool, safe(image.id), 'snap');
        const cloned = await cli.run('rbd', ['clone', parent, spec(volumeName(id))], { pool }).then(
          () => true,
          (err) => {
            // The image's bytes are not in RBD (uploaded before the store moved): it is converted.
            if (err instanceof CephNotFoundError) return false;
            if (err instanceof CephExistsError) return true;
            throw err;
          },
        );
        if (!cloned) return false;
      }
      await grow(volumeName(id), size);
      return true;
    },

    async cloneFromSnapshot(id, snapshotId, size) {
      if (await info(volumeName(id))) return grow(volumeName(id), size);
      const holder = await snapshotHolder(snapshotId);
      if (!holder) throw new SourceMissingError(`snapshot ${snapshotId} is not on the rbd backend`);
      await ensure(id, size, (image) => rbd(['clone', spec(holder, snapshotName(snapshotId)), spec(image)]).then(() => undefined));
    },

    async cloneFromVolume(id, sourceId, size) {
      if (await info(volumeName(id))) return grow(volumeName(id), size);
      const source = volumeName(sourceId);
      if (!(await info(source))) throw new SourceMissingError(`volume ${sourceId} is not on the rbd backend`);
      const snap = `clone-${safe(id)}`;
      await rbd(['snap', 'create', spec(source, snap)]).catch((err) => {
        if (!(err instanceof CephExistsError)) throw err;
      });
      await protect(source, snap);
      await ensure(id, size, (image) => rbd(['clone', spec(source, snap), spec(image)]).then(() => undefined));
    },

    extend: (id, size) => grow(volumeName(id), size),

    async delete(id) {
      const image = volumeName(id);
      const held = await info(image);
      if (!held) return;
      const snaps = (await cli.json<{ name: string }[]>('rbd', ['snap', 'ls', spec(image)], { pool })) ?? [];
      for (const s of snaps) await removeSnapshot(image, s.name);
      await orUndefined(rbd(['rm', '--no-progress', spec(image)], 3_600_000));
      // The snapshot of the volume this one was cloned from has no other use.
      const parent = held.parent;
      if (parent && parent.pool === pool && parent.snapshot === `clone-${id}`) await removeSnapshot(parent.image, parent.snapshot);
    },

    size: async (id) => (await info(volumeName(id)))?.size,

    async createSnapshot(snapshotId, volumeId) {
      const image = volumeName(volumeId);
      const name = snapshotName(snapshotId);
      await rbd(['snap', 'create', spec(image, name)]).catch((err) => {
        if (err instanceof CephNotFoundError) throw new SourceMissingError(`volume ${volumeId} is not on the rbd backend`);
        if (!(err instanceof CephExistsError)) throw err;
      });
      await protect(image, name);
    },

    async deleteSnapshot(snapshotId) {
      const holder = await snapshotHolder(snapshotId);
      if (holder) await removeSnapshot(holder, snapshotName(snapshotId));
    },

    async read(id): Promise<Readable> {
      if (!(await info(volumeName(id)))) throw new SourceMissingError(`volume ${id} is not on the rbd backend`);
      const exported = cli.stream('rbd', ['export', '--no-progress', spec(volumeName(id)), '-'], { pool });
      exported.stdin.end();
      // A failed export ends the stream with its error rather than with short data.
      exported.done.catch((err: Error) => exported.stdout.destroy(err));
      exported.stdout.on('close', () => exported.kill());
      return exported.stdout;
    },

    connection: (id) => ({ driver: 'rbd', pool, image: volumeName(id), monitors: opts.auth.monitors, user: cli.user, key: opts.auth.key, format: 'raw' }),

    async list() {
      const all = await entries();
      return {
        volumes: all.flatMap((e) => (e.snapshot === undefined ? (VOLUME.exec(e.image)?.[1] ?? []) : [])),
        snapshots: all.flatMap((e) => (e.snapshot !== undefined ? (SNAPSHOT.exec(e.snapshot)?.[1] ?? []) : [])),
      };
    },

    // Reading the pool's directory object: the cheapest call that needs the monitors and an OSD.
    probe: () => rbd(['ls', pool]).then(() => undefined),

    async sweep() {
      const all = await entries();
      for (const e of all) if (e.snapshot === undefined && PART.test(e.image)) await orUndefined(rbd(['rm', '--no-progress', spec(e.image)]));
      // A volume-from-volume snapshot whose clone is gone (a crash between a delete's two steps).
      const parents = new Set(all.flatMap((e) => (e.snapshot === undefined && e.parent ? [`${e.parent.image}@${e.parent.snapshot}`] : [])));
      for (const e of all) {
        if (e.snapshot && CLONE.test(e.snapshot) && !parents.has(`${e.image}@${e.snapshot}`)) await removeSnapshot(e.image, e.snapshot);
      }
    },
  };
}
