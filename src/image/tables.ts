import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

export const IMAGE_STATUSES = ['queued', 'saving', 'active', 'deactivated'] as const;
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
