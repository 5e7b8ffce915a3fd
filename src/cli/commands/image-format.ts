import { ClientError } from '../../client/errors.ts';
import type { Image } from '../../client/image.ts';
import { Formatted, text } from '../output.ts';

// How openstackclient shows an image: these attributes as fields, every other one inside
// `properties` (tags apart).
const SHOWN = new Set([
  'status',
  'name',
  'container_format',
  'created_at',
  'size',
  'disk_format',
  'updated_at',
  'visibility',
  'min_disk',
  'protected',
  'id',
  'file',
  'checksum',
  'owner',
  'virtual_size',
  'min_ram',
  'schema',
]);

type Kind = 'int' | 'bool' | 'float' | undefined;

// The attributes openstacksdk's Image declares beyond the shown ones, in its order, with the types
// it gives them: in `properties` the first three come before the free properties and the others
// after, and their values have these types.
const BEFORE: [string, Kind][] = [
  ['os_hidden', 'bool'],
  ['os_hash_algo', undefined],
  ['os_hash_value', undefined],
];
const AFTER: [string, Kind][] = [
  ['store', undefined],
  ['locations', undefined],
  ['direct_url', undefined],
  ['url', undefined],
  ['metadata', undefined],
  ['architecture', undefined],
  ['hypervisor_type', undefined],
  ['instance_type_rxtx_factor', 'float'],
  ['instance_uuid', undefined],
  ['img_config_drive', undefined],
  ['kernel_id', undefined],
  ['os_distro', undefined],
  ['os_version', undefined],
  ['os_secure_boot', undefined],
  ['os_shutdown_timeout', 'int'],
  ['ramdisk_id', undefined],
  ['vm_mode', undefined],
  ['hw_cpu_sockets', 'int'],
  ['hw_cpu_cores', 'int'],
  ['hw_cpu_threads', 'int'],
  ['hw_disk_bus', undefined],
  ['hw_cpu_policy', undefined],
  ['hw_cpu_thread_policy', undefined],
  ['hw_rng_model', undefined],
  ['hw_machine_type', undefined],
  ['hw_scsi_model', undefined],
  ['hw_serial_port_count', 'int'],
  ['hw_video_model', undefined],
  ['hw_video_ram', 'int'],
  ['hw_watchdog_action', undefined],
  ['os_command_line', undefined],
  ['hw_vif_model', undefined],
  ['hw_vif_multiqueue_enabled', 'bool'],
  ['hw_boot_menu', 'bool'],
  ['vmware_adaptertype', undefined],
  ['vmware_ostype', undefined],
  ['auto_disk_config', undefined],
  ['os_type', undefined],
  ['os_admin_user', undefined],
  ['hw_qemu_guest_agent', undefined],
  ['os_require_quiesce', 'bool'],
];
const DECLARED = new Set([...BEFORE, ...AFTER].map(([name]) => name));

/** A property's value with the type openstacksdk gives it; strings that do not read as one stay
 * strings. Booleans read as Glance and Nova read them, where openstacksdk takes any non-empty
 * string, "false" too, for true. */
function typed(value: unknown, kind: Kind): unknown {
  if (typeof value !== 'string' || !kind) return value;
  if (kind === 'bool') return ['true', '1', 'yes', 'on', 'y', 't'].includes(value.trim().toLowerCase());
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) && (kind === 'float' || Number.isInteger(n)) ? n : value;
}

/** openstackclient's `key='value', …`, keys sorted. */
const formatDict = (d: Record<string, unknown>) =>
  Object.keys(d)
    .sort()
    .map((k) => (d[k] === null || d[k] === undefined ? `${k}=` : `${k}='${text(d[k])}'`))
    .join(', ');

/** openstackclient's tags in a table: sorted, comma-separated. */
export const tagsColumn = (tags: string[]) => new Formatted(tags, [...tags].sort().join(', '));

/** Sizes as `image show --human-readable` prints them: 3.5M (powers of 1000). */
export function formatSize(size: number | null): string {
  const suffixes = ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z'];
  let n = size ?? 0;
  let i = 0;
  while (n >= 1000 && i < suffixes.length - 1) {
    n /= 1000;
    i++;
  }
  return n.toFixed(1).replace(/0+$/, '').replace(/\.$/, '') + suffixes[i];
}

/** An image's fields as `image show` and `image create` print them: sorted by name, unset ones
 * left out, the rest of the attributes gathered in `properties`. */
export function imageFields(image: Image, humanReadable = false): Record<string, unknown> {
  const record = image as Record<string, unknown>;
  const info: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (SHOWN.has(key) && value !== null) info[key] = value;
  if (humanReadable) info.size = formatSize(image.size);
  info.tags = tagsColumn(image.tags);

  const properties: Record<string, unknown> = {};
  const take = ([name, kind]: [string, Kind]) => {
    if (record[name] !== null && record[name] !== undefined) properties[name] = typed(record[name], kind);
  };
  BEFORE.forEach(take);
  for (const [key, value] of Object.entries(record)) {
    // `self` is the link openstacksdk drops.
    if (!SHOWN.has(key) && !DECLARED.has(key) && key !== 'tags' && key !== 'self' && value !== null) properties[key] = value;
  }
  AFTER.forEach(take);
  if (Object.keys(properties).length) info.properties = new Formatted(properties, formatDict(properties));
  return Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const LIST_COLUMNS = ['ID', 'Name', 'Status'];
export const LONG_COLUMNS = ['ID', 'Name', 'Disk Format', 'Container Format', 'Size', 'Checksum', 'Status', 'Visibility', 'Protected', 'Project', 'Tags'];

/** A row of `image list`, or of `image list --long`. */
export const listRow = (i: Image, long: boolean): unknown[] =>
  long
    ? [i.id, i.name, i.disk_format, i.container_format, i.size, i.checksum, i.status, i.visibility, i.protected, i.owner, tagsColumn(i.tags)]
    : [i.id, i.name, i.status];

// openstacksdk's names for the attributes it renames, which --sort takes too.
const SDK_NAMES: Record<string, string> = {
  owner_id: 'owner',
  is_protected: 'protected',
  is_hidden: 'os_hidden',
  hash_algo: 'os_hash_algo',
  hash_value: 'os_hash_value',
};

/**
 * Sorts as `image list --sort key[:asc|desc],…` does: in the client, after the listing, by each
 * key's value as a string (so 10 comes before 9), the last key first and each sort stable.
 */
export function sortImages(images: Image[], spec: string): Image[] {
  const sorted = [...images];
  for (const part of spec.trim().split(',').reverse()) {
    const [key, direction] = part.includes(':') ? [part.slice(0, part.indexOf(':')), part.slice(part.indexOf(':') + 1)] : [part, 'asc'];
    if (!key) throw new ClientError("'<empty string>'' is not a valid sort key");
    if (direction !== 'asc' && direction !== 'desc') {
      throw new ClientError(`'${direction || '<empty string>'}' is not a valid sort direction for sort key ${key}, use 'asc' or 'desc' instead`);
    }
    const field = SDK_NAMES[key] ?? key;
    const value = (i: Image) => text((i as Record<string, unknown>)[field]);
    const sign = direction === 'desc' ? -1 : 1;
    sorted.sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      return x < y ? -sign : x > y ? sign : 0;
    });
  }
  return sorted;
}

/** `image list --property k=v`: images whose attribute or property k is exactly the string v,
 * filtered in the client as openstackclient does. */
export const hasProperties = (i: Image, wanted: Record<string, string>) => Object.entries(wanted).every(([k, v]) => (i as Record<string, unknown>)[k] === v);
