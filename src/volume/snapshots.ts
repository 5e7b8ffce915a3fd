import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { isAdmin } from './policy.ts';
import { reserve } from './quotas.ts';
import { VOLUME_CHANNEL } from './service.ts';
import { snapshots, SNAPSHOT_STATUSES, type SnapshotStatus } from './tables.ts';
import { findType } from './types.ts';
import { checkMetadata, checkText, getVolume } from './volumes.ts';

export type Snapshot = typeof snapshots.$inferSelect;

const wakeSnapshot = (tx: Db, id: string) => notify(tx, VOLUME_CHANNEL, `s:${id}`);

export async function getSnapshot(db: Db, auth: AuthContext, id: string, lock = false): Promise<Snapshot> {
  const q = db
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.id, id), isAdmin(auth) ? undefined : eq(snapshots.projectId, auth.project?.id ?? '')));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound(`Snapshot ${id} could not be found.`);
  return row;
}

/** Records a snapshot of an available volume (or of an in-use one when forced); the worker takes it. */
export async function createSnapshot(
  tx: Db,
  auth: AuthContext,
  req: { volumeId: string; name?: string | null; description?: string | null; force?: boolean; metadata?: unknown },
): Promise<Snapshot> {
  const vol = await getVolume(tx, auth, req.volumeId, true);
  checkText('name', req.name, 255);
  checkText('description', req.description, 255);
  const metadata = req.metadata === undefined || req.metadata === null ? {} : checkMetadata(req.metadata);
  if (vol.status === 'in-use' && !req.force) throw badRequest(`Invalid volume: Volume ${vol.id} status must be available, but current status is: in-use.`);
  if (vol.status !== 'available' && vol.status !== 'in-use')
    throw badRequest(`Invalid volume: Volume ${vol.id} status must be available, but current status is: ${vol.status}.`);
  const type = await findType(tx, vol.volumeTypeId, undefined, true);
  await reserve(tx, vol.projectId, type.name, { snapshots: 1, gigabytes: vol.size });
  const [row] = await tx
    .insert(snapshots)
    .values({
      id: randomUUID(),
      projectId: vol.projectId,
      userId: auth.userId,
      volumeId: vol.id,
      name: req.name ?? null,
      description: req.description ?? null,
      size: vol.size,
      metadata,
      // A snapshot lives beside its volume, on the volume's backend.
      backend: vol.backend,
    })
    .returning();
  await wakeSnapshot(tx, row!.id);
  return row!;
}

export async function updateSnapshot(
  tx: Db,
  auth: AuthContext,
  id: string,
  patch: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
): Promise<Snapshot> {
  const snap = await getSnapshot(tx, auth, id, true);
  checkText('name', patch.name, 255);
  checkText('description', patch.description, 255);
  const [row] = await tx
    .update(snapshots)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(snapshots.id, snap.id))
    .returning();
  return row!;
}

export async function deleteSnapshot(tx: Db, auth: AuthContext, id: string): Promise<void> {
  const snap = await getSnapshot(tx, auth, id, true);
  if (snap.status === 'deleting') return;
  if (!['available', 'error', 'error_deleting'].includes(snap.status))
    throw badRequest(`Invalid snapshot: Snapshot status must be available or error and must not be part of a group.`);
  await tx.update(snapshots).set({ status: 'deleting', updatedAt: new Date() }).where(eq(snapshots.id, snap.id));
  await wakeSnapshot(tx, snap.id);
}

export async function resetSnapshotStatus(tx: Db, auth: AuthContext, id: string, status: unknown): Promise<void> {
  if (typeof status !== 'string' || !(SNAPSHOT_STATUSES as readonly string[]).includes(status))
    throw badRequest(`Invalid input received: Must specify a valid status, not ${String(status)}.`);
  const snap = await getSnapshot(tx, auth, id, true);
  await tx
    .update(snapshots)
    .set({ status: status as SnapshotStatus, updatedAt: new Date() })
    .where(eq(snapshots.id, snap.id));
  await wakeSnapshot(tx, snap.id);
}
