import { createHash } from 'node:crypto';
import type { AuthContext } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import type { Db } from '../../lib/store/db.ts';
import { serverAddresses, type ServerAddress } from '../../network/for-compute.ts';
import { attachmentsOfServers, type Attachment } from '../../volume/attachments.ts';
import { shownVmState, snapshotting, taskStateOf, type Server } from '../servers.ts';
import type { Microversion } from './microversion.ts';
import { groupsOfServers } from '../server-groups.ts';
import { DEFAULT_ZONE, hostStatuses, hostZones } from '../services.ts';
import { naive } from './naive-time.ts';

const STATUS: Record<Server['vmState'], string> = {
  building: 'BUILD',
  active: 'ACTIVE',
  stopped: 'SHUTOFF',
  paused: 'PAUSED',
  suspended: 'SUSPENDED',
  shelved: 'SHELVED',
  shelved_offloaded: 'SHELVED_OFFLOADED',
  rescued: 'RESCUE',
  resized: 'VERIFY_RESIZE',
  error: 'ERROR',
};

/** Nova's status: the vm_state's, except while a reboot, a rebuild, a resize or a migration is under way. */
export function statusOf(s: Server, task: string | null): string {
  if (s.softDeletedAt) return 'SOFT_DELETED';
  if (task === 'rebooting') return 'REBOOT';
  if (task === 'rebooting_hard') return 'HARD_REBOOT';
  if (task === 'rebuilding') return 'REBUILD';
  if (task === 'migrating') return 'MIGRATING';
  if (task === 'resize_migrating') return 'RESIZE';
  if (task === 'resize_reverting') return 'REVERT_RESIZE';
  return STATUS[shownVmState(s) as Server['vmState']];
}

/** Nova's timestamps: seconds precision with a Z, and launched_at in its own older style. */
const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

const links = (base: string, kind: string, id: string, self = true) => [
  ...(self ? [{ rel: 'self', href: `${base}/compute/v2.1/${kind}/${id}` }] : []),
  { rel: 'bookmark', href: `${base}/compute/${kind}/${id}` },
];

export const serverLinks = (base: string, id: string) => links(base, 'servers', id);

/** The short form that GET /servers lists. */
export const serverSummary = (base: string, s: Server) => ({ id: s.id, name: s.name, links: serverLinks(base, s.id) });

/** What a server's view needs beyond its row: its addresses, a snapshot under way, its volumes. */
export interface ServerFacts {
  addresses: ServerAddress[];
  snapshotting: boolean;
  volumes: Attachment[];
  /** The server group it is in (none or one). */
  groups: string[];
  /** The availability zone of its host, when an aggregate gives the host one. */
  zone?: string;
  /** Nova's host_status: whether its host's compute service is up, down or disabled; '' unplaced. */
  hostStatus: string;
}

/** The facts of many servers in a few queries. */
export async function factsOf(db: Db, rows: Server[]): Promise<Map<string, ServerFacts>> {
  const ids = rows.map((s) => s.id);
  const [addresses, busy, volumes, groups, zones, statuses] = await Promise.all([
    serverAddresses(db, rows),
    snapshotting(db, ids),
    attachmentsOfServers(db, ids),
    groupsOfServers(db, ids),
    hostZones(db),
    hostStatuses(db),
  ]);
  return new Map(
    rows.map(({ id, host }) => [
      id,
      {
        addresses: addresses.get(id) ?? [],
        snapshotting: busy.has(id),
        volumes: volumes.get(id) ?? [],
        groups: groups.has(id) ? [groups.get(id)!] : [],
        zone: host ? zones.get(host) : undefined,
        hostStatus: host ? (statuses.get(host) ?? 'UNKNOWN') : '',
      },
    ]),
  );
}

export const factOf = async (db: Db, s: Server) => (await factsOf(db, [s])).get(s.id)!;

/** Nova's `addresses`: by network name, fixed then floating; with the type and MAC unless plain. */
function addressesView(list: ServerAddress[], plain: boolean) {
  const out: Record<string, Record<string, string | number>[]> = {};
  for (const a of list) {
    (out[a.network] ??= []).push(
      plain ? { addr: a.addr, version: a.version } : { addr: a.addr, version: a.version, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac },
    );
  }
  return out;
}

/** The flavor inside a server: a link before 2.47, the copy it was built with from then on. */
function flavorView(base: string, auth: AuthContext, s: Server, v: Microversion) {
  if (v.below('2.47')) return { id: s.flavor.id, links: links(base, 'flavors', s.flavor.id, false) };
  const f = s.flavor;
  return {
    vcpus: f.vcpus,
    ram: f.ram,
    disk: f.disk,
    ephemeral: f.ephemeral,
    swap: f.swap,
    original_name: f.name,
    ...(allows('compute:flavor-extra-specs:index', auth, { project_id: s.projectId }) ? { extra_specs: f.extraSpecs ?? {} } : {}),
  };
}

/**
 * Which view: `detail` is an item of GET /servers/detail; `show` is GET /servers/{id} (and, from
 * 2.75, the answer to PUT); `update` is PUT's narrower answer before 2.75.
 */
export type ServerForm = 'show' | 'detail' | 'update';

/** A server as Nova shows it at the request's microversion; host details for the admin only. */
export function serverView(base: string, auth: AuthContext, s: Server, facts: ServerFacts, v: Microversion, form: ServerForm = 'show') {
  const task = taskStateOf(s, facts.snapshotting);
  const admin = allows('compute:context_is_admin', auth);
  const narrow = form === 'update' && v.below('2.75');
  const status = statusOf(s, task);
  const base21 = {
    id: s.id,
    name: s.name,
    status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: s.metadata,
    // An opaque id of the host, per project, so that users can tell whether two servers share one.
    hostId: s.host
      ? createHash('sha224')
          .update(s.projectId + s.host)
          .digest('hex')
      : '',
    // A server booted from a volume has no image: Nova shows an empty string.
    image: s.imageId ? { id: s.imageId, links: links(base, 'images', s.imageId, false) } : '',
    flavor: flavorView(base, auth, s, v),
    created: iso(s.createdAt),
    updated: iso(s.updatedAt),
    addresses: addressesView(facts.addresses, narrow),
    accessIPv4: s.accessIpv4,
    accessIPv6: s.accessIpv6,
    links: serverLinks(base, s.id),
    'OS-DCF:diskConfig': 'MANUAL',
    progress: s.vmState === 'building' ? 0 : s.vmState === 'active' ? 100 : undefined,
    ...(s.fault && s.vmState === 'error'
      ? { fault: { code: s.fault.code, created: s.fault.created, message: s.fault.message, ...(admin && s.fault.details ? { details: s.fault.details } : {}) } }
      : {}),
  };
  const versioned = {
    ...(v.atLeast('2.9') ? { locked: s.lockedBy !== null } : {}),
    ...(v.atLeast('2.19') ? { description: s.description } : {}),
    ...(v.atLeast('2.26') ? { tags: s.tags } : {}),
    ...(v.atLeast('2.63') ? { trusted_image_certificates: s.trustedCerts } : {}),
    ...(v.atLeast('2.71') && form !== 'detail' ? { server_groups: facts.groups } : {}),
    ...(v.atLeast('2.73') ? { locked_reason: s.lockedReason } : {}),
  };
  if (narrow) return { ...base21, ...versioned };
  return {
    ...base21,
    // The zone asked for, else that of the host it was placed on, as Nova records it at scheduling.
    'OS-EXT-AZ:availability_zone': s.availabilityZone ?? facts.zone ?? DEFAULT_ZONE,
    config_drive: s.configDrive ? 'True' : '',
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': naive(s.launchedAt),
    'OS-SRV-USG:terminated_at': null,
    ...(admin ? extendedAttributes(s, v) : v.atLeast('2.90') ? { 'OS-EXT-SRV-ATTR:hostname': s.hostname } : {}),
    'OS-EXT-STS:task_state': task,
    'OS-EXT-STS:vm_state': s.softDeletedAt ? 'soft-delete' : shownVmState(s),
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': facts.volumes.map((a) =>
      v.atLeast('2.3') ? { id: a.volumeId, delete_on_termination: a.deleteOnTermination } : { id: a.volumeId },
    ),
    security_groups: s.securityGroups.map((name) => ({ name })),
    ...(v.atLeast('2.16') && allows('compute:servers:show:host_status', auth) ? { host_status: facts.hostStatus } : {}),
    ...versioned,
  };
}

/** A server's full body (GET /servers/{id}), as clients read it. */
export type ServerBody = Extract<ReturnType<typeof serverView>, { 'OS-EXT-STS:vm_state': string }>;

/** The OS-EXT-SRV-ATTR fields an admin sees: where the guest runs, and from 2.3 how it was made. */
function extendedAttributes(s: Server, v: Microversion) {
  return {
    'OS-EXT-SRV-ATTR:host': s.host,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
    'OS-EXT-SRV-ATTR:instance_name': `instance-${s.id.slice(0, 8)}`,
    ...(v.atLeast('2.3')
      ? {
          // Nubo keeps no reservation of a multi-server request, nor a kernel or ramdisk apart from the image.
          'OS-EXT-SRV-ATTR:reservation_id': null,
          'OS-EXT-SRV-ATTR:launch_index': 0,
          'OS-EXT-SRV-ATTR:hostname': s.hostname,
          'OS-EXT-SRV-ATTR:kernel_id': '',
          'OS-EXT-SRV-ATTR:ramdisk_id': '',
          'OS-EXT-SRV-ATTR:root_device_name': s.host ? '/dev/vda' : null,
          'OS-EXT-SRV-ATTR:user_data': s.userData,
        }
      : {}),
  };
}
