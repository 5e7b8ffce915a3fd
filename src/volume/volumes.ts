import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { bootImage } from '../image/for-compute.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { isAdmin } from './policy.ts';
import { reserve } from './quotas.ts';
import { VOLUME_CHANNEL, type VolumeService } from './service.ts';
import { attachments, snapshots, volumes, VOLUME_STATUSES, type VolumeStatus } from './tables.ts';
import { defaultType, findType, type VolumeType } from './types.ts';

export type Volume = typeof volumes.$inferSelect;
export const GiB = 2 ** 30;

export interface CreateVolumeRequest {
  size?: number;
  name?: string | null;
  description?: string | null;
  volumeType?: string | null;
  availabilityZone?: string | null;
  metadata?: Record<string, string>;
  imageId?: string | null;
  snapshotId?: string | null;
  sourceVolid?: string | null;
  multiattach?: boolean;
}

/** Wakes the volume worker for a volume once the transaction commits. */
export const wakeVolume = (tx: Db, id: string) => notify(tx, VOLUME_CHANNEL, `v:${id}`);

/** A volume the caller may see (its project's, or any for an admin); others are not found. */
export async function getVolume(db: Db, auth: AuthContext, id: string, lock = false): Promise<Volume> {
  const where = and(eq(volumes.id, id), isAdmin(auth) ? undefined : eq(volumes.projectId, auth.project?.id ?? ''));
  const q = db.select().from(volumes).where(where);
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound(`Volume ${id} could not be found.`);
  return row;
}

export function checkText(name: string, value: string | null | undefined, max: number): void {
  if (value !== undefined && value !== null && value.length > max) throw badRequest(`Invalid input received: ${name} has more than ${max} characters.`);
}

export function checkMetadata(metadata: unknown): Record<string, string> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw badRequest('Malformed request body: metadata must be an object.');
  for (const [k, v] of Object.entries(metadata)) {
    if (!k || k.length > 255) throw badRequest('Invalid input received: metadata keys have 1 to 255 characters.');
    if (typeof v !== 'string' || v.length > 255) throw badRequest(`Invalid input received: the value of metadata ${k} must be a string of at most 255 characters.`);
  }
  return metadata as Record<string, string>;
}

/** Glance's disk formats under qemu-img's names. */
const QEMU_FORMATS: Record<string, string> = { vhd: 'vpc', iso: 'raw', ami: 'raw', aki: 'raw', ari: 'raw' };
export const qemuFormatOf = (diskFormat: string | null) => QEMU_FORMATS[diskFormat ?? 'raw'] ?? diskFormat ?? 'raw';

/** Records a new volume (status creating) after checking its source and the project's quota; the
 * worker makes it on the backend once the transaction commits. */
export async function createVolume(tx: Db, svc: VolumeService, auth: AuthContext, req: CreateVolumeRequest): Promise<Volume> {
  const projectId = auth.project?.id;
  if (!projectId) throw badRequest('A project-scoped token is needed to create a volume.');
  checkText('name', req.name, 255);
  checkText('description', req.description, 255);
  const sources = [req.imageId, req.snapshotId, req.sourceVolid].filter((s) => s !== undefined && s !== null);
  if (sources.length > 1) throw badRequest('Invalid input received: only one of imageRef, snapshot_id and source_volid may be given.');
  if (req.availabilityZone && req.availabilityZone !== svc.zone) throw badRequest(`Invalid input received: Availability zone '${req.availabilityZone}' is invalid.`);

  let size = req.size;
  let type: VolumeType | undefined = req.volumeType ? await findType(tx, req.volumeType, projectId, isAdmin(auth)) : undefined;
  let bootable = false;
  let imageMetadata: Record<string, string> | null = null;
  let minSize = 1;
  if (req.snapshotId) {
    const snap = await getSnapshotFor(tx, auth, req.snapshotId);
    if (snap.status !== 'available') throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    const parent = await tx.select().from(volumes).where(eq(volumes.id, snap.volumeId));
    type ??= await findType(tx, parent[0]!.volumeTypeId, undefined, true);
    bootable = parent[0]!.bootable;
    imageMetadata = parent[0]!.imageMetadata;
    minSize = snap.size;
    size ??= snap.size;
    if (size < snap.size) throw badRequest(`Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.size}GB. They must be >= original snapshot size.`);
  } else if (req.sourceVolid) {
    const src = await getVolume(tx, auth, req.sourceVolid).catch(() => {
      throw notFound(`Source volume ${req.sourceVolid} could not be found.`);
    });
    if (!['available', 'in-use'].includes(src.status)) throw badRequest(`Invalid volume: Unable to clone volumes that are in ${src.status} state.`);
    type ??= await findType(tx, src.volumeTypeId, undefined, true);
    bootable = src.bootable;
    imageMetadata = src.imageMetadata;
    minSize = src.size;
    size ??= src.size;
    if (size < src.size) throw badRequest(`Invalid input received: Clones currently must be >= original volume size.`);
  } else if (req.imageId) {
    const image = await bootImage(tx, auth, req.imageId).catch(() => {
      throw badRequest(`Invalid image identifier or unable to access requested image.`);
    });
    if (image.status !== 'active') throw badRequest(`Invalid image: Image ${image.id} is not active.`);
    const imageGiB = Math.ceil(Math.max(image.size ?? 0, image.virtualSize ?? 0) / GiB);
    if (size === undefined) throw badRequest('Invalid input received: size is needed to create a volume from an image.');
    if (size < image.minDisk) throw badRequest(`Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ${image.minDisk}GB.`);
    if (size < imageGiB) throw badRequest(`Invalid input received: Size of specified image ${imageGiB}GB is larger than volume size ${size}GB.`);
    bootable = true;
    imageMetadata = {
      image_id: image.id,
      image_name: image.name ?? '',
      checksum: image.checksum ?? '',
      container_format: image.containerFormat ?? '',
      disk_format: image.diskFormat ?? '',
      min_disk: String(image.minDisk),
      min_ram: String(image.minRam),
      size: String(image.size ?? 0),
      ...image.properties,
    };
  }
  if (size === undefined || !Number.isInteger(size) || size < minSize) throw badRequest(`Invalid input received: Invalid volume size provided for create request: ${String(req.size)} (size argument must be an integer (or string represenation of an integer) and greater than zero).`);
  type ??= await defaultType(tx);

  await reserve(tx, projectId, type.name, { volumes: 1, gigabytes: size }, size);
  const [row] = await tx
    .insert(volumes)
    .values({
      id: randomUUID(),
      projectId,
      userId: auth.userId,
      name: req.name ?? null,
      description: req.description ?? null,
      size,
      status: 'creating',
      availabilityZone: svc.zone,
      volumeTypeId: type.id,
      bootable,
      multiattach: req.multiattach ?? type.extraSpecs.multiattach === '<is> True',
      metadata: req.metadata ?? {},
      imageMetadata,
      sourceVolid: req.sourceVolid ?? null,
      snapshotId: req.snapshotId ?? null,
      imageId: req.imageId ?? null,
      backend: svc.driver.name,
    })
    .returning();
  await wakeVolume(tx, row!.id);
  return row!;
}

async function getSnapshotFor(tx: Db, auth: AuthContext, id: string) {
  const [snap] = await tx
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.id, id), isAdmin(auth) ? undefined : eq(snapshots.projectId, auth.project?.id ?? '')));
  if (!snap) throw notFound(`Snapshot ${id} could not be found.`);
  return snap;
}

export async function updateVolume(tx: Db, auth: AuthContext, id: string, req: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<Volume> {
  const vol = await getVolume(tx, auth, id, true);
  checkText('name', req.name, 255);
  checkText('description', req.description, 255);
  const [row] = await tx
    .update(volumes)
    .set({
      ...(req.name !== undefined ? { name: req.name } : {}),
      ...(req.description !== undefined ? { description: req.description } : {}),
      ...(req.metadata !== undefined ? { metadata: req.metadata } : {}),
      updatedAt: new Date(),
    })
    .where(eq(volumes.id, vol.id))
    .returning();
  return row!;
}

/** Sets one flag or the metadata of a volume, as the volume actions do. */
export async function patchVolume(tx: Db, auth: AuthContext, id: string, patch: Partial<Pick<Volume, 'bootable' | 'readOnly' | 'metadata' | 'status'>>): Promise<Volume> {
  const vol = await getVolume(tx, auth, id, true);
  const [row] = await tx
    .update(volumes)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(volumes.id, vol.id))
    .returning();
  return row!;
}

/** Called when a volume a guest holds grows: the compute side resizes the guest's disk. */
type InUseExtendHook = (tx: Db, volumeId: string) => Promise<void>;
let inUseExtendHook: InUseExtendHook | undefined;
export const onInUseExtend = (hook: InUseExtendHook) => void (inUseExtendHook = hook);

/** os-extend: an available volume goes `extending` until the worker has grown it; an in-use one
 * (3.42+) keeps its status and the compute side grows the guest's disk. */
export async function extendVolume(tx: Db, auth: AuthContext, id: string, newSize: unknown, inUseAllowed: boolean): Promise<void> {
  const vol = await getVolume(tx, auth, id, true);
  const size = typeof newSize === 'string' && /^\d+$/.test(newSize) ? Number(newSize) : newSize;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) throw badRequest(`Invalid input received: New size for extend must be an integer, not ${String(newSize)}.`);
  const inUse = vol.status === 'in-use';
  if (vol.status !== 'available' && !(inUse && inUseAllowed)) {
    throw badRequest(`Invalid volume: Volume ${vol.id} status must be '${inUseAllowed ? 'available or in-use' : 'available'}' to extend, currently in '${vol.status}' status.`);
  }
  if (size <= vol.size) throw badRequest(`Invalid input received: New size for extend must be greater than current size. (current: ${vol.size}, extended: ${size}).`);
  if (inUse && !inUseExtendHook) throw badRequest(`Invalid volume: Volume ${vol.id} cannot be extended while attached on this cloud.`);
  // An NBD export's size is fixed for its clients: qemu cannot grow a disk it reaches through one.
  if (inUse && vol.nbdExport) throw badRequest(`Invalid volume: Volume ${vol.id} is attached to a server on another host and cannot be extended while in use there.`);
  const type = await findType(tx, vol.volumeTypeId, undefined, true);
  await reserve(tx, vol.projectId, type.name, { gigabytes: size - vol.size });
  await tx
    .update(volumes)
    .set({ size, ...(inUse ? {} : { status: 'extending' as const }), updatedAt: new Date() })
    .where(eq(volumes.id, vol.id));
  if (inUse) await inUseExtendHook!(tx, vol.id);
  else await wakeVolume(tx, vol.id);
}

const DELETABLE: VolumeStatus[] = ['available', 'error', 'error_extending', 'error_deleting'];

/** Marks a volume deleting (and, with cascade, its snapshots); the worker removes it. */
export async function deleteVolume(tx: Db, auth: AuthContext, id: string, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
  const vol = await getVolume(tx, auth, id, true);
  if (vol.status === 'deleting') return;
  const [attached] = await tx.select({ id: attachments.id }).from(attachments).where(eq(attachments.volumeId, vol.id)).limit(1);
  const snaps = await tx.select().from(snapshots).where(eq(snapshots.volumeId, vol.id));
  const invalid = attached || (!opts.force && !DELETABLE.includes(vol.status)) || (snaps.length > 0 && !opts.cascade);
  if (invalid) {
    throw badRequest(
      `Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`,
    );
  }
  if (opts.cascade && snaps.some((s) => !['available', 'error', 'error_deleting', 'deleting'].includes(s.status))) {
    throw badRequest(`Invalid volume: Snapshot of volume ${vol.id} is not in a deletable state.`);
  }
  if (snaps.length > 0) {
    await tx.update(snapshots).set({ status: 'deleting', updatedAt: new Date() }).where(inArray(snapshots.id, snaps.map((s) => s.id)));
    for (const s of snaps) await notify(tx, VOLUME_CHANNEL, `s:${s.id}`);
  }
  await tx.update(volumes).set({ status: 'deleting', updatedAt: new Date() }).where(eq(volumes.id, vol.id));
  await wakeVolume(tx, vol.id);
}

/** os-reset_status, for an admin repairing a record by hand. */
export async function resetVolumeStatus(tx: Db, auth: AuthContext, id: string, status: unknown): Promise<void> {
  // An attach_status alone (openstack volume set --attached) changes nothing here: the attach
  // status is derived from the attachments.
  if (status === undefined || status === null) {
    await getVolume(tx, auth, id);
    return;
  }
  if (typeof status !== 'string' || !(VOLUME_STATUSES as readonly string[]).includes(status)) throw badRequest(`Invalid input received: Must specify a valid status, not ${String(status)}.`);
  const vol = await getVolume(tx, auth, id, true);
  await tx
    .update(volumes)
    .set({ status: status as VolumeStatus, updatedAt: new Date() })
    .where(eq(volumes.id, vol.id));
  await wakeVolume(tx, vol.id);
}

/** The attachments of volumes, by volume id, for their views. */
export async function attachmentsOf(db: Db, volumeIds: string[]) {
  if (volumeIds.length === 0) return new Map<string, (typeof attachments.$inferSelect)[]>();
  const rows = await db.select().from(attachments).where(inArray(attachments.volumeId, volumeIds)).orderBy(sql`${attachments.createdAt}`);
  const out = new Map<string, (typeof attachments.$inferSelect)[]>();
  for (const r of rows) out.set(r.volumeId, [...(out.get(r.volumeId) ?? []), r]);
  return out;
}
