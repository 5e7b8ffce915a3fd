import { randomUUID } from 'node:crypto';
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { allows } from '../lib/http/policy.ts';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { bootImage } from '../image/for-compute.ts';
import { allocateServerPorts, releaseServerPorts, serverSecurityGroups } from '../network/for-compute.ts';
import { releaseServer } from '../volume/attachments.ts';
import type { VolumeService } from '../volume/service.ts';
import { checkBootImage } from './boot-formats.ts';
import { bootMapping, mapVolumes, type VolumeMapping, withImageMappings } from './boot-volumes.ts';
import { extraSpecsOf, getFlavor } from './flavors.ts';
import { getKeypair } from './keypairs.ts';
import type { Quotas } from './quotas.ts';
import { checkZone } from './services.ts';
import { joinGroup } from './server-groups.ts';
import { recordTermination } from './usage.ts';
import { servers, snapshots, type Fault, type RequestedNic } from './tables.ts';
import { settleDeleted } from './instance-actions.ts';

export type Server = typeof servers.$inferSelect;

/** Every change to a server's spec is announced here, with its id: the scheduler and the host
 * agents wake on it. */
export const SERVERS_CHANNEL = 'compute_servers';

export interface ServerRequest {
  name: string;
  /** Empty when the server boots from a volume. */
  imageRef: string;
  /** Volumes to boot from or attach at once (block_device_mapping_v2). */
  volumes?: VolumeMapping[];
  flavorRef: string;
  networks?: 'auto' | 'none' | RequestedNic[];
  securityGroups: string[];
  keyName?: string;
  userData?: string;
  metadata: Record<string, string>;
  configDrive: boolean;
  availabilityZone?: string;
  count: number;
  description?: string | null;
  tags?: string[];
  /** The guest's host name, instead of one made from the display name. */
  hostname?: string;
  trustedCerts?: string[] | null;
  accessIpv4?: string;
  accessIpv6?: string;
  /** The server group its scheduler hint named: the servers join it, and are placed by its policy. */
  group?: string;
}

const isAdmin = (auth: AuthContext) => allows('compute:context_is_admin', auth);

/** The servers of the caller's project, or every one for the admin when asked for. */
export const scopeOf = (auth: AuthContext, allProjects = false): SQL | undefined =>
  allProjects && isAdmin(auth) ? undefined : eq(servers.projectId, auth.project?.id ?? '');

/** A server the caller may see: its project's, or any for the admin. */
export async function getServer(db: Db, auth: AuthContext, id: string, lock = false): Promise<Server> {
  const q = db
    .select()
    .from(servers)
    .where(and(eq(servers.id, id), scopeOf(auth, true)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound(`Instance ${id} could not be found.`);
  return row;
}

/** The last path segment of a flavorRef or imageRef, which clients may give as a URL. */
export const refId = (ref: string) => ref.replace(/\/+$/, '').split('/').at(-1) ?? '';

/** RFC 952 host name from the display name, as Nova makes it. */
export function hostnameOf(name: string): string {
  const h = name
    .toLowerCase()
    .replace(/[ _.]/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return h || 'server';
}

/**
 * POST /servers: checks the request against the image, flavor, key pair and quotas, and records
 * `count` servers to build in one transaction. Building them is the scheduler's and agents' job.
 */
export async function createServers(tx: Db, auth: AuthContext, req: ServerRequest, quotas: Quotas, volumeSvc?: VolumeService): Promise<Server[]> {
  const projectId = auth.project!.id;
  await checkZone(tx, req.availabilityZone);
  const flavor = await getFlavor(tx, auth, refId(req.flavorRef)).catch(() => {
    throw badRequest(`Flavor ${req.flavorRef} could not be found.`);
  });
  // An image made from a volume-backed server brings the mappings of its volumes' snapshots.
  const maps = await withImageMappings(tx, auth, req.imageRef, req.volumes ?? []);
  if (maps.length && !volumeSvc) throw badRequest('Block Device Mapping is Invalid: this cloud has no block storage.');
  if (req.count > 1 && maps.some((m) => m.source === 'volume')) throw badRequest('Unable to launch multiple instances with a single configured volume.');
  if (req.hostname !== undefined && req.count > 1) throw badRequest('Unable to allocate a single hostname to multiple instances');
  if (req.trustedCerts?.length && bootMapping(maps)) throw badRequest('Image certificate validation is not supported when booting from volume');
  // A server that boots from a volume has no image of its own: its volume has the bytes.
  const image = bootMapping(maps) ? undefined : await imageToBoot(tx, auth, req.imageRef, flavor);
  if (req.count > 1 && Array.isArray(req.networks) && req.networks.some((n) => n.portId || n.fixedIp)) {
    throw badRequest(
      'Unable to launch multiple instances with a single configured port ID or fixed IP. Please launch your instance one by one with different ports or fixed IPs.',
    );
  }
  const key = req.keyName === undefined ? undefined : await getKeypair(tx, auth.userId, req.keyName).catch(() => undefined);
  if (req.keyName !== undefined && !key) throw badRequest('Invalid key_name provided.');
  await quotas.checkMetadata(tx, projectId, Object.keys(req.metadata).length);
  await quotas.reserveServers(tx, projectId, req.count, flavor);

  const groups = await serverSecurityGroups(tx, projectId, req.securityGroups);
  const copy = { id: flavor.id, name: flavor.name, ram: flavor.ram, vcpus: flavor.vcpus, disk: flavor.disk, ephemeral: flavor.ephemeral, swap: flavor.swap };
  const extraSpecs = await extraSpecsOf(tx, flavor.id);
  const rows = Array.from({ length: req.count }, (_, i) => {
    // Nova names the servers of one request name-1, name-2, … when it makes more than one.
    const name = req.count > 1 ? `${req.name}-${i + 1}` : req.name;
    return {
      id: randomUUID(),
      projectId,
      userId: auth.userId,
      name,
      hostname: req.hostname ?? hostnameOf(name),
      description: req.description ?? null,
      tags: req.tags ?? [],
      trustedCerts: req.trustedCerts ?? null,
      imageId: image?.id ?? '',
      flavor: { ...copy, extraSpecs },
      keyName: key?.name ?? null,
      keyData: key?.publicKey ?? null,
      userData: req.userData ?? null,
      metadata: req.metadata,
      configDrive: req.configDrive,
      availabilityZone: req.availabilityZone ?? null,
      networks: req.networks ?? 'auto',
      securityGroups: groups.names,
      accessIpv4: req.accessIpv4 ?? '',
      accessIpv6: req.accessIpv6 ?? '',
    };
  });
  const created = await tx.insert(servers).values(rows).returning();
  for (const s of created) {
    await allocateServerPorts(tx, { projectId, serverId: s.id, nics: s.networks, securityGroupIds: groups.ids });
    if (maps.length) await mapVolumes(tx, volumeSvc!, auth, s, maps);
  }
  if (req.group)
    await joinGroup(
      tx,
      auth,
      req.group,
      created.map((s) => s.id),
    );
  for (const s of created) await notify(tx, SERVERS_CHANNEL, s.id);
  return created;
}

/** The image a server boots from, checked against the flavor. */
export async function imageToBoot(tx: Db, auth: AuthContext, imageRef: string, flavor: { ram: number; disk: number }) {
  if (!imageRef) throw badRequest('An image (imageRef) or a volume to boot from (block_device_mapping_v2 with boot_index 0) is required.');
  const image = await bootImage(tx, auth, refId(imageRef)).catch(() => {
    throw badRequest(`Image ${imageRef} could not be found.`);
  });
  if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
  checkBootImage(image, flavor);
  if (flavor.ram < image.minRam) throw badRequest(`Flavor's memory is too small for requested image.`);
  if (flavor.disk > 0 && flavor.disk < image.minDisk) throw badRequest(`Flavor's disk is too small for requested image.`);
  const gib = 1024 ** 3;
  if (flavor.disk > 0 && (image.virtualSize ?? image.size ?? 0) > flavor.disk * gib) {
    throw badRequest(
      `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * gib} bytes, image is ${image.virtualSize ?? image.size} bytes.`,
    );
  }
  return image;
}

/** Removes a deleted server's row for good, giving back its ports: those made for it are deleted,
 * those the user gave are unbound. */
export async function dropServer(tx: Db, s: Server): Promise<void> {
  const given = Array.isArray(s.networks) ? s.networks.flatMap((n) => (n.portId ? [n.portId] : [])) : [];
  await releaseServerPorts(tx, s, given);
  await releaseServer(tx, s.id);
  await settleDeleted(tx, s);
  await recordTermination(tx, s);
  await tx.delete(servers).where(eq(servers.id, s.id));
}

/** Nova's actions, and the vm_states each may start from. */
const ALLOWED: Record<string, Server['vmState'][]> = {
  stop: ['active', 'error'],
  start: ['stopped'],
  reboot: ['active', 'stopped', 'paused', 'suspended', 'error'],
  pause: ['active'],
  unpause: ['paused'],
  suspend: ['active'],
  resume: ['suspended'],
  createImage: ['active', 'stopped', 'paused', 'suspended'],
  shelve: ['active', 'stopped', 'paused', 'suspended'],
  shelveOffload: ['shelved'],
  unshelve: ['shelved', 'shelved_offloaded'],
  rescue: ['active', 'stopped', 'error'],
  rebuild: ['active', 'stopped', 'error'],
  unrescue: ['rescued'],
  resize: ['active', 'stopped'],
  migrate: ['active', 'stopped'],
  evacuate: ['active', 'stopped', 'error'],
  'os-migrateLive': ['active', 'paused'],
  confirmResize: ['resized'],
  revertResize: ['resized'],
};

/** The task under way, as Nova names it; none when the agent has caught up with the spec. */
export function taskStateOf(s: Server, snapshotting = false): string | null {
  if (s.deleting) return 'deleting';
  // An unshelve of an offloaded server is a build again, from its shelved image.
  if (s.vmState === 'building') return s.host ? 'spawning' : s.shelvedAt ? 'unshelving' : 'scheduling';
  // A server in error is rebuilt as Nova rebuilds it: shown REBUILD until its new disk runs.
  if (s.vmState === 'error') return s.rebuilds > s.observedRebuilds ? 'rebuilding' : null;
  if (s.reboots > s.observedReboots) return s.rebootHard ? 'rebooting_hard' : 'rebooting';
  if (s.rebuilds > s.observedRebuilds) return 'rebuilding';
  if (s.generation > s.observedGeneration) {
    if (s.softDeletedAt) return 'soft-deleting';
    if (s.resizeStep === 'live-migrate') return 'migrating';
    // A confirm shows none: the server stays VERIFY_RESIZE until its host has dropped the old disk.
    if (s.resizeStep === 'resize') return 'resize_migrating';
    if (s.resizeStep === 'revert') return 'resize_reverting';
    if (s.resizeStep === 'confirm') return null;
    if (s.power === 'shelved') return snapshotting ? 'shelving_image_uploading' : 'shelving';
    if (s.power === 'offloaded') return 'shelving_offloading';
    if (s.vmState === 'shelved') return 'unshelving';
    if (s.power === 'rescued') return 'rescuing';
    if (s.vmState === 'rescued') return 'unrescuing';
    if (s.power === 'shutdown') return 'powering-off';
    if (s.power === 'paused') return 'pausing';
    if (s.power === 'suspended') return 'suspending';
    if (s.vmState === 'suspended') return 'resuming';
    return s.vmState === 'paused' ? 'unpausing' : 'powering-on';
  }
  return snapshotting ? 'image_snapshot' : null;
}

/** The servers among ids with a snapshot under way (their task_state is image_snapshot). */
export async function snapshotting(db: Db, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db.select({ id: snapshots.serverId }).from(snapshots).where(inArray(snapshots.serverId, ids));
  return new Set(rows.map((r) => r.id));
}

/** The vm_state shown: an offloaded server being unshelved is built again, and still shown
 * offloaded until it runs, as Nova shows it. */
export const shownVmState = (s: Server): string => (s.vmState === 'building' && s.shelvedAt ? 'shelved_offloaded' : s.vmState);

/** A fault as Nova shows it, created now. */
export const faultOf = (message: string, details?: string): Fault => ({
  code: 500,
  message,
  details,
  created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
});

/** A locked server refuses its project's members, not the admin, as Nova does. */
export function checkLock(auth: AuthContext, s: Server): void {
  if (s.lockedBy && !isAdmin(auth)) throw conflict(`Instance ${s.id} is locked`);
}

/** Refuses an action the server's state does not allow, with Nova's 409. */
export async function checkState(db: Db, s: Server, action: keyof typeof ALLOWED, hard = false): Promise<void> {
  if (s.softDeletedAt) throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state soft-delete`);
  const task = taskStateOf(s, (await snapshotting(db, [s.id])).has(s.id));
  if (task) throw conflict(`Cannot '${action}' instance ${s.id} while it is in task_state ${task}`);
  const soft = action === 'reboot' && !hard;
  if (!ALLOWED[action]!.includes(s.vmState) || (soft && s.vmState !== 'active')) {
    throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  }
}

export async function setSpec(
  tx: Db,
  s: Server,
  spec: Partial<Pick<Server, 'power' | 'reboots' | 'rebootHard' | 'deleting' | 'softDeletedAt'>>,
): Promise<void> {
  await tx
    .update(servers)
    .set({ ...spec, generation: s.generation + 1, updatedAt: new Date() })
    .where(eq(servers.id, s.id));
  await notify(tx, SERVERS_CHANNEL, s.id);
}

export type PowerAction = 'stop' | 'start' | 'pause' | 'unpause' | 'suspend' | 'resume';
const POWER: Record<PowerAction, Server['power']> = {
  stop: 'shutdown',
  start: 'running',
  pause: 'paused',
  unpause: 'running',
  // The guest's memory is saved on its host and its process ends; resume restores it.
  suspend: 'suspended',
  resume: 'running',
};

export async function powerAction(tx: Db, auth: AuthContext, id: string, action: PowerAction): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, action);
  await setSpec(tx, s, { power: POWER[action] });
}

export async function rebootServer(tx: Db, auth: AuthContext, id: string, hard: boolean): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'reboot', hard);
  // A hard reboot of a stopped server starts it, as in Nova.
  await setSpec(tx, s, { reboots: s.reboots + 1, rebootHard: hard, power: 'running' });
}

/** Deleting is allowed in every state; the agent tears the guest down and removes the record. */
export async function deleteServer(tx: Db, auth: AuthContext, id: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  if (!s.deleting) await setSpec(tx, s, { deleting: true });
}

/** Records a snapshot to take; the agent writes the image's bytes. */
export async function requestSnapshot(tx: Db, auth: AuthContext, id: string, imageId: (s: Server) => Promise<string>): Promise<string> {
  const s = await getServer(tx, auth, id, true);
  await checkState(tx, s, 'createImage');
  // Its disk is a volume: Nova snapshots the volume instead, which this cloud does not do yet.
  if (!s.imageId)
    throw badRequest(`Instance ${s.id} boots from a volume: snapshot the volume instead (openstack volume snapshot create --force --volume <volume> <name>).`);
  const image = await imageId(s);
  await tx.insert(snapshots).values({ imageId: image, serverId: s.id });
  await notify(tx, SERVERS_CHANNEL, s.id);
  return image;
}

export async function setMetadata(tx: Db, auth: AuthContext, id: string, quotas: Quotas, change: (m: Record<string, string>) => Record<string, string>) {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  const metadata = change({ ...s.metadata });
  await quotas.checkMetadata(tx, s.projectId, Object.keys(metadata).length);
  await tx.update(servers).set({ metadata, updatedAt: new Date() }).where(eq(servers.id, s.id));
  return metadata;
}

/** What PUT /servers/{id} may change. */
export type ServerUpdate = Partial<Pick<Server, 'name' | 'description' | 'hostname' | 'accessIpv4' | 'accessIpv6'>>;

export async function updateServer(tx: Db, auth: AuthContext, id: string, change: ServerUpdate): Promise<Server> {
  const s = await getServer(tx, auth, id, true);
  if (!Object.keys(change).length) return s;
  const [row] = await tx
    .update(servers)
    .set({ ...change, updatedAt: new Date() })
    .where(eq(servers.id, s.id))
    .returning();
  return row!;
}

/** Nova's lock: by the project's members or by the admin, whose lock only the admin lifts. */
export async function lockServer(tx: Db, auth: AuthContext, id: string, reason: string | null): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  await tx
    .update(servers)
    .set({ lockedBy: s.projectId === auth.project?.id ? 'owner' : 'admin', lockedReason: reason, updatedAt: new Date() })
    .where(eq(servers.id, s.id));
}

export async function unlockServer(tx: Db, auth: AuthContext, id: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  if (s.lockedBy === 'admin' && !isAdmin(auth)) throw forbidden(`Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.`);
  await tx.update(servers).set({ lockedBy: null, lockedReason: null, updatedAt: new Date() }).where(eq(servers.id, s.id));
}

/** A server's tags, changed in place (Nova caps them at 50); `action` names the change in a 409. */
export async function setTags(tx: Db, auth: AuthContext, id: string, action: string, change: (tags: string[]) => string[]): Promise<string[]> {
  const s = await getServer(tx, auth, id, true);
  if (s.vmState === 'building' || s.vmState === 'error') throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  const tags = [...new Set(change([...s.tags]))];
  if (tags.length > MAX_TAGS) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
  await tx.update(servers).set({ tags, updatedAt: new Date() }).where(eq(servers.id, s.id));
  return tags;
}

export const MAX_TAGS = 50;
