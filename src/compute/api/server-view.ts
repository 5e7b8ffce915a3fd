import { createHash } from 'node:crypto';
import type { AuthContext } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import type { ServerAddress } from '../../network/for-compute.ts';
import { taskStateOf, type Server } from '../servers.ts';

const STATUS: Record<Server['vmState'], string> = { building: 'BUILD', active: 'ACTIVE', stopped: 'SHUTOFF', paused: 'PAUSED', error: 'ERROR' };

/** Nova's status: the vm_state's, except while a reboot or a delete is under way. */
export function statusOf(s: Server, task: string | null): string {
  if (task === 'rebooting') return 'REBOOT';
  if (task === 'rebooting_hard') return 'HARD_REBOOT';
  return STATUS[s.vmState];
}

/** Nova's timestamps: seconds precision with a Z, and launched_at in its own older style. */
const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const isoNaive = (d: Date) => d.toISOString().replace('Z', '000');

const links = (base: string, kind: string, id: string, self = true) => [
  ...(self ? [{ rel: 'self', href: `${base}/compute/v2.1/${kind}/${id}` }] : []),
  { rel: 'bookmark', href: `${base}/compute/${kind}/${id}` },
];

export const serverLinks = (base: string, id: string) => links(base, 'servers', id);

/** The short form that GET /servers lists. */
export const serverSummary = (base: string, s: Server) => ({ id: s.id, name: s.name, links: serverLinks(base, s.id) });

/** Nova's `addresses`: by network name, fixed then floating, with the port's MAC. */
function addressesView(list: ServerAddress[]) {
  const out: Record<string, { addr: string; version: number; 'OS-EXT-IPS:type': string; 'OS-EXT-IPS-MAC:mac_addr': string }[]> = {};
  for (const a of list) (out[a.network] ??= []).push({ addr: a.addr, version: a.version, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac });
  return out;
}

/** A server as GET /servers/{id} shows it at 2.1; host details for the admin only. */
export function serverView(base: string, auth: AuthContext, s: Server, addresses: ServerAddress[] = [], snapshotting = false, volumes: string[] = []) {
  const task = taskStateOf(s, snapshotting);
  const admin = allows('compute:context_is_admin', auth);
  return {
    id: s.id,
    name: s.name,
    status: statusOf(s, task),
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
    flavor: { id: s.flavor.id, links: links(base, 'flavors', s.flavor.id, false) },
    created: iso(s.createdAt),
    updated: iso(s.updatedAt),
    addresses: addressesView(addresses),
    accessIPv4: s.accessIpv4,
    accessIPv6: s.accessIpv6,
    links: serverLinks(base, s.id),
    'OS-DCF:diskConfig': 'MANUAL',
    progress: s.vmState === 'building' ? 0 : s.vmState === 'active' ? 100 : undefined,
    'OS-EXT-AZ:availability_zone': s.availabilityZone ?? 'nova',
    config_drive: s.configDrive ? 'True' : '',
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': s.launchedAt ? isoNaive(s.launchedAt) : null,
    'OS-SRV-USG:terminated_at': null,
    ...(admin
      ? { 'OS-EXT-SRV-ATTR:host': s.host, 'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host, 'OS-EXT-SRV-ATTR:instance_name': `instance-${s.id.slice(0, 8)}` }
      : {}),
    'OS-EXT-STS:task_state': task,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': volumes.map((id) => ({ id })),
    security_groups: s.securityGroups.map((name) => ({ name })),
    ...(s.fault && s.vmState === 'error'
      ? { fault: { code: s.fault.code, created: s.fault.created, message: s.fault.message, ...(admin && s.fault.details ? { details: s.fault.details } : {}) } }
      : {}),
  };
}
