import { conflict, notFound } from '../lib/errors.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Db } from '../lib/store/db.ts';
import { attachmentOf, attachmentsOfServers, beginDetach, createAttachment, serverAttachments, type Attachment } from '../volume/attachments.ts';
import { getServer, type Server } from './servers.ts';

// Nova's side of volume attachments: which server states allow them, and the server's own checks.
// The attachment rows themselves are the volume service's (one row for Nova's and Cinder's views).

/** The vm_states in which Nova attaches and detaches volumes; a stopped server gets them at its next start. */
const ATTACHABLE: Server['vmState'][] = ['active', 'stopped', 'paused'];

function checkState(s: Server, action: 'attach_volume' | 'detach_volume'): void {
  if (s.deleting) throw conflict(`Cannot '${action}' instance ${s.id} while it is in task_state deleting`);
  if (!ATTACHABLE.includes(s.vmState)) throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
}

export interface AttachRequest {
  volumeId: string;
  device?: string;
  deleteOnTermination?: boolean;
}

/** POST os-volume_attachments: records the attachment as attaching; the server's agent plugs it in. */
export async function attachVolume(tx: Db, auth: AuthContext, serverId: string, req: AttachRequest): Promise<Attachment> {
  const s = await getServer(tx, auth, serverId, true);
  checkState(s, 'attach_volume');
  return createAttachment(tx, {
    volumeId: req.volumeId,
    projectId: s.projectId,
    serverId: s.id,
    host: s.host,
    device: req.device,
    deleteOnTermination: req.deleteOnTermination,
    status: 'attaching',
  });
}

/** DELETE os-volume_attachments/{volume}: the agent unplugs it, then the attachment goes. Returns
 * the attachment's id. */
export async function detachVolume(tx: Db, auth: AuthContext, serverId: string, volumeId: string): Promise<string> {
  const s = await getServer(tx, auth, serverId, true);
  const a = await attachmentOf(tx, s.id, volumeId);
  if (!a) throw notFound(`volume_id not found: ${volumeId}`);
  if (a.bootIndex === 0) throw conflict(`Cannot detach a root device volume`);
  checkState(s, 'detach_volume');
  await beginDetach(tx, a.id);
  return a.id;
}

/** A server's attachments as Nova lists them (those being detached included, as Nova does). */
export async function listAttachments(db: Db, auth: AuthContext, serverId: string): Promise<Attachment[]> {
  const s = await getServer(db, auth, serverId);
  return serverAttachments(db, s.id);
}

export async function showAttachment(db: Db, auth: AuthContext, serverId: string, volumeId: string): Promise<Attachment> {
  const s = await getServer(db, auth, serverId);
  const a = await attachmentOf(db, s.id, volumeId);
  if (!a) throw notFound(`Volume ${volumeId} is not attached to ${serverId}`);
  return a;
}

/** The ids of the volumes attached to each server, for os-extended-volumes:volumes_attached. */
export async function attachedVolumeIds(db: Db, serverIds: string[]): Promise<Map<string, string[]>> {
  const rows = await attachmentsOfServers(db, serverIds);
  return new Map([...rows].map(([id, list]) => [id, list.map((a) => a.volumeId)]));
}
