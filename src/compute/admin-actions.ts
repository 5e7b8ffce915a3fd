// Server actions that change no guest lifecycle: an admin's reset of the state, the NMI of a crash
// dump, a backup with rotation, a password that no guest agent can set, the security groups and
// floating IPs that old clients change through compute.

import { eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { allows } from '../lib/http/policy.ts';
import { badRequest, conflict } from '../lib/errors.ts';
import { notify, type Db, type Store } from '../lib/store/db.ts';
import { createSnapshotRecord } from '../image/for-compute.ts';
import { backupsOf, deleteBackup } from '../image/for-compute-backups.ts';
import type { ImageService } from '../image/index.ts';
import { addServerFloatingIp, changeServerSecurityGroup, removeServerFloatingIp } from '../network/for-compute-actions.ts';
import { recordAction, type ActionContext } from './instance-actions.ts';
import { checkLock, getServer, requestSnapshot, SERVERS_CHANNEL, taskStateOf, type Server } from './servers.ts';
import { servers } from './tables.ts';

/** Refuses an action outside the vm_states Nova allows it in, or while a task is under way. */
function allowedIn(s: Server, action: string, states: Server['vmState'][]): void {
  if (s.softDeletedAt) throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state soft-delete`);
  const task = taskStateOf(s);
  if (task) throw conflict(`Cannot '${action}' instance ${s.id} while it is in task_state ${task}`);
  if (!states.includes(s.vmState)) throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
}

/**
 * os-resetState (admin): the server's vm_state becomes active or error and its task is dropped, as
 * if the agent had carried out its spec; the guest is left as it is. From active the agent looks
 * again and takes the guest's real power state.
 */
export async function resetState(tx: Db, ctx: ActionContext, id: string, state: 'active' | 'error'): Promise<void> {
  const s = await getServer(tx, ctx.auth, id, true);
  await tx
    .update(servers)
    .set({ vmState: state, observedGeneration: s.generation, observedReboots: s.reboots, updatedAt: new Date() })
    .where(eq(servers.id, s.id));
  await recordAction(tx, ctx, id, { action: 'resetState' });
  await notify(tx, SERVERS_CHANNEL, s.id);
}

/** Sends the NMI on the host that runs the server. */
export type NmiSender = (server: Server) => Promise<void>;

/** trigger_crash_dump (2.17): an NMI to a running guest, sent now, as Nova casts it to its host. */
export async function triggerCrashDump(store: Store, ctx: ActionContext, id: string, send: NmiSender): Promise<void> {
  const s = await getServer(store.db, ctx.auth, id);
  checkLock(ctx.auth, s);
  allowedIn(s, 'trigger_crash_dump', ['active', 'paused', 'error']);
  if (s.powerState !== 1) throw conflict(`Instance ${s.id} is not running.`);
  const result = await send(s).then(
    () => ({ result: 'Success' as const }),
    (err: Error) => ({ result: 'Error' as const, details: err.message }),
  );
  await store.tx((tx) => recordAction(tx, ctx, id, { action: 'trigger_crash_dump', event: 'compute_trigger_crash_dump', done: { ...result, host: s.host } }));
  if (result.result === 'Error') throw conflict(`Instance ${s.id} is not running.`);
}

/** changePassword: nothing in a Nubo guest can set a password (no guest agent), so Nova's 409. */
export async function changePassword(tx: Db, auth: AuthContext, id: string): Promise<never> {
  const s = await getServer(tx, auth, id);
  checkLock(auth, s);
  allowedIn(s, 'changePassword', ['active']);
  throw conflict(
    `Failed to set admin password on ${s.id} because the QEMU guest agent is not enabled: Nubo's guests run none; use a key pair or cloud-init user data.`,
  );
}

export interface BackupRequest {
  name: string;
  backupType: string;
  rotation: number;
  metadata: Record<string, string>;
}

/**
 * createBackup: a snapshot image marked image_type=backup with its backup_type, and the rotation:
 * the server's older backups of that type beyond `rotation - 1` are deleted now, so that with the
 * new one the newest `rotation` remain (Nova rotates once the snapshot is uploaded; here a failed
 * backup has already rotated). rotation 0 keeps none, the new one included, as in Nova.
 */
export async function createBackup(tx: Db, images: ImageService, ctx: ActionContext, id: string, req: BackupRequest): Promise<string> {
  const s = await getServer(tx, ctx.auth, id, true);
  checkLock(ctx.auth, s);
  if (!s.imageId) throw badRequest('Backup is not supported for volume-backed instances.');
  allowedIn(s, 'createBackup', ['active', 'stopped', 'paused']);
  const older = await backupsOf(tx, s.id, req.backupType);
  for (const image of older.slice(Math.max(req.rotation - 1, 0))) await deleteBackup(tx, images, image.id);
  const imageId = await requestSnapshot(tx, ctx.auth, id, async (server) => {
    const image = await createSnapshotRecord(tx, images, ctx.auth, req.name, {
      ...req.metadata,
      image_type: 'backup',
      backup_type: req.backupType,
      instance_uuid: server.id,
      base_image_ref: server.imageId,
      user_id: ctx.auth.userId,
      owner_user_name: ctx.auth.userName,
    });
    return image.id;
  });
  await recordAction(tx, ctx, id, { action: 'createBackup', event: 'compute_backup_instance', awaits: { snapshotImageId: imageId } });
  return imageId;
}

const callerOf = (auth: AuthContext) => ({ projectId: auth.project?.id ?? '', isAdmin: allows('compute:context_is_admin', auth) });

/** add/removeSecurityGroup: the group goes on (or off) every port of the server, and its name on
 * (or off) the server's record. */
export async function changeSecurityGroup(tx: Db, auth: AuthContext, id: string, group: string, add: boolean): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  const name = await changeServerSecurityGroup(tx, s, group, add);
  const names = add ? [...new Set([...s.securityGroups, name])] : s.securityGroups.filter((n) => n !== name);
  await tx.update(servers).set({ securityGroups: names, updatedAt: new Date() }).where(eq(servers.id, s.id));
}

export async function addFloatingIp(tx: Db, auth: AuthContext, id: string, address: string, fixedAddress?: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await addServerFloatingIp(tx, callerOf(auth), s, address, fixedAddress);
}

export async function removeFloatingIp(tx: Db, auth: AuthContext, id: string, address: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await removeServerFloatingIp(tx, callerOf(auth), s, address);
}
