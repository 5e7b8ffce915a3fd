import { ApiError, badRequest } from '../lib/errors.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Db } from '../lib/store/db.ts';
import { createAttachment } from '../volume/attachments.ts';
import { createVolume } from '../volume/for-compute.ts';
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
