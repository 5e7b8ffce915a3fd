import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, ne } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { EXPORTS_CHANNEL, VOLUME_CHANNEL } from './service.ts';
import { attachments, snapshots, volumes, type AttachmentStatus, type VolumeStatus } from './tables.ts';

// Attachments of volumes to servers: one row per attachment, shown by Nova's os-volume_attachments
// and Cinder's attachments API alike. The API functions here write intent in the caller's
// transaction; the compute agent of the server's host makes the guest match and reports back
// through the same functions. A volume's attach status (reserved, attaching, in-use, detaching,
// available) is never set by hand: settleVolume derives it from its rows.

export type Attachment = typeof attachments.$inferSelect;
type Volume = typeof volumes.$inferSelect;

/** Notifications on this channel name a server whose attachments changed: its compute agent wakes. */
export const ATTACHMENTS_CHANNEL = 'volume_attachments';

/** The volume statuses that attachments decide; others (creating, extending, error…) are left alone. */
const ATTACH_DRIVEN: VolumeStatus[] = ['available', 'reserved', 'attaching', 'in-use', 'detaching'];

/** A volume's status as its attachments make it. */
export function statusFromAttachments(rows: Pick<Attachment, 'status'>[]): VolumeStatus {
  const has = (s: AttachmentStatus) => rows.some((r) => r.status === s);
  if (has('attached') || has('error_detaching')) return 'in-use';
  if (has('detaching')) return 'detaching';
  if (has('attaching')) return 'attaching';
  if (has('reserved')) return 'reserved';
  return 'available';
}

/** Sets the volume's status from its attachments (the caller holds the volume's row lock). */
export async function settleVolume(tx: Db, volumeId: string): Promise<void> {
  const [vol] = await tx.select({ status: volumes.status }).from(volumes).where(eq(volumes.id, volumeId));
  if (!vol || !ATTACH_DRIVEN.includes(vol.status)) return;
  const rows = await tx.select({ status: attachments.status }).from(attachments).where(eq(attachments.volumeId, volumeId));
  const status = statusFromAttachments(rows);
  if (status !== vol.status) await tx.update(volumes).set({ status, updatedAt: new Date() }).where(eq(volumes.id, volumeId));
}

async function lockVolume(tx: Db, volumeId: string, projectId: string): Promise<Volume> {
  const [vol] = await tx
    .select()
    .from(volumes)
    .where(and(eq(volumes.id, volumeId), eq(volumes.projectId, projectId)))
    .for('update');
  if (!vol) throw notFound(`Volume ${volumeId} could not be found.`);
  return vol;
}

async function lockAttachment(tx: Db, id: string): Promise<Attachment> {
  const [row] = await tx.select().from(attachments).where(eq(attachments.id, id)).for('update');
  if (!row) throw notFound(`Volume attachment ${id} could not be found.`);
  return row;
}

const wakeServer = (tx: Db, serverId: string | null) => (serverId ? notify(tx, ATTACHMENTS_CHANNEL, serverId) : Promise.resolve());

export interface NewAttachment {
  volumeId: string;
  /** The project that owns both the volume and the server. */
  projectId: string;
  serverId?: string;
  /** The compute host, when known (the server's). */
  host?: string | null;
  /** A device name asked for; one is chosen when omitted (servers only). */
  device?: string;
  deleteOnTermination?: boolean;
  bootIndex?: number;
  /** 'attaching' when the compute side will carry it out at once (Nova), 'reserved' otherwise. */
  status: 'reserved' | 'attaching';
  /** The volume was made for this attachment in the same transaction (a server's boot volume)
   * and is still being created: the guest starts once it is available. */
  fresh?: boolean;
}

const DEVICE = /^\/dev\/[a-z]{2,3}[a-z]$/;

/** The first free /dev/vdX of a server, after its root disk (vda). */
function nextDevice(used: Set<string>): string {
  for (let i = 1; i < 26; i++) {
    const name = `/dev/vd${String.fromCharCode(97 + i)}`;
    if (!used.has(name)) return name;
  }
  throw badRequest('No free device name is left on this server.');
}

/**
 * Reserves a volume for a server (or for nobody yet, as Cinder allows): refused when the volume is
 * not available, unless it is multiattach and not already attached to that server.
 */
export async function createAttachment(tx: Db, req: NewAttachment): Promise<Attachment> {
  const vol = await lockVolume(tx, req.volumeId, req.projectId);
  const others = await tx.select().from(attachments).where(eq(attachments.volumeId, vol.id));
  if (req.serverId && others.some((a) => a.serverId === req.serverId)) {
    throw badRequest(`Invalid volume: Volume ${vol.id} is already attached to server ${req.serverId}.`);
  }
  const free = (vol.status === 'available' || (req.fresh && vol.status === 'creating')) && others.length === 0;
  const shareable = vol.multiattach && ['available', 'reserved', 'attaching', 'in-use'].includes(vol.status);
  // 400 as Cinder's attachment create and Nova's os-volume_attachments answer it (InvalidVolume).
  if (!free && !shareable) {
    throw badRequest(`Invalid volume: Volume ${vol.id} status must be available or downloading to reserve, but the current status is ${vol.status}.`);
  }
  let device: string | null = null;
  if (req.serverId) {
    const rows = await tx.select({ device: attachments.device }).from(attachments).where(eq(attachments.serverId, req.serverId));
    const used = new Set(rows.flatMap((r) => r.device ?? []));
    if (req.bootIndex === 0) used.delete('/dev/vda');
    if (req.device !== undefined) {
      if (!DEVICE.test(req.device)) throw badRequest(`The supplied device path (${req.device}) is invalid.`);
      if (used.has(req.device)) throw conflict(`The supplied device path (${req.device}) is in use.`);
      device = req.device;
    } else {
      device = req.bootIndex === 0 ? '/dev/vda' : nextDevice(used);
    }
  }
  const now = new Date();
  const [row] = await tx
    .insert(attachments)
    .values({
      id: randomUUID(),
      volumeId: vol.id,
      projectId: vol.projectId,
      serverId: req.serverId ?? null,
      host: req.host ?? null,
      device,
      attachMode: vol.readOnly ? 'ro' : 'rw',
      status: req.status,
      deleteOnTermination: req.deleteOnTermination ?? false,
      bootIndex: req.bootIndex ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  await settleVolume(tx, vol.id);
  await wakeServer(tx, row!.serverId);
  return row!;
}

/** Cinder's attachment update: the compute side gives its connector (and server); the
 * attachment is being attached. */
export async function connectAttachment(tx: Db, id: string, connector: Record<string, unknown>, serverId?: string): Promise<Attachment> {
  const a = await lockAttachment(tx, id);
  await lockVolume(tx, a.volumeId, a.projectId);
  if (!['reserved', 'attaching', 'error_attaching'].includes(a.status)) throw badRequest(`Invalid volume attachment: attachment ${id} is ${a.status}.`);
  const host = typeof connector.host === 'string' ? connector.host : a.host;
  const [row] = await tx
    .update(attachments)
    .set({ connector, host, serverId: a.serverId ?? serverId ?? null, status: 'attaching', fault: null, updatedAt: new Date() })
    .where(eq(attachments.id, id))
    .returning();
  await settleVolume(tx, a.volumeId);
  return row!;
}

/** The guest has the volume: attached, and the volume in-use. */
export async function completeAttach(tx: Db, id: string, connectionInfo?: Record<string, unknown>): Promise<void> {
  const a = await lockAttachment(tx, id);
  await tx.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, a.volumeId)).for('update');
  if (a.status !== 'attaching' && a.status !== 'reserved') return;
  await tx
    .update(attachments)
    .set({ status: 'attached', fault: null, attachedAt: new Date(), updatedAt: new Date(), ...(connectionInfo ? { connectionInfo } : {}) })
    .where(eq(attachments.id, id));
  await settleVolume(tx, a.volumeId);
}

/** The attach failed: the attachment stays, in error_attaching with the reason, until removed. */
export async function failAttach(tx: Db, id: string, fault: string): Promise<void> {
  const a = await lockAttachment(tx, id);
  await tx.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, a.volumeId)).for('update');
  await tx.update(attachments).set({ status: 'error_attaching', fault, updatedAt: new Date() }).where(eq(attachments.id, id));
  await settleVolume(tx, a.volumeId);
}

/** Asks for a detach. An attachment no guest has (reserved, failed, or of no server) goes at once. */
export async function beginDetach(tx: Db, id: string): Promise<void> {
  const a = await lockAttachment(tx, id);
  await tx.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, a.volumeId)).for('update');
  if (!a.serverId || a.status === 'reserved' || a.status === 'error_attaching') return finishDetach(tx, id);
  if (a.status === 'detaching') return;
  await tx.update(attachments).set({ status: 'detaching', fault: null, updatedAt: new Date() }).where(eq(attachments.id, id));
  await settleVolume(tx, a.volumeId);
  await wakeServer(tx, a.serverId);
}

/** The guest let the volume go: the attachment is gone. */
export async function finishDetach(tx: Db, id: string): Promise<void> {
  const [a] = await tx.select().from(attachments).where(eq(attachments.id, id)).for('update');
  if (!a) return;
  await tx.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, a.volumeId)).for('update');
  await tx.delete(attachments).where(eq(attachments.id, id));
  await settleVolume(tx, a.volumeId);
  // A host whose guest held it may lose its access to the volume's export.
  await notify(tx, EXPORTS_CHANNEL, a.volumeId);
}

/** The guest kept the volume: error_detaching with the reason, and the volume stays in-use. A
 * later detach asks again; a guest that lets it go meanwhile finishes this one. */
export async function keepAttached(tx: Db, id: string, fault: string): Promise<void> {
  const a = await lockAttachment(tx, id);
  await tx.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, a.volumeId)).for('update');
  await tx.update(attachments).set({ status: 'error_detaching', fault, updatedAt: new Date() }).where(eq(attachments.id, id));
  await settleVolume(tx, a.volumeId);
}

/** A server's attachments, oldest first (the order its guest got them). */
export const serverAttachments = (db: Db, serverId: string) =>
  db.select().from(attachments).where(eq(attachments.serverId, serverId)).orderBy(asc(attachments.createdAt), asc(attachments.id));

/** The attachments of servers, by server id, oldest first. */
export async function attachmentsOfServers(db: Db, serverIds: string[]): Promise<Map<string, Attachment[]>> {
  const out = new Map<string, Attachment[]>();
  if (!serverIds.length) return out;
  const rows = await db.select().from(attachments).where(inArray(attachments.serverId, serverIds)).orderBy(asc(attachments.createdAt), asc(attachments.id));
  for (const a of rows) out.set(a.serverId!, [...(out.get(a.serverId!) ?? []), a]);
  return out;
}

/** The attachment of a volume to a server, if there is one. */
export async function attachmentOf(db: Db, serverId: string, volumeId: string): Promise<Attachment | undefined> {
  const [row] = await db
    .select()
    .from(attachments)
    .where(and(eq(attachments.serverId, serverId), eq(attachments.volumeId, volumeId)));
  return row;
}

/** An attachment the project may see. */
export async function getAttachment(db: Db, projectId: string | undefined, id: string): Promise<Attachment> {
  const [row] = await db
    .select()
    .from(attachments)
    .where(and(eq(attachments.id, id), projectId === undefined ? undefined : eq(attachments.projectId, projectId)));
  if (!row) throw notFound(`Volume attachment ${id} could not be found.`);
  return row;
}

/** Volumes by id, for the compute side (sizes, read-only flags). */
export async function volumesById(db: Db, ids: string[]): Promise<Map<string, Volume>> {
  if (!ids.length) return new Map();
  return new Map((await db.select().from(volumes).where(inArray(volumes.id, ids))).map((v) => [v.id, v]));
}

/** An in-use volume grew: the guests that hold it are told (block_resize by their agents). */
export async function volumeExtended(tx: Db, volumeId: string): Promise<void> {
  const rows = await tx
    .select({ serverId: attachments.serverId })
    .from(attachments)
    .where(and(eq(attachments.volumeId, volumeId), ne(attachments.status, 'reserved')));
  for (const r of rows) await wakeServer(tx, r.serverId);
}

/** The guest sees the volume's new size. */
export async function extendDone(tx: Db, volumeId: string, sizeGiB: number): Promise<void> {
  await tx.update(volumes).set({ allocatedSize: sizeGiB, updatedAt: new Date() }).where(eq(volumes.id, volumeId));
}

/**
 * A deleted server's guest is gone: its attachments go with it, and the volumes it was to take
 * along (delete_on_termination) are marked for deletion unless something else holds them.
 */
export async function releaseServer(tx: Db, serverId: string): Promise<void> {
  const rows = await tx.select().from(attachments).where(eq(attachments.serverId, serverId)).orderBy(asc(attachments.id)).for('update');
  for (const a of rows) {
    await finishDetach(tx, a.id);
    if (!a.deleteOnTermination) continue;
    const [vol] = await tx.select().from(volumes).where(eq(volumes.id, a.volumeId)).for('update');
    const held = await tx.select({ id: attachments.id }).from(attachments).where(eq(attachments.volumeId, a.volumeId)).limit(1);
    const snaps = await tx.select({ id: snapshots.id }).from(snapshots).where(eq(snapshots.volumeId, a.volumeId)).limit(1);
    if (!vol || vol.status !== 'available' || held.length || snaps.length) continue;
    await tx.update(volumes).set({ status: 'deleting', updatedAt: new Date() }).where(eq(volumes.id, vol.id));
    await notify(tx, VOLUME_CHANNEL, `v:${vol.id}`);
  }
}
