import { bool, nullable, obj, str, uri } from '../helpers/schema.ts';

// The compute API's response bodies per microversion, as Nova's api-ref documents them. Every
// object is closed (no other property), so a field shown at the wrong version fails too.

/** True when microversion a is b or newer. */
export function atLeast(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am! > bm! || (am === bm && an! >= bn!);
}

const int = { type: 'integer' };
const num = { type: 'number' };
const arr = (items: object, extra: object = {}) => ({ type: 'array', items, ...extra });
const record = (values: object) => ({ type: 'object', additionalProperties: values });
const link = obj({ rel: str, href: uri });
const links = arr(link);
const fromVersion = (v: string, since: string, props: Record<string, unknown>) => (atLeast(v, since) ? props : {});
const before = (v: string, until: string, props: Record<string, unknown>) => (atLeast(v, until) ? {} : props);

const address = (plain: boolean) => obj({ addr: str, version: int, ...(plain ? {} : { 'OS-EXT-IPS:type': str, 'OS-EXT-IPS-MAC:mac_addr': str }) });

/** The flavor inside a server: a link before 2.47, then a copy (extra_specs as policy allows). */
const embeddedFlavor = (v: string) =>
  atLeast(v, '2.47')
    ? obj({ vcpus: int, ram: int, disk: int, ephemeral: int, swap: int, original_name: str, extra_specs: record(str) }, [
        'vcpus',
        'ram',
        'disk',
        'ephemeral',
        'swap',
        'original_name',
      ])
    : obj({ id: str, links });

/** The fields of GET /servers/{id} at 2.1 that PUT answers with too before 2.75. */
function coreServer(v: string, plainAddresses: boolean) {
  return {
    id: str,
    name: str,
    status: str,
    tenant_id: str,
    user_id: str,
    metadata: record(str),
    hostId: str,
    image: { anyOf: [obj({ id: str, links }), { const: '' }] },
    flavor: embeddedFlavor(v),
    created: { type: 'string', format: 'date-time' },
    updated: { type: 'string', format: 'date-time' },
    addresses: record(arr(address(plainAddresses))),
    accessIPv4: str,
    accessIPv6: str,
    links,
    'OS-DCF:diskConfig': { enum: ['AUTO', 'MANUAL'] },
    progress: int,
    fault: obj({ code: int, created: str, message: str, details: str }, ['code', 'created', 'message']),
    ...fromVersion(v, '2.9', { locked: bool }),
    ...fromVersion(v, '2.19', { description: nullable(str) }),
    ...fromVersion(v, '2.26', { tags: arr(str) }),
    ...fromVersion(v, '2.63', { trusted_image_certificates: nullable(arr(str)) }),
    ...fromVersion(v, '2.73', { locked_reason: nullable(str) }),
  };
}
const OPTIONAL = new Set(['progress', 'fault', 'OS-EXT-SRV-ATTR:user_data']);
const closed = (props: Record<string, unknown>) =>
  obj(
    props,
    Object.keys(props).filter((k) => !OPTIONAL.has(k)),
  );

export type ServerForm = 'show' | 'detail' | 'update';

/** A server as GET /servers/{id} (show), an item of /servers/detail (detail) or PUT's answer (update). */
export function serverSchema(v: string, form: ServerForm, admin: boolean) {
  const groups = atLeast(v, '2.71') && form !== 'detail' ? { server_groups: arr({ type: 'string', format: 'uuid' }) } : {};
  if (form === 'update' && !atLeast(v, '2.75')) return closed({ ...coreServer(v, true), ...groups });
  return closed({
    ...coreServer(v, false),
    ...groups,
    'OS-EXT-AZ:availability_zone': str,
    config_drive: str,
    key_name: nullable(str),
    'OS-SRV-USG:launched_at': nullable(str),
    'OS-SRV-USG:terminated_at': nullable(str),
    'OS-EXT-STS:task_state': nullable(str),
    'OS-EXT-STS:vm_state': str,
    'OS-EXT-STS:power_state': int,
    'os-extended-volumes:volumes_attached': arr(obj({ id: str, ...fromVersion(v, '2.3', { delete_on_termination: bool }) })),
    security_groups: arr(obj({ name: str })),
    ...(admin
      ? {
          'OS-EXT-SRV-ATTR:host': nullable(str),
          'OS-EXT-SRV-ATTR:hypervisor_hostname': nullable(str),
          'OS-EXT-SRV-ATTR:instance_name': str,
          ...fromVersion(v, '2.3', {
            'OS-EXT-SRV-ATTR:reservation_id': nullable(str),
            'OS-EXT-SRV-ATTR:launch_index': int,
            'OS-EXT-SRV-ATTR:hostname': str,
            'OS-EXT-SRV-ATTR:kernel_id': nullable(str),
            'OS-EXT-SRV-ATTR:ramdisk_id': nullable(str),
            'OS-EXT-SRV-ATTR:root_device_name': nullable(str),
            'OS-EXT-SRV-ATTR:user_data': nullable(str),
          }),
          ...fromVersion(v, '2.16', { host_status: str }),
        }
      : fromVersion(v, '2.90', { 'OS-EXT-SRV-ATTR:hostname': str })),
  });
}

export const serverList = obj({ servers: arr(obj({ id: str, name: str, links })), servers_links: links }, ['servers']);
export const serverDetailList = (v: string, admin: boolean) => obj({ servers: arr(serverSchema(v, 'detail', admin)), servers_links: links }, ['servers']);
export const serverCreated = obj({
  server: obj({ id: str, links, 'OS-DCF:diskConfig': str, security_groups: arr(obj({ name: str })), adminPass: str }, ['id', 'links', 'OS-DCF:diskConfig']),
});
export const tagList = obj({ tags: arr(str) });

/** An instance action: naive times with microseconds; updated_at from 2.58. */
const instanceAction = (v: string) => ({
  action: str,
  instance_uuid: str,
  message: nullable(str),
  project_id: str,
  request_id: str,
  start_time: str,
  user_id: str,
  ...fromVersion(v, '2.58', { updated_at: nullable(str) }),
});
export const instanceActionList = (v: string) =>
  obj({ instanceActions: arr(obj(instanceAction(v))), ...fromVersion(v, '2.58', { links }) }, ['instanceActions']);
/** Events for the admin (traceback always, host from 2.62), for the project from 2.51 without
 * traceback; hostId from 2.62, details from 2.84. */
export const instanceActionShown = (v: string, admin: boolean) => {
  const event = obj({
    event: str,
    start_time: str,
    finish_time: nullable(str),
    result: nullable(str),
    ...(admin ? { traceback: nullable(str) } : {}),
    ...(admin ? fromVersion(v, '2.62', { host: str }) : {}),
    ...fromVersion(v, '2.62', { hostId: str }),
    ...fromVersion(v, '2.84', { details: nullable(str) }),
  });
  const events = admin || atLeast(v, '2.51') ? { events: arr(event) } : {};
  return obj({ instanceAction: obj({ ...instanceAction(v), ...events }) });
};

/** A flavor's full view (show, detail, create, update). */
export const flavorSchema = (v: string, extraSpecs: boolean) =>
  obj({
    id: str,
    name: str,
    ram: int,
    disk: int,
    vcpus: int,
    swap: atLeast(v, '2.75') ? int : { anyOf: [int, { const: '' }] },
    'OS-FLV-EXT-DATA:ephemeral': int,
    'OS-FLV-DISABLED:disabled': bool,
    'os-flavor-access:is_public': bool,
    rxtx_factor: num,
    links,
    ...fromVersion(v, '2.55', { description: nullable(str) }),
    ...(extraSpecs ? fromVersion(v, '2.61', { extra_specs: record(str) }) : {}),
  });
export const flavorList = (v: string) =>
  obj({ flavors: arr(obj({ id: str, name: str, links, ...fromVersion(v, '2.55', { description: nullable(str) }) })), flavors_links: links }, ['flavors']);
export const flavorDetailList = (v: string, extraSpecs: boolean) => obj({ flavors: arr(flavorSchema(v, extraSpecs)), flavors_links: links }, ['flavors']);

const keypairCore = (v: string) => ({ name: str, public_key: str, fingerprint: str, ...fromVersion(v, '2.2', { type: { enum: ['ssh', 'x509'] } }) });
export const keypairList = (v: string) => obj({ keypairs: arr(obj({ keypair: obj(keypairCore(v)) })), keypairs_links: links }, ['keypairs']);
export const keypairShown = (v: string) =>
  obj({
    keypair: obj({ ...keypairCore(v), id: int, user_id: str, created_at: str, deleted: bool, deleted_at: nullable(str), updated_at: nullable(str) }),
  });
export const keypairCreated = (v: string, generated: boolean) =>
  obj({ keypair: obj({ ...keypairCore(v), user_id: str, ...(generated ? { private_key: str } : {}) }) });

/** Limits: the network resources leave at 2.36, maxImageMeta at 2.39, file injection at 2.57. */
export const limitsSchema = (v: string) =>
  obj({
    limits: obj({
      rate: arr({}),
      absolute: obj({
        maxTotalInstances: int,
        maxTotalCores: int,
        maxTotalRAMSize: int,
        maxTotalKeypairs: int,
        maxServerMeta: int,
        maxServerGroups: int,
        maxServerGroupMembers: int,
        totalInstancesUsed: int,
        totalCoresUsed: int,
        totalRAMUsed: int,
        totalServerGroupsUsed: int,
        ...before(v, '2.36', {
          maxTotalFloatingIps: int,
          maxSecurityGroups: int,
          maxSecurityGroupRules: int,
          totalFloatingIpsUsed: int,
          totalSecurityGroupsUsed: int,
        }),
        ...before(v, '2.39', { maxImageMeta: int }),
        ...before(v, '2.57', { maxPersonality: int, maxPersonalitySize: int }),
      }),
    }),
  });

/** A quota set whose values are `value` (a number, or the detail's {limit, in_use, reserved}). */
export const quotaSetSchema = (v: string, value: object, withId = true) =>
  obj({
    quota_set: obj({
      ...(withId ? { id: str } : {}),
      instances: value,
      cores: value,
      ram: value,
      key_pairs: value,
      metadata_items: value,
      server_groups: value,
      server_group_members: value,
      ...before(v, '2.36', { fixed_ips: value, floating_ips: value, security_groups: value, security_group_rules: value }),
      ...before(v, '2.57', { injected_files: value, injected_file_content_bytes: value, injected_file_path_bytes: value }),
    }),
  });
export const quotaDetail = obj({ limit: int, in_use: int, reserved: int });

/** A volume attachment: by volume id until 2.89, then by attachment_id and bdm_uuid (not in create's answer). */
export const attachmentSchema = (v: string, created = false) => {
  const uuid = { type: 'string', format: 'uuid' };
  return obj({
    ...(atLeast(v, '2.89') && !created ? { attachment_id: uuid, bdm_uuid: uuid } : { id: uuid }),
    serverId: uuid,
    volumeId: uuid,
    device: nullable(str),
    ...fromVersion(v, '2.70', { tag: nullable(str) }),
    ...fromVersion(v, '2.79', { delete_on_termination: bool }),
  });
};

export const versionDocument = obj({
  version: obj({
    id: { const: 'v2.1' },
    status: { const: 'CURRENT' },
    version: { const: '2.93' },
    min_version: { const: '2.1' },
    updated: str,
    links,
    'media-types': arr(obj({ base: str, type: str })),
  }),
});
