import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

export const IMAGE_STATUSES = ['queued', 'saving', 'uploading', 'importing', 'active', 'deactivated'] as const;
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** An image's record. Its bytes live in the image store under the image's id once the status is
 * active or deactivated; deleted images are removed, not kept as rows. */
export const images = pgTable(
  'image_images',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    /** The owning project. */
    owner: text('owner').notNull(),
    status: text('status', { enum: IMAGE_STATUSES }).notNull().default('queued'),
    visibility: text('visibility', { enum: VISIBILITIES }).notNull().default('shared'),
    protected: boolean('protected').notNull().default(false),
    hidden: boolean('os_hidden').notNull().default(false),
    diskFormat: text('disk_format'),
    containerFormat: text('container_format'),
    minRam: integer('min_ram').notNull().default(0),
    minDisk: integer('min_disk').notNull().default(0),
    size: bigint('size', { mode: 'number' }),
    virtualSize: bigint('virtual_size', { mode: 'number' }),
    checksum: text('checksum'),
    hashAlgo: text('os_hash_algo'),
    hashValue: text('os_hash_value'),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    /** Free-form string properties (os_type, hw_*, …), shown beside the core attributes. */
    properties: jsonb('properties').$type<Record<string, string>>().notNull().default({}),
    /** While saving: the id of the store instance receiving the bytes, so that the store that
     * restarts after a crash knows which interrupted uploads are its own to reset. */
    uploadingTo: text('uploading_to'),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [index().on(t.owner), index().on(t.createdAt), index().on(t.status)],
);

/** A project an image is shared with, and whether that project accepted it. */
export const members = pgTable(
  'image_members',
  {
    imageId: text('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    memberId: text('member_id').notNull(),
    status: text('status', { enum: MEMBER_STATUSES }).notNull().default('pending'),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.memberId] }), index().on(t.memberId)],
);

export const TASK_STATUSES = ['pending', 'processing', 'success', 'failure'] as const;

/** An asynchronous operation on an image (an import), as Glance's tasks show it. Tasks outlive
 * their image: the record says what happened. */
export const tasks = pgTable(
  'image_tasks',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    status: text('status', { enum: TASK_STATUSES }).notNull().default('pending'),
    owner: text('owner').notNull(),
    userId: text('user_id').notNull(),
    imageId: text('image_id'),
    requestId: text('request_id'),
    input: jsonb('input').$type<Record<string, unknown>>().notNull().default({}),
    result: jsonb('result').$type<Record<string, unknown> | null>(),
    message: text('message').notNull().default(''),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [index().on(t.owner), index().on(t.imageId)],
);

export const METADEF_VISIBILITIES = ['public', 'private'] as const;

/** A metadata definition namespace: a named group of property, object and tag definitions that
 * dashboards offer when editing the metadata of images, volumes and flavors. */
export const metadefNamespaces = pgTable('image_metadef_namespaces', {
  namespace: text('namespace').primaryKey(),
  displayName: text('display_name'),
  description: text('description'),
  visibility: text('visibility', { enum: METADEF_VISIBILITIES }).notNull().default('private'),
  protected: boolean('protected').notNull().default(false),
  owner: text('owner').notNull(),
  createdAt: time('created_at'),
  updatedAt: time('updated_at'),
});

const inNamespace = () =>
  text('namespace')
    .notNull()
    .references(() => metadefNamespaces.namespace, { onDelete: 'cascade', onUpdate: 'cascade' });

/** A property definition: its JSON schema (type, title, enum, bounds…) kept as given. */
export const metadefProperties = pgTable(
  'image_metadef_properties',
  {
    namespace: inNamespace(),
    name: text('name').notNull(),
    schema: jsonb('schema').$type<Record<string, unknown>>().notNull(),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name] })],
);

/** An object definition: a named set of property schemas, some required. */
export const metadefObjects = pgTable(
  'image_metadef_objects',
  {
    namespace: inNamespace(),
    name: text('name').notNull(),
    description: text('description'),
    required: jsonb('required').$type<string[]>().notNull().default([]),
    properties: jsonb('properties').$type<Record<string, Record<string, unknown>>>().notNull().default({}),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name] })],
);

export const metadefTags = pgTable(
  'image_metadef_tags',
  {
    namespace: inNamespace(),
    name: text('name').notNull(),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name] })],
);

/** A kind of resource whose metadata namespaces describe (OS::Glance::Image, OS::Nova::Flavor…). */
export const metadefResourceTypes = pgTable('image_metadef_resource_types', {
  name: text('name').primaryKey(),
  protected: boolean('protected').notNull().default(false),
  createdAt: time('created_at'),
  updatedAt: time('updated_at'),
});

/** A namespace applies to a resource type, its properties named with `prefix` there, and set on
 * `properties_target` (a volume's `image` or `volume` metadata, say) where the type has several. */
export const metadefAssociations = pgTable(
  'image_metadef_associations',
  {
    namespace: inNamespace(),
    resourceType: text('resource_type')
      .notNull()
      .references(() => metadefResourceTypes.name),
    prefix: text('prefix'),
    propertiesTarget: text('properties_target'),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.resourceType] }), index().on(t.resourceType)],
);

/** Versions of Nubo's definitions catalogue already loaded, so that a definition an operator
 * deleted is not brought back at the next start. */
export const metadefCatalogue = pgTable('image_metadef_catalogue', {
  version: integer('version').primaryKey(),
  loadedAt: time('loaded_at'),
});
