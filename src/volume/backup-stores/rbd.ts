import { CephExistsError, CephNotFoundError, rbdSpec, type CephCli } from '../../lib/ceph/index.ts';
import { qemuImageOpts, rbdInfo, unlessMissing } from '../../lib/ceph/rbd-images.ts';
import { run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import { SourceMissingError } from '../drivers/driver.ts';
import type { BackupStore } from './store.ts';

/**
 * Backups of RBD volumes in the backups pool, laid out as Cinder's Ceph backup driver lays them:
 * a full backup is a new image `volume-<volume id>.backup.<backup id>` there, and each backup is a
 * snapshot `backup.<backup id>` of such an image. Bytes move by `rbd export-diff` of a snapshot
 * `backup.<backup id>` of the volume, read as the volume service's user, piped into
 * `rbd import-diff` as the backup user, so that neither user needs the other's pool.
 *
 * An incremental backup is cheap when the volume still holds its parent's snapshot: only the
 * extents written since then are copied, onto the parent's image. The volume keeps only its last
 * backup's snapshot, for the next one. When that snapshot is gone (or there is no parent), the
 * backup is a whole copy into a new image, which stays correct whatever came before.
 */
export function openRbdBackupStore(opts: { volumes: CephCli; backups: CephCli; log?: Logger }): BackupStore {
  const { volumes, backups, log } = opts;
  const volumeImage = (volumeId: string) => `volume-${safe(volumeId)}`;
  const snapName = (backupId: string) => `backup.${safe(backupId)}`;
  const fullImage = (volumeId: string, backupId: string) => `${volumeImage(volumeId)}.backup.${safe(backupId)}`;
  const vSpec = (image: string, snap?: string) => rbdSpec(volumes.pool, image, snap);
  const bSpec = (image: string, snap?: string) => rbdSpec(backups.pool, image, snap);
  const snaps = async (cli: CephCli, image: string) =>
    (await unlessMissing(cli.json<{ name: string }[]>('rbd', ['snap', 'ls', rbdSpec(cli.pool, image)]))) ?? undefined;

  /** export-diff of the volume's snapshot (since `from`) piped into import-diff of the backup image. */
  async function transfer(source: string, from: string | undefined, target: string): Promise<void> {
    const exporter = volumes.stream('rbd', ['export-diff', '--no-progress', ...(from ? ['--from-snap', from] : []), source, '-']);
    const importer = backups.stream('rbd', ['import-diff', '--no-progress', '-', bSpec(target)]);
    exporter.stdin.end();
    exporter.stdout.pipe(importer.stdin);
    // Either side failing ends the other: a dead reader or a writer that stopped short.
    const results = await Promise.allSettled([
      exporter.done.catch((err) => (importer.kill(), Promise.reject(err))),
      importer.done.catch((err) => (exporter.kill(), Promise.reject(err))),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Removes a backup image's snapshot, and the image once no backup is left in it. */
  async function dropFromImage(image: string, backupId: string): Promise<void> {
    await unlessMissing(backups.run('rbd', ['snap', 'rm', '--no-progress', bSpec(image, snapName(backupId))]));
    const left = await snaps(backups, image);
    if (left && left.length === 0) await unlessMissing(backups.run('rbd', ['rm', '--no-progress', bSpec(image)], { timeoutMs: 3_600_000 }));
  }

  return {
    name: 'rbd',
    container: backups.pool,

    async backup({ id, volumeId }, parent) {
      const source = volumeImage(volumeId);
      const snap = snapName(id);
      await volumes.run('rbd', ['snap', 'create', vSpec(source, snap)]).catch((err) => {
        if (err instanceof CephNotFoundError) throw new SourceMissingError(`volume ${volumeId} is not on the rbd backend`);
        if (!(err instanceof CephExistsError)) throw err;
      });
      // Incremental when the volume and the parent's image both still hold the parent's snapshot.
      const base =
        parent?.location && (await rbdInfo(volumes, source, snapName(parent.id))) && (await rbdInfo(backups, parent.location, snapName(parent.id)))
          ? { image: parent.location, from: snapName(parent.id) }
          : { image: fullImage(volumeId, id), from: undefined };
      if (!(await rbdInfo(backups, base.image, snap))) {
        if (!base.from) {
          const size = (await rbdInfo(volumes, source, snap))!.size;
          await backups.run('rbd', ['create', '--size', `${size}B`, bSpec(base.image)]).catch((err) => {
            if (!(err instanceof CephExistsError)) throw err;
          });
        }
        try {
          await transfer(vSpec(source, snap), base.from, base.image);
        } catch (err) {
          if (!base.from) await unlessMissing(backups.run('rbd', ['rm', '--no-progress', bSpec(base.image)])).catch(() => undefined);
          await unlessMissing(volumes.run('rbd', ['snap', 'rm', vSpec(source, snap)])).catch(() => undefined);
          throw err;
        }
      }
      // Only the last backup's snapshot stays on the volume, for the next incremental one.
      for (const s of (await snaps(volumes, source)) ?? []) {
        if (s.name.startsWith('backup.') && s.name !== snap) await unlessMissing(volumes.run('rbd', ['snap', 'rm', vSpec(source, s.name)]));
      }
      return base.image;
    },

    async restore(backup, volumeId, fresh) {
      const image = backup.location;
      if (!image || !(await rbdInfo(backups, image, snapName(backup.id)))) throw new SourceMissingError(`backup ${backup.id} is not in pool ${backups.pool}`);
      // qemu-img opens each side as its own user; -n writes into the volume as it is, zeros
      // included, so that an existing volume ends up with the backup's bytes exactly.
      const zero = fresh ? ['--target-is-zero'] : [];
      await run(
        [
          ...['qemu-img', 'convert', '-q', '-n', ...zero, '-W'],
          ...['--image-opts', qemuImageOpts(backups, image, snapName(backup.id))],
          ...['--target-image-opts', qemuImageOpts(volumes, volumeImage(volumeId))],
        ],
        { log, timeoutMs: 24 * 3_600_000 },
      );
    },

    async delete(backup) {
      // A create that failed before recording its location may have left a full image.
      await dropFromImage(backup.location ?? fullImage(backup.volumeId, backup.id), backup.id);
      await unlessMissing(volumes.run('rbd', ['snap', 'rm', vSpec(volumeImage(backup.volumeId), snapName(backup.id))]));
    },

    async probe() {
      await backups.run('rbd', ['ls', backups.pool]);
    },
  };
}

/** Ids are UUIDs; anything else could name another image or option. */
function safe(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid id for the rbd backup store: ${id}`);
  return id;
}
