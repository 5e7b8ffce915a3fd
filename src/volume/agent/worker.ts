import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { and, eq } from 'drizzle-orm';
import { imageBytes, imageFile, imageRecord } from '../../image/for-compute.ts';
import { startController, type Controller } from '../../lib/reconcile/controller.ts';
import { HostCommandError } from '../../lib/host/run.ts';
import { ImageTooLargeError, SourceMissingError } from '../drivers/driver.ts';
import { backupReconciler } from './backups.ts';
import { hostOf, VOLUME_CHANNEL, type VolumeService } from '../service.ts';
import { snapshots, volumes } from '../tables.ts';
import { finishUpload } from '../uploads.ts';
import { GiB, qemuFormatOf, type Volume } from '../volumes.ts';

// The volume worker: keys are `v:<volume id>` and `s:<snapshot id>`. Each run re-reads the record
// and the backend and moves them together: creating → available | error, extending → available |
// error_extending, deleting → gone | error_deleting, uploading → the status its attachments make. Backend objects without a record are removed.
// Backups (`b:<id>`) are ./backups.ts's.

/** A failure that retrying cannot mend: the record goes to its error status with this message. */
class Failed extends Error {}

export async function startVolumeWorker(svc: VolumeService): Promise<Controller> {
  const { store, driver, log } = svc;
  const db = store.db;
  await driver.sweep();
  await rm(svc.spoolDir, { recursive: true, force: true });
  const backupKeys = backupReconciler(svc);

  async function listKeys(): Promise<string[]> {
    const vols = await db.select({ id: volumes.id, status: volumes.status }).from(volumes);
    const snaps = await db.select({ id: snapshots.id, status: snapshots.status }).from(snapshots);
    const held = await driver.list();
    const known = new Set([...vols.map((v) => v.id), ...snaps.map((s) => s.id)]);
    return [
      ...vols.filter((v) => ['creating', 'extending', 'deleting', 'uploading'].includes(v.status)).map((v) => `v:${v.id}`),
      ...snaps.filter((s) => ['creating', 'deleting'].includes(s.status)).map((s) => `s:${s.id}`),
      ...held.volumes.filter((id) => !known.has(id)).map((id) => `v:${id}`),
      ...held.snapshots.filter((id) => !known.has(id)).map((id) => `s:${id}`),
      ...(await backupKeys.keys()),
    ];
  }

  /** Writes the outcome, unless the record changed status meanwhile (an admin's reset, a delete). */
  const settleVolume = (id: string, from: Volume['status'], set: Partial<Volume>) =>
    db
      .update(volumes)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(volumes.id, id), eq(volumes.status, from)));

  async function makeVolume(vol: Volume): Promise<void> {
    const bytes = vol.size * GiB;
    try {
      if (vol.snapshotId) await driver.cloneFromSnapshot(vol.id, vol.snapshotId, bytes);
      else if (vol.sourceVolid) await driver.cloneFromVolume(vol.id, vol.sourceVolid, bytes);
      else if (vol.imageId) await fromImage(vol, bytes);
      else await driver.createBlank(vol.id, bytes);
    } catch (err) {
      // The source is gone, too large or unreadable (qemu-img said why): trying again cannot help.
      if (err instanceof Failed || err instanceof SourceMissingError || err instanceof ImageTooLargeError || err instanceof HostCommandError) {
        await driver.delete(vol.id);
        throw new Failed((err as Error).message);
      }
      throw err;
    }
  }

  async function fromImage(vol: Volume, bytes: number): Promise<void> {
    const image = await imageRecord(db, vol.imageId!);
    if (!image || image.status !== 'active') throw new Failed(`image ${vol.imageId} is not active`);
    const format = qemuFormatOf(image.diskFormat);
    // A backend in the image store's cluster clones a raw image there instead of copying it.
    if (await driver.cloneImage?.(vol.id, { id: image.id, format, virtualSize: image.virtualSize ?? image.size ?? 0 }, bytes)) return;
    const local = imageFile(svc.images, image.id);
    if (local) return driver.createFromImage(vol.id, { path: local, format }, bytes);
    // Otherwise the image store hands out a stream; qemu-img needs a file it can seek in.
    const spool = join(svc.spoolDir, `${vol.id}.${randomUUID()}`);
    await mkdir(svc.spoolDir, { recursive: true, mode: 0o700 });
    try {
      await pipeline(await imageBytes(svc.images, image.id), createWriteStream(spool, { mode: 0o600 }));
      await driver.createFromImage(vol.id, { path: spool, format }, bytes);
    } finally {
      await rm(spool, { force: true });
    }
  }

  async function reconcileVolume(id: string): Promise<void> {
    const [vol] = await db.select().from(volumes).where(eq(volumes.id, id));
    if (!vol) {
      await driver.delete(id);
      return;
    }
    switch (vol.status) {
      case 'creating':
        try {
          await makeVolume(vol);
        } catch (err) {
          if (!(err instanceof Failed)) throw err;
          log.warn({ volume: id, err }, 'volume create failed');
          await settleVolume(id, 'creating', { status: 'error', fault: err.message });
          return;
        }
        await settleVolume(id, 'creating', {
          status: 'available',
          allocatedSize: vol.size,
          providerLocation: driver.location(id),
          host: hostOf(svc),
          launchedAt: new Date(),
          fault: null,
        });
        return;
      case 'extending':
        try {
          await driver.extend(id, vol.size * GiB);
        } catch (err) {
          log.warn({ volume: id, err }, 'volume extend failed');
          await settleVolume(id, 'extending', { status: 'error_extending', fault: (err as Error).message });
          return;
        }
        await settleVolume(id, 'extending', { status: 'available', allocatedSize: vol.size });
        return;
      case 'uploading':
        await finishUpload(svc, vol);
        return;
      case 'deleting': {
        // Snapshots go first (cascade): the worker's snapshot keys wake this one when done.
        const [snap] = await db.select({ id: snapshots.id }).from(snapshots).where(eq(snapshots.volumeId, id)).limit(1);
        if (snap) return;
        try {
          await driver.delete(id);
        } catch (err) {
          log.warn({ volume: id, err }, 'volume delete failed');
          await settleVolume(id, 'deleting', { status: 'error_deleting', fault: (err as Error).message });
          return;
        }
        await db.delete(volumes).where(and(eq(volumes.id, id), eq(volumes.status, 'deleting')));
        return;
      }
    }
  }

  async function reconcileSnapshot(id: string): Promise<void> {
    const [snap] = await db.select().from(snapshots).where(eq(snapshots.id, id));
    if (!snap) {
      await driver.deleteSnapshot(id);
      return;
    }
    const settle = (from: typeof snap.status, set: Partial<typeof snap>) =>
      db
        .update(snapshots)
        .set({ ...set, updatedAt: new Date() })
        .where(and(eq(snapshots.id, id), eq(snapshots.status, from)));
    if (snap.status === 'creating') {
      try {
        await driver.createSnapshot(id, snap.volumeId);
      } catch (err) {
        log.warn({ snapshot: id, err }, 'snapshot create failed');
        await driver.deleteSnapshot(id);
        await settle('creating', { status: 'error', fault: (err as Error).message });
        return;
      }
      await settle('creating', { status: 'available', providerLocation: id, fault: null });
    } else if (snap.status === 'deleting') {
      try {
        await driver.deleteSnapshot(id);
      } catch (err) {
        await settle('deleting', { status: 'error_deleting', fault: (err as Error).message });
        return;
      }
      await db.delete(snapshots).where(and(eq(snapshots.id, id), eq(snapshots.status, 'deleting')));
      controller.add(`v:${snap.volumeId}`);
    }
  }

  const controller: Controller = await startController({
    name: 'volume-worker',
    store,
    channel: VOLUME_CHANNEL,
    log,
    listKeys,
    reconcile: (key) =>
      key.startsWith('s:') ? reconcileSnapshot(key.slice(2)) : key.startsWith('b:') ? backupKeys.reconcile(key.slice(2)) : reconcileVolume(key.slice(2)),
  });
  return controller;
}
