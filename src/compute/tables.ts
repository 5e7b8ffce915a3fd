import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, real, serial, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const flavors = pgTable('compute_flavors', {
  /** Nova's `flavorid`: chosen by the admin ("1", "m1.small") or a generated UUID. */
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  ram: integer('ram').notNull(),
  vcpus: integer('vcpus').notNull(),
  disk: integer('disk').notNull(),
  ephemeral: integer('ephemeral').notNull().default(0),
  swap: integer('swap').notNull().default(0),
  rxtxFactor: real('rxtx_factor').notNull().default(1),
  isPublic: boolean('is_public').notNull().default(true),
  description: text('description'),
  createdAt: created(),
});

/** The projects that may use a private flavor. */
export const flavorAccess = pgTable(
  'compute_flavor_access',
  {
    flavorId: text('flavor_id')
      .notNull()
      .references(() => flavors.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flavorId, t.projectId] })],
);

export const flavorExtraSpecs = pgTable(
  'compute_flavor_extra_specs',
  {
    flavorId: text('flavor_id')
      .notNull()
      .references(() => flavors.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flavorId, t.key] })],
);

/** SSH keys belong to a user, not to a project, as in Nova. */
export const keypairs = pgTable(
  'compute_keypairs',
  {
    id: serial('id').primaryKey(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    type: text('type', { enum: ['ssh', 'x509'] })
      .notNull()
      .default('ssh'),
    publicKey: text('public_key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    createdAt: created(),
  },
  (t) => [unique().on(t.userId, t.name)],
);

/** What a server was built with: a copy of its flavor, so that deleting the flavor changes nothing. */
export interface FlavorCopy {
  id: string;
  name: string;
  ram: number;
  vcpus: number;
  disk: number;
  ephemeral: number;
  swap: number;
  extraSpecs: Record<string, string>;
}

export interface Fault {
  code: number;
  message: string;
  details?: string;
  created: string;
}

/** A network the server asked for: a network, a port, and optionally a fixed address. */
export interface RequestedNic {
  networkId?: string;
  portId?: string;
  fixedIp?: string;
}

/**
 * A server: desired state (spec, written by the API) and observed state (status, written by the
 * compute agent) kept apart; Nova's status and task_state are derived from both in the view.
 */
export const servers = pgTable(
  'compute_servers',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    hostname: text('hostname').notNull(),
    imageId: text('image_id').notNull(),
    flavor: jsonb('flavor').$type<FlavorCopy>().notNull(),
    keyName: text('key_name'),
    keyData: text('key_data'),
    /** Base64, as the API received it. */
    userData: text('user_data'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    configDrive: boolean('config_drive').notNull().default(false),
    availabilityZone: text('availability_zone'),
    networks: jsonb('networks').$type<'auto' | 'none' | RequestedNic[]>().notNull(),
    securityGroups: jsonb('security_groups').$type<string[]>().notNull().default([]),
    accessIpv4: text('access_ip_v4').notNull().default(''),
    accessIpv6: text('access_ip_v6').notNull().default(''),
    /** Microversion 2.19: free text of up to 255 characters. */
    description: text('description'),
    /** Microversion 2.26: up to 50 tags, each without '/' or ','. */
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    /** Microversion 2.63: certificate ids for image signature checks, kept and shown. */
    trustedCerts: jsonb('trusted_certs').$type<string[]>(),
    /** Who locked the server (its project's members or an admin), and why (microversion 2.73). */
    lockedBy: text('locked_by', { enum: ['owner', 'admin'] }),
    lockedReason: text('locked_reason'),

    // Spec. generation counts its changes; the agent reports the one it has carried out.
    power: text('power', { enum: ['running', 'shutdown', 'paused', 'suspended', 'shelved', 'offloaded', 'rescued'] })
      .notNull()
      .default('running'),
    /** Bumped by each reboot request; the agent has carried out the ones up to observedReboot. */
    reboots: integer('reboots').notNull().default(0),
    rebootHard: boolean('reboot_hard').notNull().default(false),
    deleting: boolean('deleting').notNull().default(false),
    /** Soft-deleted (with a reclaim interval): the guest is off and the server is reclaimed after
     * the interval unless restored. */
    softDeletedAt: timestamp('soft_deleted_at', { withTimezone: true }),
    generation: integer('generation').notNull().default(1),

    /** The image a shelve writes the disk into (Nova's "<name>-shelved"), until an unshelve has
     * booted from it and deleted it; and when the server was shelved, for the offload's timer. */
    shelvedImageId: text('shelved_image_id'),
    shelvedAt: timestamp('shelved_at', { withTimezone: true }),
    /** The image a rescue boots, with the server's own disk as the second disk. */
    rescueImageId: text('rescue_image_id'),
    /** Bumped by each rebuild (its disk made afresh from imageId); the agent has carried out the
     * ones up to observedRebuilds. */
    rebuilds: integer('rebuilds').notNull().default(0),
    /** A resize or cold migration under way (its guest moved onto `flavor`, or to `host`),
     * confirmed or reverted: the step the agent carries out next; cleared by the agent once
     * confirmed or reverted. 'live-migrate': a live migration under way, cleared once it ends. */
    resizeStep: text('resize_step', { enum: ['resize', 'confirm', 'revert', 'live-migrate'] }),
    /** The flavor before a resize, until it is confirmed (forgotten) or reverted (restored). */
    oldFlavor: jsonb('old_flavor').$type<FlavorCopy>(),

    // Placement, written by the scheduler.
    host: text('host'),

    // Status, written by the agent.
    vmState: text('vm_state', { enum: ['building', 'active', 'stopped', 'paused', 'suspended', 'shelved', 'shelved_offloaded', 'rescued', 'resized', 'error'] })
      .notNull()
      .default('building'),
    powerState: integer('power_state').notNull().default(0),
    observedGeneration: integer('observed_generation').notNull().default(0),
    observedReboots: integer('observed_reboots').notNull().default(0),
    observedRebuilds: integer('observed_rebuilds').notNull().default(0),
    fault: jsonb('fault').$type<Fault>(),
    launchedAt: timestamp('launched_at', { withTimezone: true }),
    createdAt: created(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('compute_servers_project').on(t.projectId), index('compute_servers_host').on(t.host)],
);

/** A hypervisor host: what it offers, as its agent reported when it started. */
export const hosts = pgTable('compute_hosts', {
  name: text('name').primaryKey(),
  /** The hypervisor's ids: an integer before microversion 2.53, a UUID from then on. */
  id: serial('id').notNull().unique(),
  uuid: text('uuid').notNull().unique().default(sql`gen_random_uuid()::text`),
  vcpus: integer('vcpus').notNull(),
  memoryMiB: integer('memory_mib').notNull(),
  diskGiB: integer('disk_gib').notNull(),
  cpuRatio: real('cpu_ratio').notNull(),
  ramRatio: real('ram_ratio').notNull(),
  diskRatio: real('disk_ratio').notNull(),
  reservedMemoryMiB: integer('reserved_memory_mib').notNull(),
  /** The host's CPU architecture (x86_64, aarch64), matched against an image's hw_architecture. */
  arch: text('arch').notNull().default('x86_64'),
  /** The address the controllers know the host by, and the one its VXLAN tunnels end at. */
  hostIp: text('host_ip'),
  tunnelIp: text('tunnel_ip'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The PostgreSQL role each `nubo agent` host logs in as (`nubo host-credential create`): the
 * row-level security policies of migration 0030 let a role listed here write only its host's rows. */
export const hostRoles = pgTable('compute_host_roles', {
  roleName: text('role_name').primaryKey(),
  host: text('host').notNull().unique(),
  createdAt: created(),
});

/** Each agent host's pre-shared key for the volumes it opens over NBD with TLS (the volume
 * service's exports): made by the host at its first start; row-level security lets a host's role
 * read only its own. */
export const hostKeys = pgTable('compute_host_keys', {
  host: text('host').primaryKey(),
  /** 32 random bytes in hex, as GnuTLS's PSK files hold them. */
  psk: text('psk').notNull(),
  createdAt: created(),
});

/** The pre-shared key that authenticates and encrypts the traffic of one migration between its two
 * hosts (the memory, the disk over NBD): made by whichever of them needs it first; row-level
 * security lets only those two hosts' roles read it. */
export const migrationKeys = pgTable('compute_migration_keys', {
  migrationId: integer('migration_id')
    .primaryKey()
    .references(() => migrations.id, { onDelete: 'cascade' }),
  /** 32 random bytes in hex, as GnuTLS's PSK files hold them. */
  psk: text('psk').notNull(),
  createdAt: created(),
});

/** A question the API asks the agent of a server's host and waits for (a console's output, an
 * NMI, a ticket to a console): the agent answers in the row; the API reads and deletes it. */
export const hostCalls = pgTable('compute_host_calls', {
  id: serial('id').primaryKey(),
  host: text('host').notNull(),
  serverId: text('server_id').notNull(),
  call: text('call', { enum: ['consoleLog', 'injectNmi', 'openVncConsole', 'openSerialConsole'] }).notNull(),
  /** consoleLog: the number of lines, or null for all of them. */
  lines: integer('lines'),
  output: text('output'),
  error: text('error'),
  answeredAt: timestamp('answered_at', { withTimezone: true }),
  createdAt: created(),
});

/** A snapshot of a server into an image, asked by createImage and carried out by its agent. */
export const snapshots = pgTable('compute_snapshots', {
  imageId: text('image_id').primaryKey(),
  serverId: text('server_id')
    .notNull()
    .references(() => servers.id, { onDelete: 'cascade' }),
  createdAt: created(),
});

/** A project's limits where they differ from the defaults. */
export const quotas = pgTable(
  'compute_quotas',
  {
    projectId: text('project_id').notNull(),
    resource: text('resource').notNull(),
    hardLimit: bigint('hard_limit', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.resource] })],
);

/**
 * What was asked of a server, by whom and in which request (Nova's instance actions). Kept after
 * the server is gone, so that its project still reads them (microversion 2.21): no foreign key.
 */
export const instanceActions = pgTable(
  'compute_instance_actions',
  {
    id: serial('id').primaryKey(),
    serverId: text('server_id').notNull(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    requestId: text('request_id').notNull(),
    action: text('action').notNull(),
    /** Set to 'Error' when one of its events failed, as Nova does. */
    message: text('message'),
    startTime: timestamp('start_time', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('compute_instance_actions_server').on(t.serverId, t.startTime)],
);

/** What an event waits for before it is done: the server's spec as it was when the action was
 * asked (the agent reports it carried out that generation and those reboots), and an image. */
export interface EventAwaits {
  generation?: number;
  reboots?: number;
  snapshotImageId?: string;
  /** A volume attachment being detached: done when it is gone, failed when the guest kept it. */
  detachOf?: string;
}

/** One step of an action carried out on the host, with its result. */
export const instanceActionEvents = pgTable(
  'compute_instance_action_events',
  {
    id: serial('id').primaryKey(),
    actionId: integer('action_id')
      .notNull()
      .references(() => instanceActions.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    awaits: jsonb('awaits').$type<EventAwaits>().notNull().default({}),
    host: text('host'),
    startTime: timestamp('start_time', { withTimezone: true }).notNull().defaultNow(),
    finishTime: timestamp('finish_time', { withTimezone: true }),
    result: text('result'),
    traceback: text('traceback'),
    /** Microversion 2.84: the fault's message, safe for the server's project to read. */
    details: text('details'),
  },
  (t) => [index('compute_instance_action_events_action').on(t.actionId)],
);

/** A service of a host (nova-compute, nova-scheduler): what an admin disabled or forced down. */
export const services = pgTable(
  'compute_services',
  {
    id: serial('id').primaryKey(),
    uuid: text('uuid').notNull().unique().default(sql`gen_random_uuid()::text`),
    binary: text('binary').notNull(),
    host: text('host').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    disabledReason: text('disabled_reason'),
    forcedDown: boolean('forced_down').notNull().default(false),
    /** The service's last report: it is down once this is older than service_down_time. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: created(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.host, t.binary)],
);

/** A server group: the scheduler places its members on one host or on different ones. */
export const serverGroups = pgTable(
  'compute_server_groups',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    policy: text('policy', { enum: ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] }).notNull(),
    /** Microversion 2.64: how many members anti-affinity lets share a host. */
    rules: jsonb('rules').$type<{ max_server_per_host?: number }>().notNull().default({}),
    createdAt: created(),
  },
  (t) => [index('compute_server_groups_project').on(t.projectId)],
);

/** A server belongs to at most one group, the one its create request's hint named. */
export const serverGroupMembers = pgTable(
  'compute_server_group_members',
  {
    serverId: text('server_id')
      .primaryKey()
      .references(() => servers.id, { onDelete: 'cascade' }),
    groupId: text('group_id')
      .notNull()
      .references(() => serverGroups.id, { onDelete: 'cascade' }),
  },
  (t) => [index('compute_server_group_members_group').on(t.groupId)],
);

/** A host aggregate; its availability zone, when set, is the zone of its hosts. */
export const aggregates = pgTable('compute_aggregates', {
  id: serial('id').primaryKey(),
  uuid: text('uuid').notNull().unique().default(sql`gen_random_uuid()::text`),
  name: text('name').notNull().unique(),
  availabilityZone: text('availability_zone'),
  metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
  createdAt: created(),
  updatedAt: timestamp('updated_at', { withTimezone: true }),
});

export const aggregateHosts = pgTable(
  'compute_aggregate_hosts',
  {
    aggregateId: integer('aggregate_id')
      .notNull()
      .references(() => aggregates.id, { onDelete: 'cascade' }),
    host: text('host').notNull(),
  },
  (t) => [primaryKey({ columns: [t.aggregateId, t.host] })],
);

/** The default quota class's limits, where an admin changed them (os-quota-class-sets). */
export const quotaClasses = pgTable(
  'compute_quota_classes',
  {
    className: text('class_name').notNull(),
    resource: text('resource').notNull(),
    hardLimit: bigint('hard_limit', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.className, t.resource] })],
);

/** A deleted server's usage record: os-simple-tenant-usage still counts its hours. */
export const terminatedServers = pgTable(
  'compute_terminated_servers',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull(),
    flavor: jsonb('flavor').$type<FlavorCopy>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** Null for a server deleted before it ever ran: it used nothing. */
    launchedAt: timestamp('launched_at', { withTimezone: true }),
    terminatedAt: timestamp('terminated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('compute_terminated_servers_project').on(t.projectId)],
);

/** Nova's migration records: one per resize, cold migration or evacuation of a server. A resize or
 * migration goes pre-migrating, migrating, post-migrating, finished, then confirmed or reverted; an
 * evacuation accepted, done (rebuilt on its new host), then completed (its old host came back and
 * destroyed what it had of it), or failed/error. */
export const migrations = pgTable(
  'compute_migrations',
  {
    id: serial('id').primaryKey(),
    uuid: text('uuid').notNull().unique().default(sql`gen_random_uuid()::text`),
    serverId: text('server_id').notNull(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    migrationType: text('migration_type', { enum: ['resize', 'migration', 'live-migration', 'evacuation'] }).notNull(),
    status: text('status').notNull(),
    sourceCompute: text('source_compute'),
    destCompute: text('dest_compute'),
    /** Where a cold migration's source serves the guest's disk for the destination
     * (nbd://HOST:PORT/disk), until the destination has copied it. */
    diskPath: text('disk_path'),
    /** The guest's console output on its source, up to the move, for its destination to keep. */
    consoleLog: text('console_log'),
    oldFlavorId: text('old_flavor_id').notNull(),
    newFlavorId: text('new_flavor_id').notNull(),
    createdAt: created(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('compute_migrations_server').on(t.serverId)],
);
