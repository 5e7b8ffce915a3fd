import { rename, rm } from 'node:fs/promises';
import { CephExistsError, CephNotFoundError, rbdSpec, type CephCli } from '../../../lib/ceph/index.ts';
import type { CephClientAuth } from '../../../lib/ceph/auth.ts';
import { qemuImageOpts, rbdGrow, rbdImport, rbdInfo, unlessMissing } from '../../../lib/ceph/rbd-images.ts';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';
import type { GuestSpec, RbdConnection, RbdSnapshot } from '../driver.ts';

// Guests' root disks as RBD images `<uuid>_disk` in the compute pool, as Nova's rbd image backend
// names them: a copy-on-write clone of the image's protected snapshot when the image service keeps
// the image raw in RBD (no copy, no space until the guest writes), else the image converted into
// RBD. Either appears whole in one step (a clone, or a rename of a finished import).

export interface RbdDisks {
  /** How qemu opens the guest's root disk. */
  connection(uuid: string): RbdConnection;
  /** The image's protected snapshot in the image pool, if the image service keeps it there. */
  imageSnapshot(imageId: string): Promise<RbdSnapshot | undefined>;
  exists(uuid: string): Promise<boolean>;
  /** Makes the guest's disk unless it is there, and grows it to the flavor's disk. */
  ensureDisk(spec: GuestSpec & { image: NonNullable<GuestSpec['image']> }): Promise<void>;
  /** Before a resize: snapshots the disk (once) so that a revert can roll back to it, then grows it. */
  keepAndGrow(uuid: string, bytes: number): Promise<void>;
  /** After a resize: a revert rolls the disk back to its snapshot (its size too); the snapshot goes. */
  finishResize(uuid: string, revert: boolean): Promise<void>;
  /** Removes the disk and any snapshot of it; a disk that is not there is no error. */
  remove(uuid: string): Promise<void>;
  /**
   * Writes the disk as a standalone qcow2 to target: an RBD snapshot is taken inside freeze (the
   * caller pauses the guest around it), copied from while the guest runs on, then removed.
   */
  snapshot(uuid: string, target: string, freeze: (take: () => Promise<void>) => Promise<void>): Promise<void>;
}

/** The snapshot the image service's rbd store gives every image (Glance's name for it). */
const IMAGE_SNAPSHOT = 'snap';
/** The disk as it was before a resize, until the resize is confirmed or reverted. */
const RESIZE_SNAPSHOT = 'pre-resize';

/** cli: the compute user in its pool; images: the same user in the image pool (read-only there). */
export function createRbdDisks(opts: { cli: CephCli; images: CephCli; auth: CephClientAuth; log: Logger }): RbdDisks {
  const { cli, log } = opts;
  const nameOf = (uuid: string) => {
    if (!/^[0-9a-f-]+$/.test(uuid)) throw new Error(`not a guest uuid: ${JSON.stringify(uuid)}`);
    return `${uuid}_disk`;
  };
  const spec = (uuid: string, snap?: string) => rbdSpec(cli.pool, nameOf(uuid), snap);

  /** A clone of the image's snapshot; false when the image service does not hold it in RBD. */
  async function clone(uuid: string, parent: NonNullable<NonNullable<GuestSpec['image']>['rbd']>): Promise<boolean> {
    try {
      await cli.run('rbd', ['clone', rbdSpec(parent.pool, parent.image, parent.snapshot), spec(uuid)]);
      return true;
    } catch (err) {
      if (err instanceof CephExistsError) return true;
      if (err instanceof CephNotFoundError) return false;
      throw err;
    }
  }

  return {
    connection: (uuid) => ({ driver: 'rbd', pool: cli.pool, image: nameOf(uuid), monitors: opts.auth.monitors, user: cli.user, key: opts.auth.key }),

    async imageSnapshot(imageId) {
      if (!(await rbdInfo(opts.images, imageId, IMAGE_SNAPSHOT))) return undefined;
      return { pool: opts.images.pool, image: imageId, snapshot: IMAGE_SNAPSHOT };
    },

    exists: async (uuid) => (await rbdInfo(cli, nameOf(uuid))) !== undefined,

    async ensureDisk(s) {
      const name = nameOf(s.uuid);
      if (!(await rbdInfo(cli, name))) {
        const cloned = s.image.rbd ? await clone(s.uuid, s.image.rbd) : false;
        // An ISO is the guest's CD-ROM, not its disk: the root disk starts blank (one step, whole).
        if (s.image.format === 'iso') await cli.run('rbd', ['create', '--size', `${s.rootGiB * 2 ** 30}B`, spec(s.uuid)]);
        else if (!cloned) {
          if (!s.image.path) throw new Error(`image ${s.image.id} is neither in RBD nor on this host`);
          const virtual = (
            JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', s.image.format, s.image.path], { log })).stdout) as { 'virtual-size': number }
          )['virtual-size'];
          await rbdImport(cli, name, { path: s.image.path, format: s.image.format }, Math.max(virtual, s.rootGiB * 2 ** 30), log);
        }
        log.info({ guest: s.uuid, disk: spec(s.uuid), cloned }, 'root disk made in RBD');
      }
      // Never smaller than the image: growing only (the API refuses a flavor disk below it).
      await rbdGrow(cli, name, s.rootGiB * 2 ** 30);
    },

    async keepAndGrow(uuid, bytes) {
      if (!(await rbdInfo(cli, nameOf(uuid)))) return;
      if (!(await rbdInfo(cli, nameOf(uuid), RESIZE_SNAPSHOT))) await cli.run('rbd', ['snap', 'create', '--no-progress', spec(uuid, RESIZE_SNAPSHOT)]);
      await rbdGrow(cli, nameOf(uuid), bytes);
    },

    async finishResize(uuid, revert) {
      if (!(await rbdInfo(cli, nameOf(uuid), RESIZE_SNAPSHOT))) return;
      if (revert) await cli.run('rbd', ['snap', 'rollback', '--no-progress', spec(uuid, RESIZE_SNAPSHOT)], { timeoutMs: 600_000 });
      await cli.run('rbd', ['snap', 'rm', '--no-progress', spec(uuid, RESIZE_SNAPSHOT)]);
    },

    async remove(uuid) {
      await unlessMissing(cli.run('rbd', ['snap', 'purge', '--no-progress', spec(uuid)]));
      await unlessMissing(cli.run('rbd', ['rm', '--no-progress', spec(uuid)], { timeoutMs: 600_000 }));
    },

    async snapshot(uuid, target, freeze) {
      const snap = `snapshot-${Date.now()}`;
      const part = `${target}.part`;
      try {
        await freeze(() => cli.run('rbd', ['snap', 'create', '--no-progress', spec(uuid, snap)]).then(() => undefined));
        await run(['qemu-img', 'convert', '-q', '-O', 'qcow2', '--image-opts', qemuImageOpts(cli, nameOf(uuid), snap), part], { log, timeoutMs: 3_600_000 });
        await rename(part, target);
      } finally {
        await rm(part, { force: true });
        await unlessMissing(cli.run('rbd', ['snap', 'rm', '--no-progress', spec(uuid, snap)])).catch((err) =>
          log.warn({ guest: uuid, err }, 'snapshot of the disk left behind'),
        );
      }
    },
  };
}
