import { and, eq } from 'drizzle-orm';
import { CephError } from '../../lib/ceph/index.ts';
import { HostCommandError } from '../../lib/host/run.ts';
import type { BackupRef } from '../backup-stores/store.ts';
import { SourceMissingError } from '../drivers/driver.ts';
import { hostOf, type VolumeService } from '../service.ts';
import { backups, volumes, type VolumeStatus } from '../tables.ts';
import { GiB } from '../volumes.ts';
import type { Backup } from '../backups.ts';

// The volume worker's backup keys (`b:<id>`): creating → available | error, restoring → available
// (the volume available | error_restoring), deleting → gone | error_deleting. A cluster that does
// not answer (CephUnavailableError) is thrown, so the key is retried until it does.

/** Failures that retrying cannot mend: a missing source, a command that said no (CephError; a
 * cluster that does not answer is a CephUnavailableError, which is not one). */
const isFinal = (err: unknown) => err instanceof SourceMissingError || err instanceof HostCommandError || err instanceof CephError;

const refOf = (b: Pick<Backup, 'id' | 'volumeId' | 'location'>): BackupRef => ({ id: b.id, volumeId: b.volumeId, location: b.location });

export function backupReconciler(svc: VolumeService) {
  const db = svc.store.db;
  const settle = (id: string, from: Backup['status'], set: Partial<Backup>) =>
    db
      .update(backups)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(backups.id, id), eq(backups.status, from)));
  const volumeFrom = (id: string, from: VolumeStatus, set: Partial<typeof volumes.$inferSelect>) =>
    db
      .update(volumes)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(volumes.id, id), eq(volumes.status, from)));

  async function create(b: Backup): Promise<void> {
    const store = svc.backups!;
    const [parent] = b.parentId ? await db.select().from(backups).where(eq(backups.id, b.parentId)) : [];
    try {
      const location = await store.backup({ id: b.id, volumeId: b.volumeId }, parent ? refOf(parent) : undefined);
      await settle(b.id, 'creating', { status: 'available', location, dataTimestamp: b.createdAt, fault: null });
    } catch (err) {
      if (!isFinal(err)) throw err;
      svc.log.warn({ backup: b.id, err }, 'backup failed');
      await store.delete(refOf(b));
      await settle(b.id, 'creating', { status: 'error', fault: (err as Error).message });
    }
    await volumeFrom(b.volumeId, 'backing-up', { status: 'available' });
  }

  async function restore(b: Backup): Promise<void> {
    const volumeId = b.restoreVolumeId!;
    const [vol] = await db.select().from(volumes).where(eq(volumes.id, volumeId));
    const done = () => settle(b.id, 'restoring', { status: 'available', restoreVolumeId: null, restoreCreates: false });
    if (!vol || vol.status !== 'restoring-backup') return void (await done());
    try {
      if (b.restoreCreates) await svc.driver.createBlank(volumeId, vol.size * GiB);
      await svc.backups!.restore(refOf(b), volumeId, b.restoreCreates);
    } catch (err) {
      if (!isFinal(err)) throw err;
      svc.log.warn({ backup: b.id, volume: volumeId, err }, 'restore failed');
      await volumeFrom(volumeId, 'restoring-backup', { status: 'error_restoring', fault: (err as Error).message });
      await done();
      return;
    }
    const made = b.restoreCreates ? { allocatedSize: vol.size, providerLocation: svc.driver.location(volumeId), host: hostOf(svc), launchedAt: new Date() } : {};
    await volumeFrom(volumeId, 'restoring-backup', { status: 'available', fault: null, ...made });
    await done();
  }

  async function remove(b: Backup): Promise<void> {
    try {
      await svc.backups!.delete(refOf(b));
    } catch (err) {
      if (!isFinal(err)) throw err;
      await settle(b.id, 'deleting', { status: 'error_deleting', fault: (err as Error).message });
      return;
    }
    await db.delete(backups).where(and(eq(backups.id, b.id), eq(backups.status, 'deleting')));
  }

  return {
    /** The keys of backups with work to do. */
    async keys(): Promise<string[]> {
      const rows = await db.select({ id: backups.id, status: backups.status }).from(backups);
      return rows.filter((r) => ['creating', 'restoring', 'deleting'].includes(r.status)).map((r) => `b:${r.id}`);
    },
    async reconcile(id: string): Promise<void> {
      const [b] = await db.select().from(backups).where(eq(backups.id, id));
      if (!b || !svc.backups) return;
      if (b.status === 'creating') await create(b);
      else if (b.status === 'restoring') await restore(b);
      else if (b.status === 'deleting') await remove(b);
    },
  };
}
