import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A volume served over NBD with TLS: each host in `hosts` opens it with its own pre-shared key
 * (compute_host_keys), as user name its host name. */
export interface NbdExport {
  address: string;
  port: number;
  hosts: string[];
}

const time = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

/** Cinder's volume statuses, as its API shows them. */
export const VOLUME_STATUSES = [
  'creating',
  'available',
  'reserved',
  'attaching',
  'in-use',
  'detaching',
  'extending',
  'deleting',
  'error',
  'error_deleting',
  'error_extending',
  'maintenance',
  'uploading',
  'downloading',
  'backing-up',
  'restoring-backup',
  'error_restoring',
] as const;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

export const ATTACHMENT_STATUSES = ['reserved', 'attaching', 'attached', 'detaching', 'error_attaching', 'error_detaching'] as const;
export type AttachmentStatus = (typeof ATTACHMENT_STATUSES)[number];

export const SNAPSHOT_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting'] as const;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];

/**
 * A volume. The API writes intent (size, status creating/extending/deleting); the volume agent makes
 * the backend match and writes back status, allocatedSize and the backend's location. Rows are
 * removed once the backend no longer holds the volume.
 */
export const volumes = pgTable(
  'volume_volumes',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    name: text('name'),
    description: text('description'),
    /** GiB, as asked: the size the backend must reach. */
    size: integer('size').notNull(),
    status: text('status', { enum: VOLUME_STATUSES }).notNull().default('creating'),
    availabilityZone: text('availability_zone').notNull(),
    volumeTypeId: text('volume_type_id').notNull(),
    bootable: boolean('bootable').notNull().default(false),
    /** Shown as the `readonly` admin metadata; attachments of a read-only volume are ro. */
    readOnly: boolean('read_only').notNull().default(false),
    multiattach: boolean('multiattach').notNull().default(false),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    /** The properties of the image it was made from, as Cinder keeps them. */
    imageMetadata: jsonb('volume_image_metadata').$type<Record<string, string>>(),
    // Where the bytes come from when created.
    sourceVolid: text('source_volid'),
    snapshotId: text('snapshot_id'),
    imageId: text('image_id'),
    // Backend, written by the agent.
    /** The driver that holds it (file, rbd), fixed at creation. */
    backend: text('backend').notNull(),
    /** `host@backend#pool`, as Cinder's os-vol-host-attr:host shows it. */
    host: text('host'),
    /** The driver's own handle, once the backend holds the volume. */
    providerLocation: text('provider_location'),
    /** GiB the backend holds; less than size while creating or extending. */
    allocatedSize: integer('allocated_size').notNull().default(0),
    /** Why the last backend operation failed, for an operator. */
    fault: text('fault'),
    /** The image an upload (os-volume_upload_image) fills while the volume is `uploading`. */
    uploadImageId: text('upload_image_id'),
    /** Where the volume service serves the volume over NBD to the other hosts whose guests open
     * it, and to which (./exports.ts); null while no guest elsewhere has it. */
    nbdExport: jsonb('nbd_export').$type<NbdExport>(),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
    launchedAt: timestamp('launched_at', { withTimezone: true }),
  },
  (t) => [index('volume_volumes_project').on(t.projectId), index('volume_volumes_status').on(t.status), index('volume_volumes_created').on(t.createdAt)],
);

/** A volume's attachment to a server, Cinder's attachments API and Nova's os-volume_attachments alike
 * (Nova's block device mapping fields included). Detached attachments are deleted. */
export const attachments = pgTable(
  'volume_attachments',
  {
    id: text('id').primaryKey(),
    volumeId: text('volume_id')
      .notNull()
      .references(() => volumes.id, { onDelete: 'cascade' }),
    /** The volume's project, for isolation on queries. */
    projectId: text('project_id').notNull(),
    /** The server (Cinder's instance_uuid); null for a Cinder attachment made without one. */
    serverId: text('instance_uuid'),
    /** The compute host the server runs on, once attached. */
    host: text('host'),
    /** The guest's device name, e.g. /dev/vdb (Cinder's mountpoint, Nova's device). */
    device: text('mountpoint'),
    attachMode: text('attach_mode', { enum: ['rw', 'ro'] })
      .notNull()
      .default('rw'),
    status: text('status', { enum: ATTACHMENT_STATUSES }).notNull().default('reserved'),
    /** What the compute side said of itself when it asked for the connection. */
    connector: jsonb('connector').$type<Record<string, unknown>>(),
    /** What the hypervisor needs to open the disk (the driver's connection()). */
    connectionInfo: jsonb('connection_info').$type<Record<string, unknown>>(),
    deleteOnTermination: boolean('delete_on_termination').notNull().default(false),
    /** 0 for the root disk of a server booted from the volume; null for a data volume. */
    bootIndex: integer('boot_index'),
    /** Why the last attach or detach failed. */
    fault: text('fault'),
    attachedAt: timestamp('attached_at', { withTimezone: true }),
    detachedAt: timestamp('detached_at', { withTimezone: true }),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [index('volume_attachments_volume').on(t.volumeId), index('volume_attachments_instance').on(t.serverId)],
);

/** A point-in-time copy of a volume, held by the volume's backend. */
export const snapshots = pgTable(
  'volume_snapshots',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    // No cascade: a volume with snapshots may not go.
    volumeId: text('volume_id')
      .notNull()
      .references(() => volumes.id),
    name: text('name'),
    description: text('description'),
    /** GiB, the volume's size when taken. */
    size: integer('size').notNull(),
    status: text('status', { enum: SNAPSHOT_STATUSES }).notNull().default('creating'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    backend: text('backend').notNull(),
    providerLocation: text('provider_location'),
    fault: text('fault'),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [index('volume_snapshots_project').on(t.projectId), index('volume_snapshots_volume').on(t.volumeId)],
);

export const BACKUP_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'restoring', 'error_restoring'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/**
 * A backup of a volume, held by the backup store (the Ceph `backups` pool, or files), apart from
 * the volume's backend: it outlives its volume. The API writes intent (creating, restoring,
 * deleting); the volume worker makes the store match.
 */
export const backups = pgTable(
  'volume_backups',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    // No foreign key: a backup stays when its volume goes.
    volumeId: text('volume_id').notNull(),
    name: text('name'),
    description: text('description'),
    /** GiB, the volume's size when taken. */
    size: integer('size').notNull(),
    status: text('status', { enum: BACKUP_STATUSES }).notNull().default('creating'),
    isIncremental: boolean('is_incremental').notNull().default(false),
    /** The backup an incremental one builds on; it cannot go while this one exists. */
    parentId: text('parent_id'),
    /** The store that holds it (rbd, file) and its handle there, once written. */
    backend: text('backend').notNull(),
    location: text('location'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    /** The volume a restore writes, while restoring; restoreCreates: it was made for the restore. */
    restoreVolumeId: text('restore_volume_id'),
    restoreCreates: boolean('restore_creates').notNull().default(false),
    fault: text('fault'),
    /** When the volume's bytes were read. */
    dataTimestamp: timestamp('data_timestamp', { withTimezone: true }),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [index('volume_backups_project').on(t.projectId), index('volume_backups_volume').on(t.volumeId)],
);

/** Volume types; `__DEFAULT__` always exists. */
export const volumeTypes = pgTable(
  'volume_types',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description'),
    isPublic: boolean('is_public').notNull().default(true),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [uniqueIndex('volume_types_name').on(t.name)],
);

/** A type's extra specs, e.g. volume_backend_name. */
export const volumeTypeExtraSpecs = pgTable(
  'volume_type_extra_specs',
  {
    typeId: text('type_id')
      .notNull()
      .references(() => volumeTypes.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.typeId, t.key] })],
);

/** Projects that may use a private type. */
export const volumeTypeAccess = pgTable(
  'volume_type_access',
  {
    typeId: text('type_id')
      .notNull()
      .references(() => volumeTypes.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.typeId, t.projectId] })],
);

/** A project's limits where they differ from the defaults; per-type resources are named
 * `volumes_<type>`, `snapshots_<type>`, `gigabytes_<type>` as Cinder names them. */
export const quotas = pgTable(
  'volume_quotas',
  {
    projectId: text('project_id').notNull(),
    resource: text('resource').notNull(),
    hardLimit: bigint('hard_limit', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.resource] })],
);
