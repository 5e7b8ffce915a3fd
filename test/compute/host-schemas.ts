import { bool, nullable, obj, str, uri } from '../helpers/schema.ts';
import { atLeast } from './microversion-schemas.ts';

// The bodies of the server group, host and usage APIs per microversion, as Nova's api-ref
// documents them. Every object is closed, so a field shown at the wrong version fails too.

const int = { type: 'integer' };
const num = { type: 'number' };
const uuid = { type: 'string', format: 'uuid' };
const arr = (items: object) => ({ type: 'array', items });
const record = (values: object) => ({ type: 'object', additionalProperties: values });
const links = arr(obj({ rel: str, href: uri }));
const naive = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?$' };
const updown = { enum: ['up', 'down'] };
const status = { enum: ['enabled', 'disabled'] };
const from = (v: string, since: string, props: Record<string, unknown>) => (atLeast(v, since) ? props : {});
const until = (v: string, gone: string, props: Record<string, unknown>) => (atLeast(v, gone) ? {} : props);

export function serverGroup(v: string) {
  return obj({
    id: uuid,
    name: str,
    members: arr(uuid),
    ...(atLeast(v, '2.64')
      ? { policy: { enum: ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] }, rules: obj({ max_server_per_host: int }, []) }
      : { policies: arr(str), metadata: obj({}) }),
    ...from(v, '2.13', { project_id: str, user_id: str }),
  });
}
export const serverGroupBody = (v: string) => obj({ server_group: serverGroup(v) });
export const serverGroupList = (v: string) => obj({ server_groups: arr(serverGroup(v)) });

export function service(v: string) {
  return obj({
    id: atLeast(v, '2.53') ? uuid : int,
    binary: str,
    host: str,
    zone: str,
    status,
    state: updown,
    updated_at: nullable(naive),
    disabled_reason: nullable(str),
    ...from(v, '2.11', { forced_down: bool }),
  });
}
export const serviceList = (v: string) => obj({ services: arr(service(v)) });

const hypervisorServers = arr(obj({ name: str, uuid }));
function hypervisorSummary(v: string) {
  return {
    id: atLeast(v, '2.53') ? uuid : int,
    hypervisor_hostname: str,
    state: updown,
    status,
    ...from(v, '2.53', { servers: hypervisorServers }),
  };
}
export const hypervisorList = (v: string) =>
  obj({ hypervisors: arr(obj(hypervisorSummary(v), ['id', 'hypervisor_hostname', 'state', 'status'])), ...from(v, '2.33', { hypervisors_links: links }) }, [
    'hypervisors',
  ]);

export function hypervisorDetail(v: string) {
  const usage = {
    vcpus: int,
    memory_mb: int,
    local_gb: int,
    vcpus_used: int,
    memory_mb_used: int,
    local_gb_used: int,
    free_ram_mb: int,
    free_disk_gb: int,
    current_workload: int,
    running_vms: int,
    cpu_info: atLeast(v, '2.28') ? { type: 'object' } : str,
  };
  const props = {
    ...hypervisorSummary(v),
    ...until(v, '2.88', usage),
    ...from(v, '2.88', { uptime: nullable(str) }),
    disk_available_least: nullable(int),
    host_ip: nullable(str),
    hypervisor_type: str,
    hypervisor_version: int,
    service: obj({ host: str, id: atLeast(v, '2.53') ? uuid : int, disabled_reason: nullable(str) }),
  };
  return obj(
    props,
    Object.keys(props).filter((k) => k !== 'servers'),
  );
}
export const hypervisorDetailList = (v: string) =>
  obj({ hypervisors: arr(hypervisorDetail(v)), ...from(v, '2.33', { hypervisors_links: links }) }, ['hypervisors']);
export const hypervisorStatistics = obj({
  hypervisor_statistics: obj({
    count: int,
    vcpus: int,
    memory_mb: int,
    local_gb: int,
    vcpus_used: int,
    memory_mb_used: int,
    local_gb_used: int,
    free_ram_mb: int,
    free_disk_gb: int,
    current_workload: int,
    running_vms: int,
    disk_available_least: int,
  }),
});

const zone = (detail: boolean) =>
  obj({
    zoneName: str,
    zoneState: obj({ available: bool }),
    hosts: detail ? nullable(record(record(obj({ available: bool, active: bool, updated_at: nullable(naive) })))) : { type: 'null' },
  });
export const zoneList = (detail: boolean) => obj({ availabilityZoneInfo: arr(zone(detail)) });

export function aggregate(v: string, created = false) {
  return obj({
    id: int,
    name: str,
    availability_zone: nullable(str),
    ...(created ? {} : { hosts: arr(str), metadata: record(str) }),
    created_at: naive,
    updated_at: nullable(naive),
    deleted_at: { type: 'null' },
    deleted: { const: false },
    ...from(v, '2.41', { uuid }),
  });
}

const serverUsage = obj({
  instance_id: uuid,
  name: str,
  tenant_id: str,
  flavor: str,
  vcpus: int,
  memory_mb: int,
  local_gb: int,
  hours: num,
  started_at: naive,
  ended_at: nullable(naive),
  state: str,
  uptime: int,
});
const tenantUsage = (detailed: boolean) =>
  obj({
    tenant_id: str,
    start: naive,
    stop: naive,
    total_hours: num,
    total_vcpus_usage: num,
    total_memory_mb_usage: num,
    total_local_gb_usage: num,
    ...(detailed ? { server_usages: arr(serverUsage) } : {}),
  });
export const usageList = (v: string, detailed: boolean) =>
  obj({ tenant_usages: arr(tenantUsage(detailed)), ...from(v, '2.40', { tenant_usages_links: links }) }, ['tenant_usages']);
export const usageShow = (v: string) =>
  obj({ tenant_usage: { anyOf: [tenantUsage(true), obj({})] }, ...from(v, '2.40', { tenant_usage_links: links }) }, ['tenant_usage']);

export function quotaClass(v: string, withId = true) {
  const props = {
    ...(withId ? { id: str } : {}),
    instances: int,
    cores: int,
    ram: int,
    metadata_items: int,
    key_pairs: int,
    ...until(v, '2.57', { injected_files: int, injected_file_content_bytes: int, injected_file_path_bytes: int }),
    ...(atLeast(v, '2.50')
      ? { server_groups: int, server_group_members: int }
      : { fixed_ips: int, floating_ips: int, security_groups: int, security_group_rules: int }),
  };
  return obj({ quota_class_set: obj(props) });
}

export const externalEvents = obj({
  events: arr(
    obj({ name: str, server_uuid: str, status: { enum: ['completed', 'failed', 'in-progress'] }, tag: str, code: { enum: [200, 400, 404, 422] } }, [
      'name',
      'server_uuid',
      'status',
      'code',
    ]),
  ),
});
