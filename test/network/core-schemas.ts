// Networks, subnets, ports and routers as Neutron's api-ref documents their response bodies,
// written as JSON schemas: every documented attribute is allowed (extensions' ones optional),
// an undocumented one is not. The provider and binding attributes are the admin's to see.
const str = { type: 'string' };
const bool = { type: 'boolean' };
const int = { type: 'integer' };
const time = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' };
const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
const strings = { type: 'array', items: str };
const obj = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

const common = {
  id: str,
  name: str,
  description: str,
  tenant_id: str,
  project_id: str,
  tags: strings,
  revision_number: int,
  created_at: time,
  updated_at: time,
};
const commonRequired = Object.keys(common);

export const NetworkSchema = obj(
  {
    ...common,
    admin_state_up: bool,
    status: { enum: ['ACTIVE', 'DOWN', 'BUILD', 'ERROR'] },
    shared: bool,
    'router:external': bool,
    mtu: int,
    port_security_enabled: bool,
    subnets: strings,
    availability_zone_hints: strings,
    availability_zones: strings,
    ipv4_address_scope: nullable(str),
    ipv6_address_scope: nullable(str),
    is_default: bool,
    l2_adjacency: bool,
    qos_policy_id: nullable(str),
    dns_domain: str,
    vlan_transparent: nullable(bool),
    segments: { type: 'array' },
    'provider:network_type': str,
    'provider:physical_network': nullable(str),
    'provider:segmentation_id': nullable(int),
  },
  [...commonRequired, 'admin_state_up', 'status', 'shared', 'router:external', 'mtu', 'subnets'],
);

const pool = obj({ start: str, end: str }, ['start', 'end']);
const route = obj({ destination: str, nexthop: str }, ['destination', 'nexthop']);
const ipv6Mode = nullable({ enum: ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] });
export const SubnetSchema = obj(
  {
    ...common,
    network_id: str,
    ip_version: { enum: [4, 6] },
    cidr: str,
    gateway_ip: nullable(str),
    allocation_pools: { type: 'array', items: pool },
    dns_nameservers: strings,
    host_routes: { type: 'array', items: route },
    enable_dhcp: bool,
    ipv6_ra_mode: ipv6Mode,
    ipv6_address_mode: ipv6Mode,
    subnetpool_id: nullable(str),
    segment_id: nullable(str),
    service_types: strings,
    dns_publish_fixed_ip: bool,
    'router:external': bool,
  },
  [...commonRequired, 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp'],
);

const fixedIp = obj({ subnet_id: str, ip_address: str }, ['subnet_id', 'ip_address']);
export const PortSchema = obj(
  {
    ...common,
    network_id: str,
    mac_address: { type: 'string', pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' },
    admin_state_up: bool,
    status: { enum: ['ACTIVE', 'DOWN', 'BUILD', 'ERROR'] },
    device_id: str,
    device_owner: str,
    fixed_ips: { type: 'array', items: fixedIp },
    allowed_address_pairs: { type: 'array', items: obj({ ip_address: str, mac_address: str }, ['ip_address', 'mac_address']) },
    extra_dhcp_opts: { type: 'array', items: obj({ opt_name: str, opt_value: nullable(str), ip_version: { enum: [4, 6] } }, ['opt_name', 'opt_value']) },
    security_groups: strings,
    port_security_enabled: bool,
    'binding:vnic_type': {
      enum: ['normal', 'macvtap', 'direct', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'remote-managed', 'vdpa'],
    },
    'binding:host_id': str,
    'binding:profile': { type: 'object' },
    'binding:vif_type': str,
    'binding:vif_details': { type: 'object' },
    dns_name: str,
    dns_domain: str,
    dns_assignment: { type: 'array', items: obj({ ip_address: str, hostname: str, fqdn: str }, ['ip_address', 'hostname', 'fqdn']) },
    ip_allocation: { enum: ['immediate', 'deferred', 'none'] },
    propagate_uplink_status: bool,
    data_plane_status: nullable({ enum: ['ACTIVE', 'DOWN'] }),
    qos_policy_id: nullable(str),
    qos_network_policy_id: nullable(str),
    resource_request: nullable({ type: 'object' }),
    numa_affinity_policy: nullable(str),
    hints: nullable({ type: 'object' }),
  },
  [...commonRequired, 'network_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner', 'fixed_ips', 'security_groups'],
);

export const RouterSchema = obj(
  {
    ...common,
    admin_state_up: bool,
    status: str,
    external_gateway_info: nullable(
      obj({ network_id: str, enable_snat: bool, external_fixed_ips: { type: 'array', items: fixedIp } }, ['network_id']),
    ),
    routes: { type: 'array', items: route },
    distributed: bool,
    ha: bool,
    flavor_id: nullable(str),
    availability_zone_hints: strings,
    availability_zones: strings,
    conntrack_helpers: { type: 'array' },
    enable_ndp_proxy: bool,
  },
  [...commonRequired, 'admin_state_up', 'status', 'external_gateway_info', 'routes'],
);

/** `{key: resource}`, as a create, show or update answers. */
export const single = (key: string, schema: object) => obj({ [key]: schema }, [key]);
/** `{key: [resources]}`, as a bulk create or a list answers (a list may add its links). */
export const many = (key: string, schema: object) =>
  obj({ [key]: { type: 'array', items: schema }, [`${key}_links`]: { type: 'array' } }, [key]);
