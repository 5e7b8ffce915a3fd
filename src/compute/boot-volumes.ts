import { Readable } from 'node:stream';
import { bootImage, createImageRecord, uploadImageStream } from '../image/for-compute.ts';
import type { ImageService } from '../image/index.ts';
import { ApiError, badRequest, conflict } from '../lib/errors.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Db } from '../lib/store/db.ts';
import { createAttachment, serverAttachments } from '../volume/attachments.ts';
import { createSnapshot, createVolume } from '../volume/for-compute.ts';
import type { VolumeService } from '../volume/service.ts';

// Nova's block device mappings (v2) at server create: the volume a server boots from, and the
// volumes it gets at once. A volume made from an image, a snapshot or nothing is created here and
// is still 'creating' when the request returns; the server's agent starts the guest once it is there.

/** One entry of block_device_mapping_v2, as clients send it. */
export interface BlockDeviceMapping {
  boot_index?: number | string | null;
  uuid?: string;
  source_type?: string;
  destination_type?: string;
  volume_size?: number | string;
  delete_on_termination?: boolean | string;
  device_name?: string;
  volume_type?: string;
}

export interface VolumeMapping {
  bootIndex?: number;
  source: 'volume' | 'image' | 'snapshot' | 'blank';
  uuid?: string;
  sizeGiB?: number;
  deleteOnTermination: boolean;
  device?: string;
  volumeType?: string;
}

const truthy = (v: boolean | string | undefined) => (typeof v === 'string' ? ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase()) : (v ?? false));

/** Checks the mappings and keeps those that make volumes; an image mapped to the local disk is the
 * ordinary image boot and adds nothing. */
export function parseMappings(bdms: BlockDeviceMapping[]): VolumeMapping[] {
  const out: VolumeMapping[] = [];
  for (const b of bdms) {
    const source = b.source_type ?? 'volume';
    const destination = b.destination_type ?? (source === 'image' ? 'local' : 'volume');
    if (!['volume', 'image', 'snapshot', 'blank'].includes(source)) throw badRequest(`Invalid input for field/attribute source_type. Value: ${source}.`);
    if (destination !== 'volume' && destination !== 'local') throw badRequest(`Invalid input for field/attribute destination_type. Value: ${destination}.`);
    const index = b.boot_index === undefined || b.boot_index === null || b.boot_index === '' ? undefined : Number(b.boot_index);
    if (index !== undefined && !Number.isInteger(index)) throw badRequest(`Invalid input for field/attribute boot_index. Value: ${b.boot_index}.`);
    if (destination === 'local') {
      if (source === 'image' && (index === 0 || index === undefined)) continue;
      throw badRequest('Block Device Mapping is Invalid: local disks other than the image are not supported (no ephemeral or swap disks on this cloud).');
    }
    if (source !== 'blank' && !b.uuid) throw badRequest(`Block Device Mapping is Invalid: a ${source} source needs a uuid.`);
    const size = b.volume_size === undefined || b.volume_size === '' ? undefined : Number(b.volume_size);
    if (size !== undefined && (!Number.isInteger(size) || size < 1))
      throw badRequest(`Invalid input for field/attribute volume_size. Value: ${b.volume_size}.`);
    if ((source === 'image' || source === 'blank') && size === undefined)
      throw badRequest(`Block Device Mapping is Invalid: a volume made from ${source === 'image' ? 'an image' : 'nothing'} needs a volume_size.`);
    out.push({
      bootIndex: index !== undefined && index >= 0 ? index : undefined,
      source: source as VolumeMapping['source'],
      uuid: b.uuid,
      sizeGiB: size,
      deleteOnTermination: truthy(b.delete_on_termination),
      device: b.device_name || undefined,
      volumeType: b.volume_type,
    });
  }
  const boots = out.filter((m) => m.bootIndex === 0);
  if (boots.length > 1)
    throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
  return out;
}

/** The volume mapped to boot from, if any. */
export const bootMapping = (maps: VolumeMapping[]) => maps.find((m) => m.bootIndex === 0);

/** Makes (or takes) each mapped volume and attaches it to the new server: the boot volume as its
 * root disk (vda), the others as data volumes. */
export async function mapVolumes(
  tx: Db,
  svc: VolumeService,
  auth: AuthContext,
  server: { id: string; projectId: string; name: string },
  maps: VolumeMapping[],
) {
  // The boot volume first, so that it is the server's first attachment.
  const ordered = [...maps].sort((a, b) => Number(b.bootIndex === 0) - Number(a.bootIndex === 0));
  for (const m of ordered) {
    let volumeId = m.uuid!;
    let fresh = false;
    if (m.source !== 'volume') {
      const vol = await createVolume(tx, svc, auth, {
        size: m.sizeGiB,
        name: '',
        volumeType: m.volumeType,
        ...(m.source === 'image' ? { imageId: m.uuid } : m.source === 'snapshot' ? { snapshotId: m.uuid } : {}),
      });
      volumeId = vol.id;
      fresh = true;
    }
    // A server create answers a volume it cannot use with 400, as Nova does.
    await createAttachment(tx, {
      volumeId,
      projectId: server.projectId,
      serverId: server.id,
      device: m.device,
      deleteOnTermination: m.deleteOnTermination,
      bootIndex: m.bootIndex === 0 ? 0 : undefined,
      status: 'attaching',
      fresh,
    }).catch((err: unknown) => {
      if (err instanceof ApiError && err.kind === 'Conflict') throw badRequest(err.message);
      throw err;
    });
  }
}

/** The states in which Nova images a volume-backed server. */
const SNAPSHOTTABLE = ['active', 'stopped', 'paused'];

/**
 * createImage of a server whose root disk is a volume, as Nova does it: each of its volumes is
 * snapshotted (forced: crash-consistent while the guest runs), and the image, with no bytes of its
 * own, names the snapshots in its `block_device_mapping` property (bdm_v2), so that a server booted
 * from it gets volumes made from them. The image is made queued here; activateVolumeBackedImage
 * makes it active once the transaction has committed.
 */
export async function snapshotVolumeBacked(
  tx: Db,
  images: ImageService,
  auth: AuthContext,
  server: { id: string; vmState: string; deleting: boolean },
  name: string,
  metadata: Record<string, string>,
): Promise<string> {
  if (server.deleting || !SNAPSHOTTABLE.includes(server.vmState)) {
    throw conflict(`Cannot 'createImage' instance ${server.id} while it is in vm_state ${server.vmState}`);
  }
  const mappings = [];
  for (const a of await serverAttachments(tx, server.id)) {
    if (a.status !== 'attached') continue;
    const snap = await createSnapshot(tx, auth, { volumeId: a.volumeId, name: `snapshot for ${name}`, force: true });
    mappings.push({
      boot_index: a.bootIndex ?? -1,
      device_name: a.device,
      source_type: 'snapshot',
      destination_type: 'volume',
      snapshot_id: snap.id,
      volume_id: null,
      image_id: null,
      volume_size: snap.size,
      delete_on_termination: a.deleteOnTermination,
      device_type: 'disk',
      disk_bus: 'virtio',
      guest_format: null,
      no_device: null,
      tag: null,
      volume_type: null,
    });
  }
  if (!mappings.some((m) => m.boot_index === 0)) throw conflict(`Instance ${server.id} has no attached root volume to snapshot.`);
  const image = await createImageRecord(tx, images, auth, {
    ...metadata,
    name,
    disk_format: 'raw',
    container_format: 'bare',
    instance_uuid: server.id,
    block_device_mapping: JSON.stringify(mappings),
    bdm_v2: 'True',
    root_device_name: '/dev/vda',
  });
  return image.id;
}

/** The image of a volume-backed server holds no bytes: it is active, of size 0, as Nova leaves it. */
export const activateVolumeBackedImage = (images: ImageService, owner: string, imageId: string) => uploadImageStream(images, owner, imageId, Readable.from([]));

const TRUE = ['true', '1', 'yes', 'on', 't', 'y'];

/**
 * The block device mappings of the image a server boots from (one made by snapshotVolumeBacked,
 * or any image with `bdm_v2` and a `block_device_mapping` property), beneath the request's own:
 * a device the request maps, or a boot volume it gives, is the request's.
 */
export async function withImageMappings(tx: Db, auth: AuthContext, imageRef: string, maps: VolumeMapping[]): Promise<VolumeMapping[]> {
  if (!imageRef || bootMapping(maps)) return maps;
  const image = await bootImage(tx, auth, imageRef.replace(/\/+$/, '').split('/').at(-1) ?? '').catch(() => undefined);
  const raw = image?.properties.block_device_mapping;
  if (!image || !raw || !TRUE.includes(String(image.properties.bdm_v2).toLowerCase())) return maps;
  let entries: unknown;
  try {
    entries = JSON.parse(raw);
  } catch {
    entries = undefined;
  }
  if (!Array.isArray(entries)) throw badRequest(`Block Device Mapping is Invalid: the block_device_mapping of image ${image.id} is not a list.`);
  const fromImage = parseMappings(
    entries.map((e: Record<string, unknown>) => ({
      ...e,
      uuid: (e.snapshot_id ?? e.volume_id ?? e.image_id ?? e.uuid ?? undefined) as string | undefined,
      device_name: (e.device_name ?? undefined) as string | undefined,
      volume_size: (e.volume_size ?? undefined) as number | undefined,
      volume_type: (e.volume_type ?? undefined) as string | undefined,
    })),
  );
  return [...fromImage.filter((m) => !m.device || !maps.some((r) => r.device === m.device)), ...maps];
}
