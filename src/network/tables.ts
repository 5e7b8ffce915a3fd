import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updated = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/** Neutron's revision_number: bumped by every update, so that clients can detect races. */
const revision = () => integer('revision_number').notNull().default(0);
const tags = () => jsonb('tags').$type<string[]>().notNull().default([]);

export type NetworkType = 'flat' | 'vlan' | 'vxlan' | 'local';

export const networks = pgTable(
  'network_networks',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    adminStateUp: boolean('admin_state_up').notNull().default(true),
    // `shared` is not stored: it is derived from the network's RBAC policies (network_rbac_policies).
    /** router:external: routers may use it as their gateway; who sees it is its RBAC policies' say. */
    external: boolean('external').notNull().default(false),
    mtu: integer('mtu').notNull(),
    portSecurityEnabled: boolean('port_security_enabled').notNull().default(true),
    /** The QoS policy of the network's ports that have none of their own. */
    qosPolicyId: text('qos_policy_id').references(() => qosPolicies.id, { onDelete: 'restrict' }),
    // The provider attributes; tenant networks get them from the configured tenant type.
    networkType: text('network_type').$type<NetworkType>().notNull(),
    physicalNetwork: text('physical_network'),
    segmentationId: integer('segmentation_id'),
    /** `flat:<physnet>`, `vlan:<physnet>:<id>`, `vxlan:<vni>`; null for local. Unique: two
     * networks never share a segment, even when two creates race for the next free VNI. */
    segment: text('segment').unique('network_networks_segment'),
    status: text('status').notNull().default('ACTIVE'),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_networks_project').on(t.projectId)],
);

export interface AllocationPool {
  start: string;
  end: string;
}
export interface HostRoute {
  destination: string;
  nexthop: string;
}

export const subnets = pgTable(
  'network_subnets',
  {
    id: text('id').primaryKey(),
    networkId: text('network_id')
      .notNull()
      .references(() => networks.id, { onDelete: 'restrict' }),
    projectId: text('project_id').notNull(),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    ipVersion: integer('ip_version').$type<4 | 6>().notNull(),
    /** Normalized: the network address and prefix length. */
    cidr: text('cidr').notNull(),
    gatewayIp: text('gateway_ip'),
    allocationPools: jsonb('allocation_pools').$type<AllocationPool[]>().notNull(),
    dnsNameservers: jsonb('dns_nameservers').$type<string[]>().notNull().default([]),
    hostRoutes: jsonb('host_routes').$type<HostRoute[]>().notNull().default([]),
    enableDhcp: boolean('enable_dhcp').notNull().default(true),
    ipv6RaMode: text('ipv6_ra_mode'),
    ipv6AddressMode: text('ipv6_address_mode'),
    /** The pool the cidr was allocated from, if any: the pool is not deleted while it has subnets. */
    subnetpoolId: text('subnetpool_id').references(() => subnetPools.id, { onDelete: 'restrict' }),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_subnets_network').on(t.networkId)],
);

export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

/** An extra DHCP option of a port, as Neutron's API writes it. */
export interface ExtraDhcpOpt {
  opt_name: string;
  opt_value: string;
  ip_version: 4 | 6;
}

/**
 * A port: a place on a network with a MAC and fixed IPs, owned by a device (a server, a router, the
 * DHCP service, a floating IP). Its status is written by the network agent once the port is wired.
 */
export const ports = pgTable(
  'network_ports',
  {
    id: text('id').primaryKey(),
    networkId: text('network_id')
      .notNull()
      .references(() => networks.id, { onDelete: 'restrict' }),
    projectId: text('project_id').notNull(),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    macAddress: text('mac_address').notNull(),
    deviceId: text('device_id').notNull().default(''),
    deviceOwner: text('device_owner').notNull().default(''),
    adminStateUp: boolean('admin_state_up').notNull().default(true),
    status: text('status').notNull().default('DOWN'),
    portSecurityEnabled: boolean('port_security_enabled').notNull().default(true),
    allowedAddressPairs: jsonb('allowed_address_pairs').$type<AddressPair[]>().notNull().default([]),
    /** binding:host_id: the host whose agent wires the port. */
    hostId: text('host_id').notNull().default(''),
    /** The destination of a live migration, whose agent wires the port as well (Neutron's inactive
     * binding) until the switch-over makes it the port's host; and that wiring's status there. */
    migratingTo: text('migrating_to'),
    migratingStatus: text('migrating_status'),
    vnicType: text('vnic_type').notNull().default('normal'),
    bindingProfile: jsonb('binding_profile').$type<Record<string, unknown>>().notNull().default({}),
    dnsName: text('dns_name').notNull().default(''),
    extraDhcpOpts: jsonb('extra_dhcp_opts').$type<ExtraDhcpOpt[]>().notNull().default([]),
    qosPolicyId: text('qos_policy_id').references(() => qosPolicies.id, { onDelete: 'restrict' }),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    index('network_ports_network').on(t.networkId),
    index('network_ports_device').on(t.deviceId),
    index('network_ports_project').on(t.projectId),
    unique('network_ports_mac').on(t.networkId, t.macAddress),
  ],
);

/** A fixed IP of a port. The unique key is what makes two concurrent allocations of one address
 * impossible: the second insert fails and IPAM tries the next free address. */
export const ipAllocations = pgTable(
  'network_ip_allocations',
  {
    portId: text('port_id')
      .notNull()
      .references(() => ports.id, { onDelete: 'cascade' }),
    subnetId: text('subnet_id')
      .notNull()
      .references(() => subnets.id, { onDelete: 'restrict' }),
    networkId: text('network_id').notNull(),
    ipAddress: text('ip_address').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subnetId, t.ipAddress] }), index('network_ip_allocations_port').on(t.portId)],
);

export const securityGroups = pgTable(
  'network_security_groups',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    stateful: boolean('stateful').notNull().default(true),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_security_groups_project').on(t.projectId)],
);

/** Each project's `default` group, made on first need; the primary key keeps it to one even when
 * two requests of a new project race to make it. */
export const defaultSecurityGroups = pgTable('network_default_security_groups', {
  projectId: text('project_id').primaryKey(),
  securityGroupId: text('security_group_id')
    .notNull()
    .references(() => securityGroups.id, { onDelete: 'cascade' }),
});

export const securityGroupRules = pgTable(
  'network_security_group_rules',
  {
    id: text('id').primaryKey(),
    securityGroupId: text('security_group_id')
      .notNull()
      .references(() => securityGroups.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    direction: text('direction').$type<'ingress' | 'egress'>().notNull(),
    ethertype: text('ethertype').$type<'IPv4' | 'IPv6'>().notNull(),
    /** A name (tcp, udp, icmp, …) or a number as text; null for any protocol. */
    protocol: text('protocol'),
    portRangeMin: integer('port_range_min'),
    portRangeMax: integer('port_range_max'),
    remoteIpPrefix: text('remote_ip_prefix'),
    remoteGroupId: text('remote_group_id').references(() => securityGroups.id, { onDelete: 'cascade' }),
    description: text('description').notNull().default(''),
    revision: revision(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_security_group_rules_group').on(t.securityGroupId)],
);

export const portSecurityGroups = pgTable(
  'network_port_security_groups',
  {
    portId: text('port_id')
      .notNull()
      .references(() => ports.id, { onDelete: 'cascade' }),
    securityGroupId: text('security_group_id')
      .notNull()
      .references(() => securityGroups.id, { onDelete: 'restrict' }),
  },
  (t) => [primaryKey({ columns: [t.portId, t.securityGroupId] }), index('network_port_security_groups_group').on(t.securityGroupId)],
);

/** A router; its gateway and interfaces are ports whose device_id is the router's id
 * (device_owner network:router_gateway and network:router_interface). */
export const routers = pgTable(
  'network_routers',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    adminStateUp: boolean('admin_state_up').notNull().default(true),
    status: text('status').notNull().default('ACTIVE'),
    enableSnat: boolean('enable_snat').notNull().default(true),
    routes: jsonb('routes').$type<HostRoute[]>().notNull().default([]),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_routers_project').on(t.projectId)],
);

/** A floating IP: an address on an external network held by its own port (device_owner
 * network:floatingip), NAT'ed 1:1 by a router to a fixed IP of another port when associated. */
export const floatingIps = pgTable(
  'network_floating_ips',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    floatingNetworkId: text('floating_network_id')
      .notNull()
      .references(() => networks.id, { onDelete: 'restrict' }),
    floatingPortId: text('floating_port_id')
      .notNull()
      .references(() => ports.id, { onDelete: 'restrict' }),
    floatingIpAddress: text('floating_ip_address').notNull(),
    /** The associated port: one fixed IP of one port has at most one floating IP. */
    portId: text('port_id').references(() => ports.id, { onDelete: 'set null' }),
    fixedIpAddress: text('fixed_ip_address'),
    routerId: text('router_id').references(() => routers.id, { onDelete: 'restrict' }),
    status: text('status').notNull().default('DOWN'),
    description: text('description').notNull().default(''),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_floating_ips_project').on(t.projectId), unique('network_floating_ips_fixed').on(t.portId, t.fixedIpAddress)],
);

/** A project's limits where they differ from the defaults. */
export const quotas = pgTable(
  'network_quotas',
  {
    projectId: text('project_id').notNull(),
    resource: text('resource').notNull(),
    hardLimit: bigint('hard_limit', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.resource] })],
);

export type RbacAction = 'access_as_shared' | 'access_as_external';

/** Neutron's RBAC policies on networks: access_as_shared lets the target project (or every
 * project, '*') see the network and put ports on it; access_as_external lets it see the network
 * and use it as a router gateway and for floating IPs. A network's `shared` is derived from them. */
export const rbacPolicies = pgTable(
  'network_rbac_policies',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    objectType: text('object_type').$type<'network'>().notNull().default('network'),
    objectId: text('object_id')
      .notNull()
      .references(() => networks.id, { onDelete: 'cascade' }),
    action: text('action').$type<RbacAction>().notNull(),
    /** A project id, or '*' for every project. */
    targetTenant: text('target_tenant').notNull(),
  },
  (t) => [unique('network_rbac_policies_grant').on(t.objectId, t.action, t.targetTenant), index('network_rbac_policies_target').on(t.targetTenant)],
);

/** An address scope: subnet pools in one scope never overlap, so their addresses route unNATed. */
export const addressScopes = pgTable(
  'network_address_scopes',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull(),
    ipVersion: integer('ip_version').$type<4 | 6>().notNull(),
    shared: boolean('shared').notNull().default(false),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('network_address_scopes_project').on(t.projectId)],
);

/**
 * A subnet pool: prefixes that subnets take their cidrs from (`subnetpool_id` and `prefixlen`
 * instead of a cidr). Allocations from one pool are serialized by locking the pool's row.
 */
export const subnetPools = pgTable(
  'network_subnet_pools',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    ipVersion: integer('ip_version').$type<4 | 6>().notNull(),
    /** Normalized cidrs, none overlapping another. */
    prefixes: jsonb('prefixes').$type<string[]>().notNull(),
    defaultPrefixlen: integer('default_prefixlen').notNull(),
    minPrefixlen: integer('min_prefixlen').notNull(),
    maxPrefixlen: integer('max_prefixlen').notNull(),
    /** The pool a subnet gets with use_default_subnetpool: at most one per IP version. */
    isDefault: boolean('is_default').notNull().default(false),
    shared: boolean('shared').notNull().default(false),
    /** How many addresses one project may take from the pool; null: no limit. */
    defaultQuota: integer('default_quota'),
    addressScopeId: text('address_scope_id').references(() => addressScopes.id, { onDelete: 'restrict' }),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    index('network_subnet_pools_project').on(t.projectId),
    uniqueIndex('network_subnet_pools_default')
      .on(t.ipVersion)
      .where(sql`${t.isDefault}`),
  ],
);

/** The network agents of each host, as the running service reports them: a row per host and
 * kind, its heartbeat written while the host's network service runs. */
export const agents = pgTable(
  'network_agents',
  {
    id: text('id').primaryKey(),
    host: text('host').notNull(),
    agentType: text('agent_type').notNull(),
    binary: text('binary').notNull(),
    topic: text('topic').notNull(),
    adminStateUp: boolean('admin_state_up').notNull().default(true),
    configurations: jsonb('configurations').$type<Record<string, unknown>>().notNull().default({}),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull(),
    createdAt: created(),
    description: text('description'),
  },
  (t) => [unique('network_agents_host_type').on(t.host, t.agentType)],
);

/** A QoS policy: rules that ports (and networks, for their ports) it is put on are held to. */
export const qosPolicies = pgTable(
  'network_qos_policies',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    shared: boolean('shared').notNull().default(false),
    /** The policy new networks of the project get: at most one per project. */
    isDefault: boolean('is_default').notNull().default(false),
    revision: revision(),
    tags: tags(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    index('network_qos_policies_project').on(t.projectId),
    uniqueIndex('network_qos_policies_default')
      .on(t.projectId)
      .where(sql`${t.isDefault}`),
  ],
);

export type QosRuleType = 'bandwidth_limit' | 'dscp_marking' | 'minimum_bandwidth';

/** A rule of a QoS policy; the columns its type does not use are null. One rule per type and
 * direction in a policy (a DSCP marking rule counts as egress). */
export const qosRules = pgTable(
  'network_qos_rules',
  {
    id: text('id').primaryKey(),
    policyId: text('policy_id')
      .notNull()
      .references(() => qosPolicies.id, { onDelete: 'cascade' }),
    type: text('type').$type<QosRuleType>().notNull(),
    direction: text('direction').$type<'egress' | 'ingress'>().notNull().default('egress'),
    maxKbps: integer('max_kbps'),
    maxBurstKbps: integer('max_burst_kbps'),
    dscpMark: integer('dscp_mark'),
    minKbps: integer('min_kbps'),
  },
  (t) => [unique('network_qos_rules_kind').on(t.policyId, t.type, t.direction)],
);
