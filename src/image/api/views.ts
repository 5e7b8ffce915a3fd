import type { Image } from '../access.ts';
import type { Member } from '../members.ts';
import type { Task } from '../tasks.ts';

/** Glance writes times to the second, in UTC. */
const time = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An image as Glance shows it: free properties beside the core attributes, links relative to the
 * versioned endpoint. */
export const imageView = (i: Image) => ({
  ...i.properties,
  name: i.name,
  disk_format: i.diskFormat,
  container_format: i.containerFormat,
  visibility: i.visibility,
  size: i.size,
  virtual_size: i.virtualSize,
  status: i.status,
  checksum: i.checksum,
  protected: i.protected,
  min_ram: i.minRam,
  min_disk: i.minDisk,
  owner: i.owner,
  os_hidden: i.hidden,
  os_hash_algo: i.hashAlgo,
  os_hash_value: i.hashValue,
  id: i.id,
  created_at: time(i.createdAt),
  updated_at: time(i.updatedAt),
  tags: i.tags,
  self: `/v2/images/${i.id}`,
  file: `/v2/images/${i.id}/file`,
  schema: '/v2/schemas/image',
});

export const memberView = (m: Member) => ({
  image_id: m.imageId,
  member_id: m.memberId,
  status: m.status,
  created_at: time(m.createdAt),
  updated_at: time(m.updatedAt),
  schema: '/v2/schemas/member',
});

/** A task as Glance shows it: the list leaves out what it was asked and what came of it. */
export const taskView = (t: Task, full: boolean) => ({
  id: t.id,
  type: t.type,
  status: t.status,
  owner: t.owner,
  expires_at: t.expiresAt ? time(t.expiresAt) : null,
  created_at: time(t.createdAt),
  updated_at: time(t.updatedAt),
  ...(full ? { input: t.input, result: t.result ?? null, message: t.message, image_id: t.imageId, request_id: t.requestId, user_id: t.userId } : {}),
  self: `/v2/tasks/${t.id}`,
  schema: '/v2/schemas/task',
});
