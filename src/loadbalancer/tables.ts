import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

/** Octavia's provisioning statuses: the API writes PENDING_*, the agent ACTIVE or ERROR. */
export const PROVISIONING = ['ACTIVE', 'DELETED', 'ERROR', 'PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE'] as const;
export type Provisioning = (typeof PROVISIONING)[number];
/** Octavia's operating statuses, written by the agent from what HAProxy reports. */
export const OPERATING = ['ONLINE', 'DRAINING', 'OFFLINE', 'DEGRADED', 'ERROR', 'NO_MONITOR'] as const;
export type Operating = (typeof OPERATING)[number];

const common = {
  id: text('id').primaryKey(),
  projectId: text('project_id').notNull(),
  name: text('name').notNull().default(''),
  description: text('description').notNull().default(''),
  adminStateUp: boolean('admin_state_up').notNull().default(true),
  provisioningStatus: text('provisioning_status', { enum: PROVISIONING }).notNull().default('PENDING_CREATE'),
  operatingStatus: text('operating_status', { enum: OPERATING }).notNull().default('OFFLINE'),
  tags: jsonb('tags').$type<string[]>().notNull().default([]),
  createdAt: time('created_at'),
  updatedAt: timestamp('updated_at', { withTimezone: true }),
};

/**
 * A load balancer: its VIP is a Neutron port it owns (device_owner Octavia, device_id
 * lb-<id>), and its data plane an HAProxy in a namespace of its own on the VIP's network.
 * Every child below carries the load balancer's id, so that one reconcile renders it whole.
 */
export const loadBalancers = pgTable(
  'lb_loadbalancers',
  {
    ...common,
    provider: text('provider').notNull(),
    vipPortId: text('vip_port_id').notNull(),
    vipNetworkId: text('vip_network_id').notNull(),
    vipSubnetId: text('vip_subnet_id').notNull(),
    vipAddress: text('vip_address').notNull(),
    /** The host whose agent runs its HAProxy. */
    host: text('host').notNull(),
  },
  (t) => [index('lb_loadbalancers_project').on(t.projectId)],
);

export const LISTENER_PROTOCOLS = ['HTTP', 'TCP'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];

export const listeners = pgTable(
  'lb_listeners',
  {
    ...common,
    loadBalancerId: text('loadbalancer_id').notNull(),
    protocol: text('protocol', { enum: LISTENER_PROTOCOLS }).notNull(),
    protocolPort: integer('protocol_port').notNull(),
    connectionLimit: integer('connection_limit').notNull().default(-1),
    defaultPoolId: text('default_pool_id'),
    timeoutClientData: integer('timeout_client_data').notNull().default(50000),
    timeoutMemberConnect: integer('timeout_member_connect').notNull().default(5000),
    timeoutMemberData: integer('timeout_member_data').notNull().default(50000),
    timeoutTcpInspect: integer('timeout_tcp_inspect').notNull().default(0),
    insertHeaders: jsonb('insert_headers').$type<Record<string, string>>().notNull().default({}),
    allowedCidrs: jsonb('allowed_cidrs').$type<string[]>(),
  },
  // One port per VIP, whatever the protocol: Octavia's 409 DuplicateListenerEntry.
  (t) => [uniqueIndex('lb_listeners_port').on(t.loadBalancerId, t.protocolPort), index('lb_listeners_lb').on(t.loadBalancerId)],
);

export const PERSISTENCE_TYPES = ['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE'] as const;
export interface SessionPersistence {
  type: (typeof PERSISTENCE_TYPES)[number];
  cookie_name?: string;
}

export const POOL_ALGORITHMS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const;
export type PoolAlgorithm = (typeof POOL_ALGORITHMS)[number];

export const pools = pgTable(
  'lb_pools',
  {
    ...common,
    loadBalancerId: text('loadbalancer_id').notNull(),
    protocol: text('protocol', { enum: LISTENER_PROTOCOLS }).notNull(),
    lbAlgorithm: text('lb_algorithm', { enum: POOL_ALGORITHMS }).notNull(),
    /** Octavia's { type: SOURCE_IP | HTTP_COOKIE | APP_COOKIE, cookie_name? }, or null. */
    sessionPersistence: jsonb('session_persistence').$type<SessionPersistence | null>(),
  },
  (t) => [index('lb_pools_lb').on(t.loadBalancerId)],
);

export const members = pgTable(
  'lb_members',
  {
    ...common,
    loadBalancerId: text('loadbalancer_id').notNull(),
    poolId: text('pool_id').notNull(),
    address: text('address').notNull(),
    protocolPort: integer('protocol_port').notNull(),
    weight: integer('weight').notNull().default(1),
    subnetId: text('subnet_id'),
    backup: boolean('backup').notNull().default(false),
    monitorAddress: text('monitor_address'),
    monitorPort: integer('monitor_port'),
  },
  // Octavia's 409 DuplicateMemberEntry: one address and port per pool.
  (t) => [uniqueIndex('lb_members_endpoint').on(t.poolId, t.address, t.protocolPort), index('lb_members_lb').on(t.loadBalancerId)],
);

export const MONITOR_TYPES = ['HTTP', 'HTTPS', 'TCP', 'TLS-HELLO', 'PING'] as const;
export type MonitorType = (typeof MONITOR_TYPES)[number];

export const healthMonitors = pgTable(
  'lb_healthmonitors',
  {
    ...common,
    loadBalancerId: text('loadbalancer_id').notNull(),
    /** One monitor per pool. */
    poolId: text('pool_id').notNull().unique(),
    type: text('type', { enum: MONITOR_TYPES }).notNull(),
    /** Seconds between checks, seconds a check may take, and how many in a row change a member's state. */
    delay: integer('delay').notNull(),
    timeout: integer('timeout').notNull(),
    maxRetries: integer('max_retries').notNull(),
    maxRetriesDown: integer('max_retries_down').notNull().default(3),
    httpMethod: text('http_method'),
    urlPath: text('url_path'),
    expectedCodes: text('expected_codes'),
  },
  (t) => [index('lb_healthmonitors_lb').on(t.loadBalancerId)],
);

/** The counters HAProxy last reported for a listener (its frontend), written by the agent as it polls. */
export const listenerStats = pgTable('lb_listener_stats', {
  listenerId: text('listener_id').primaryKey(),
  loadBalancerId: text('loadbalancer_id').notNull(),
  bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
  bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
  activeConnections: integer('active_connections').notNull().default(0),
  totalConnections: bigint('total_connections', { mode: 'number' }).notNull().default(0),
  requestErrors: integer('request_errors').notNull().default(0),
});

export const L7_ACTIONS = ['REDIRECT_TO_POOL', 'REDIRECT_TO_URL', 'REDIRECT_PREFIX', 'REJECT'] as const;
export type L7Action = (typeof L7_ACTIONS)[number];

/** An L7 policy of a listener: the first (by position) whose rules all match acts. */
export const l7Policies = pgTable(
  'lb_l7policies',
  {
    ...common,
    loadBalancerId: text('loadbalancer_id').notNull(),
    listenerId: text('listener_id').notNull(),
    action: text('action', { enum: L7_ACTIONS }).notNull(),
    /** 1-based order among the listener's policies, kept dense. */
    position: integer('position').notNull(),
    redirectPoolId: text('redirect_pool_id'),
    redirectUrl: text('redirect_url'),
    redirectPrefix: text('redirect_prefix'),
    redirectHttpCode: integer('redirect_http_code'),
  },
  (t) => [index('lb_l7policies_lb').on(t.loadBalancerId), index('lb_l7policies_listener').on(t.listenerId)],
);

export const L7_RULE_TYPES = ['PATH', 'HOST_NAME', 'HEADER', 'COOKIE', 'FILE_TYPE'] as const;
export type L7RuleType = (typeof L7_RULE_TYPES)[number];
export const L7_COMPARE_TYPES = ['STARTS_WITH', 'ENDS_WITH', 'CONTAINS', 'EQUAL_TO', 'REGEX'] as const;
export type L7CompareType = (typeof L7_COMPARE_TYPES)[number];

export const l7Rules = pgTable(
  'lb_l7rules',
  {
    ...common,
    loadBalancerId: text('loadbalancer_id').notNull(),
    l7PolicyId: text('l7policy_id').notNull(),
    type: text('type', { enum: L7_RULE_TYPES }).notNull(),
    compareType: text('compare_type', { enum: L7_COMPARE_TYPES }).notNull(),
    /** The header's or cookie's name (HEADER and COOKIE rules only). */
    key: text('key'),
    value: text('value').notNull(),
    invert: boolean('invert').notNull().default(false),
  },
  (t) => [index('lb_l7rules_lb').on(t.loadBalancerId), index('lb_l7rules_policy').on(t.l7PolicyId)],
);

/** A project's load-balancer quotas as an admin set them; a null limit is the default's. */
export const lbQuotas = pgTable('lb_quotas', {
  projectId: text('project_id').primaryKey(),
  loadBalancer: integer('load_balancer'),
  listener: integer('listener'),
  pool: integer('pool'),
  healthMonitor: integer('health_monitor'),
  member: integer('member'),
  l7Policy: integer('l7policy'),
  l7Rule: integer('l7rule'),
});
