import { badRequest, forbidden } from '../lib/errors.ts';
import { IMAGE_STATUSES, VISIBILITIES } from './tables.ts';

/** The disk formats whose bytes Nubo can check (see formats/); ami, ari and aki are raw data. */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
/** Containers whose bytes are the disk itself, so that the disk format can be checked. */
export const BARE_CONTAINERS = new Set(['bare', 'ami', 'ari', 'aki']);

const UUID = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

/** The subset of JSON Schema the image attributes use. */
export interface AttributeSchema {
  type: string | string[];
  description: string;
  readOnly?: boolean;
  enum?: unknown[];
  maxLength?: number;
  minimum?: number;
  pattern?: string;
  items?: AttributeSchema | { type: string; maxLength: number };
}

const text = (description: string, more: Partial<AttributeSchema> = {}): AttributeSchema => ({ type: ['null', 'string'], description, ...more });
const readOnly = (type: string | string[], description: string, more: Partial<AttributeSchema> = {}): AttributeSchema => ({ type, description, readOnly: true, ...more });

/** The core attributes of an image: what /v2/schemas/image publishes, and what create and update
 * check. Any other attribute is a free property whose value is a string. */
export const CORE: Record<string, AttributeSchema> = {
  id: { type: 'string', description: 'The image identifier, a UUID.', pattern: UUID },
  name: text('A name for people to recognise the image by.', { maxLength: 255 }),
  status: readOnly('string', 'Where the image is in its life: queued until data arrives, then saving, active or deactivated.', { enum: [...IMAGE_STATUSES] }),
  visibility: { type: 'string', description: 'Who may use the image: public, community, shared (with members) or private.', enum: [...VISIBILITIES] },
  protected: { type: 'boolean', description: 'A protected image cannot be deleted.' },
  os_hidden: { type: 'boolean', description: 'A hidden image is left out of default image lists.' },
  checksum: readOnly(['null', 'string'], 'The MD5 digest of the image data.', { maxLength: 32 }),
  os_hash_algo: readOnly(['null', 'string'], 'The algorithm of os_hash_value.', { maxLength: 64 }),
  os_hash_value: readOnly(['null', 'string'], 'The digest of the image data with os_hash_algo.', { maxLength: 128 }),
  owner: { type: 'string', description: 'The project that owns the image.', maxLength: 255 },
  size: readOnly(['null', 'integer'], 'The size of the image data, in bytes.'),
  virtual_size: readOnly(['null', 'integer'], 'The size of the disk the image holds, in bytes, read from its header.'),
  container_format: text('The container the disk comes in.', { enum: [null, ...CONTAINER_FORMATS] }),
  disk_format: text('The format of the disk; uploaded data must be in it.', { enum: [null, ...DISK_FORMATS] }),
  created_at: readOnly('string', 'When the image was created.'),
  updated_at: readOnly('string', 'When the image was last changed.'),
  tags: { type: 'array', description: 'Labels on the image.', items: { type: 'string', maxLength: 255 } },
  min_ram: { type: 'integer', description: 'The memory, in MiB, a server needs to boot the image.', minimum: 0 },
  min_disk: { type: 'integer', description: 'The disk, in GiB, a server needs to boot the image.', minimum: 0 },
  self: readOnly('string', 'The URL of the image.'),
  file: readOnly('string', 'The URL of the image data.'),
  direct_url: readOnly('string', "Where the store keeps the data (show_image_direct_url, admin only)."),
  // Not read-only in Glance's schema, where show_multiple_locations lets clients write them; here
  // they stay reserved.
  locations: { type: 'array', description: "The data's locations in the store (show_image_direct_url, admin only).", items: { type: 'object', description: 'A URL and its metadata.' } },
  schema: readOnly('string', 'The URL of this schema.'),
};

/** Names clients may not use for properties: Glance's internal ones, and locations, which only
 * the store sets. */
const RESERVED = new Set(['location', 'locations', 'direct_url', 'stores', 'deleted', 'deleted_at']);
const RESERVED_PREFIX = 'os_glance';
const MAX_PROPERTY_KEY = 255;
const MAX_PROPERTY_VALUE = 65535;

/** Refuses names that can never be set: read-only and reserved ones. */
export function checkWritable(name: string): void {
  if (CORE[name]?.readOnly || name === 'id') throw forbidden(`Attribute '${name}' is read-only.`);
  if (RESERVED.has(name) || name.startsWith(RESERVED_PREFIX)) throw forbidden(`Attribute '${name}' is reserved.`);
}

/** Checks a value given for an attribute, core or free. */
export function checkValue(name: string, value: unknown): void {
  const schema = CORE[name];
  if (!schema) {
    if (name.length > MAX_PROPERTY_KEY) throw badRequest(`Property names are at most ${MAX_PROPERTY_KEY} characters long.`);
    if (typeof value !== 'string') throw badRequest(`Invalid value for property ${name}: ${JSON.stringify(value)} is not a string.`);
    if (value.length > MAX_PROPERTY_VALUE) throw badRequest(`Invalid value for property ${name}: longer than ${MAX_PROPERTY_VALUE} characters.`);
    return;
  }
  const problem = mismatch(schema, value);
  if (problem) throw badRequest(`Invalid value for ${name}: ${problem}.`);
}

function mismatch(schema: AttributeSchema | { type: string; maxLength: number }, value: unknown): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!types.some((t) => isType(t, value))) return `${JSON.stringify(value)} is not of type ${types.join(' or ')}`;
  const s = schema as AttributeSchema;
  if (s.enum && !s.enum.includes(value)) return `${JSON.stringify(value)} is not one of ${s.enum.filter((v) => v !== null).join(', ')}`;
  if (typeof value === 'string' && s.maxLength !== undefined && value.length > s.maxLength) return `longer than ${s.maxLength} characters`;
  if (typeof value === 'string' && s.pattern && !new RegExp(s.pattern).test(value)) return `${JSON.stringify(value)} is not a valid value`;
  if (typeof value === 'number' && s.minimum !== undefined && value < s.minimum) return `cannot be less than ${s.minimum}`;
  if (typeof value === 'number' && value > 2 ** 31 - 1) return 'too large';
  if (Array.isArray(value) && s.items) {
    for (const item of value) {
      const bad = mismatch(s.items, item);
      if (bad) return bad;
    }
  }
  return undefined;
}

function isType(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    default:
      return false;
  }
}
