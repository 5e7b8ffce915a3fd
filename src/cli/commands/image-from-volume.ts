import type { Session } from '../../client/session.ts';
import { ClientError } from '../../client/errors.ts';
import { VolumeClient } from '../../client/volume.ts';

export interface FromVolume {
  volume: string;
  force?: boolean;
  containerFormat: string;
  diskFormat: string;
  visibility?: string;
  protected?: boolean;
}

/**
 * `image create --volume`: Cinder uploads the volume's bytes into a new image and answers at once
 * (the volume `uploading`), so what is printed is Cinder's answer, its volume type by name, as
 * openstackclient prints it. Visibility and protection travel from volume API 3.1 only; nubo asks
 * for 3.1 when they are given, where openstackclient wants --os-volume-api-version for them.
 */
export async function imageFromVolume(session: Session, name: string, o: FromVolume): Promise<Record<string, unknown>> {
  const volumes = new VolumeClient(session);
  const source = await volumes.findVolume(o.volume);
  const access = o.visibility !== undefined || o.protected === true;
  const body = (await volumes.volumeAction(
    source.id,
    'os-volume_upload_image',
    {
      force: Boolean(o.force),
      image_name: name,
      container_format: o.containerFormat,
      disk_format: o.diskFormat,
      ...(access ? { visibility: o.visibility ?? 'private', protected: Boolean(o.protected) } : {}),
    },
    access ? '3.1' : undefined,
  )) as { 'os-volume_upload_image'?: Record<string, unknown> };
  const info = body['os-volume_upload_image'];
  if (!info) throw new ClientError('The volume service answered the upload without its os-volume_upload_image record.');
  const type = info.volume_type as { name?: string } | null | undefined;
  return Object.fromEntries(Object.entries({ ...info, volume_type: type?.name ?? null }).sort(([a], [b]) => (a < b ? -1 : 1)));
}
