import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { isAdmin } from './policy.ts';
import { reserveBackup } from './quotas.ts';
import { VOLUME_CHANNEL, type VolumeService } from './service.ts';
import { backups, BACKUP_STATUSES, volumes, type BackupStatus } from './tables.ts';
import { checkMetadata, checkText, createVolume, getVolume } from './volumes.ts';

export type Backup = typeof backups.$inferSelect;

/** Wakes the volume worker for a backup once the transaction commits. */
export const wakeBackup = (tx: Db, id: string) => notify(tx, VOLUME_CHANNEL, `b:${id}`);

export async function getBackup(db: Db, auth: AuthContext, id: string, lock = false): Promise<Backup> {
  const q = db
    .select()
    .from(backups)
    .where(and(eq(backups.id, id), isAdmin(auth) ? undefined : eq(backups.projectId, auth.project?.id ?? '')));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound(`Backup ${id} could not be found.`);
  return row;
}

/** The ids among `ids` that incremental backups build on. */
export async function withDependents(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.select({ parent: backups.parentId }).from(backups).where(inArray(backups.parentId, ids));
  return new Set(rows.map((r) => r.parent!));
}

export interface CreateBackupRequest {
  volumeId: string;
  name?: string | null;
  description?: string | null;
  incremental?: boolean;
  force?: boolean;
  snapshotId?: string | null;
  metadata?: unknown;
}

/**
 * Records a backup of an available volume (which goes `backing-up` meanwhile) or, when forced, of
 * an in-use one (the store copies a snapshot of it, as Cinder does); the worker makes it. An
 * incremental backup builds on the volume's latest available one.
 */
export async function createBackup(tx: Db, svc: VolumeService, auth: AuthContext, req: CreateBackupRequest): Promise<Backup> {
  if (!svc.backups) throw badRequest('Invalid input received: volume backups are not offered by this cloud.');
  const vol = await getVolume(tx, auth, req.volumeId, true);
  checkText('name', req.name, 255);
  checkText('description', req.description, 255);
  if (req.snapshotId) throw badRequest('Invalid input received: backups of a snapshot are not offered by this cloud; back up the volume.');
  const metadata = req.metadata === undefined || req.metadata === null ? {} : checkMetadata(req.metadata);
  if (vol.status === 'in-use' && !req.force) throw badRequest('Invalid volume: Backing up an in-use volume must use the force flag.');
  if (vol.status !== 'available' && vol.status !== 'in-use')
    throw badRequest(`Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${vol.status}".`);
  const mine = await tx.select().from(backups).where(eq(backups.volumeId, vol.id)).orderBy(desc(backups.createdAt));
  // One backup of a volume at a time: each reads the snapshot the last one left on the volume.
  if (mine.some((b) => b.status === 'creating')) throw badRequest(`Invalid volume: A backup of volume ${vol.id} is being made.`);
  const parent = req.incremental ? mine.find((b) => b.status === 'available') : undefined;
  if (req.incremental && !parent) throw badRequest('Invalid backup: No backups available to do an incremental backup.');
  await reserveBackup(tx, vol.projectId, vol.size);
  const [row] = await tx
    .insert(backups)
    .values({
      id: randomUUID(),
      projectId: vol.projectId,
      userId: auth.userId,
      volumeId: vol.id,
      name: req.name ?? null,
      description: req.description ?? null,
      size: vol.size,
      isIncremental: parent !== undefined,
      parentId: parent?.id ?? null,
      backend: svc.backups.name,
      metadata,
    })
    .returning();
  if (vol.status === 'available') await tx.update(volumes).set({ status: 'backing-up', updatedAt: new Date() }).where(eq(volumes.id, vol.id));
  await wakeBackup(tx, row!.id);
  return row!;
}

export async function updateBackup(tx: Db, auth: AuthContext, id: string, patch: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<Backup> {
  const b = await getBackup(tx, auth, id, true);
  checkText('name', patch.name, 255);
  checkText('description', patch.description, 255);
  const [row] = await tx
    .update(backups)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(backups.id, b.id))
    .returning();
  return row!;
}

/** Marks a backup deleting; the worker removes it from the store, then the record. Forced: from any
 * status but restoring. */
export async function deleteBackup(tx: Db, auth: AuthContext, id: string, force = false): Promise<void> {
  const b = await getBackup(tx, auth, id, true);
  if (b.status === 'deleting') return;
  if (force ? b.status === 'restoring' : !['available', 'error', 'error_deleting'].includes(b.status))
    throw badRequest('Invalid backup: Backup status must be available or error');
  if ((await withDependents(tx, [b.id])).size > 0) throw badRequest('Invalid backup: Incremental backups exist for this backup.');
  await tx.update(backups).set({ status: 'deleting', updatedAt: new Date() }).where(eq(backups.id, b.id));
  await wakeBackup(tx, b.id);
}

/**
 * Restores a backup into an existing available volume at least as large, or into a new volume of
 * the backup's size (quota counted as for any volume). Both go `restoring` / `restoring-backup`
 * until the worker has written the bytes.
 */
export async function restoreBackup(tx: Db, svc: VolumeService, auth: AuthContext, id: string, req: { volumeId?: string | null; name?: string | null }) {
  const b = await getBackup(tx, auth, id, true);
  if (b.status !== 'available') throw badRequest(`Invalid backup: Backup status must be available`);
  let volumeId: string;
  let volumeName: string | null;
  if (req.volumeId) {
    const vol = await getVolume(tx, auth, req.volumeId, true);
    if (vol.status !== 'available') throw badRequest(`Invalid volume: Volume to be restored to must be available`);
    if (vol.size < b.size) throw badRequest(`Invalid volume: volume size ${vol.size} is too small to restore backup of size ${b.size}.`);
    ({ id: volumeId, name: volumeName } = vol);
  } else {
    const vol = await createVolume(tx, svc, auth, {
      size: b.size,
      name: req.name ?? `restore_backup_${b.id}`,
      description: 'auto-created_from_restore_from_backup',
    });
    ({ id: volumeId, name: volumeName } = vol);
  }
  // The status tells the volume's own worker key that the backup's key makes this volume.
  await tx.update(volumes).set({ status: 'restoring-backup', updatedAt: new Date() }).where(eq(volumes.id, volumeId));
  await tx
    .update(backups)
    .set({ status: 'restoring', restoreVolumeId: volumeId, restoreCreates: !req.volumeId, updatedAt: new Date() })
    .where(eq(backups.id, b.id));
  await wakeBackup(tx, b.id);
  return { backup_id: b.id, volume_id: volumeId, volume_name: volumeName };
}

export async function resetBackupStatus(tx: Db, auth: AuthContext, id: string, status: unknown): Promise<void> {
  if (typeof status !== 'string' || !(BACKUP_STATUSES as readonly string[]).includes(status))
    throw badRequest(`Invalid input received: Must specify a valid status, not ${String(status)}.`);
  const b = await getBackup(tx, auth, id, true);
  await tx
    .update(backups)
    .set({ status: status as BackupStatus, updatedAt: new Date() })
    .where(eq(backups.id, b.id));
  await wakeBackup(tx, b.id);
}
