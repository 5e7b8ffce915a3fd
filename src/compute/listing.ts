import { and, asc, desc, eq, gte, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { serversWithAddress } from '../network/for-compute.ts';
import { scopeOf, type Server } from './servers.ts';
import { servers } from './tables.ts';

export interface ServerFilter {
  allProjects: boolean;
  projectId?: string;
  name?: string;
  status?: string;
  image?: string;
  flavor?: string;
  host?: string;
  /** Regular expressions matched against the servers' fixed IPv4 and IPv6 addresses. */
  ip?: string;
  ip6?: string;
  changesSince?: string;
  changesBefore?: string;
  /** Microversion 2.26: servers with all of `tags`, any of `tagsAny`, not all of `notTags`, none of `notTagsAny`. */
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
  locked?: boolean;
  /** Before 2.38 an unknown status matches nothing instead of being a 400. */
  unknownStatusMatchesNone?: boolean;
  /** In order; Nova then sorts by created_at and id, in the first direction. */
  sort: { key: SortKey; dir: 'asc' | 'desc' }[];
  limit: number;
  marker?: string;
}

/** Nova's status filter values, by the vm_state behind each. */
const STATUS: Record<string, Server['vmState']> = {
  ACTIVE: 'active',
  BUILD: 'building',
  SHUTOFF: 'stopped',
  PAUSED: 'paused',
  SUSPENDED: 'suspended',
  SHELVED: 'shelved',
  SHELVED_OFFLOADED: 'shelved_offloaded',
  RESCUE: 'rescued',
  VERIFY_RESIZE: 'resized',
  ERROR: 'error',
};

/** Nova's sort keys that Nubo's servers have: the column, and the field that holds its value (for the marker). */
const SORT = {
  created_at: [servers.createdAt, 'createdAt'],
  updated_at: [servers.updatedAt, 'updatedAt'],
  launched_at: [servers.launchedAt, 'launchedAt'],
  display_name: [servers.name, 'name'],
  display_description: [servers.description, 'description'],
  hostname: [servers.hostname, 'hostname'],
  uuid: [servers.id, 'id'],
  vm_state: [servers.vmState, 'vmState'],
  power_state: [servers.powerState, 'powerState'],
  host: [servers.host, 'host'],
  node: [servers.host, 'host'],
  key_name: [servers.keyName, 'keyName'],
  image_ref: [servers.imageId, 'imageId'],
  project_id: [servers.projectId, 'projectId'],
  user_id: [servers.userId, 'userId'],
  availability_zone: [servers.availabilityZone, 'availabilityZone'],
  config_drive: [servers.configDrive, 'configDrive'],
  access_ip_v4: [servers.accessIpv4, 'accessIpv4'],
  access_ip_v6: [servers.accessIpv6, 'accessIpv6'],
  locked_by: [servers.lockedBy, 'lockedBy'],
  locked: [servers.lockedBy, 'lockedBy'],
} satisfies Record<string, [AnyPgColumn, keyof Server]>;
export type SortKey = keyof typeof SORT;
export const SORT_KEYS = Object.keys(SORT) as SortKey[];

/** The tags filters: a comma-separated list each, matched against the jsonb array. */
const tagList = (text: string) =>
  sql`array[${sql.join(
    text.split(',').map((t) => sql`${t}`),
    sql`, `,
  )}]::text[]`;

function regex(key: string, pattern: string): string {
  try {
    new RegExp(pattern);
  } catch {
    throw badRequest(`Invalid regular expression for ${key}: ${pattern}`);
  }
  return pattern;
}

/** Servers matching the filter, in sort order (ties broken by id), after the marker server. */
export async function listServers(db: Db, auth: AuthContext, f: ServerFilter): Promise<Server[]> {
  const where: (SQL | undefined)[] = [scopeOf(auth, f.allProjects)];
  if (f.projectId && f.allProjects) where.push(eq(servers.projectId, f.projectId));
  // Nova matches these as regular expressions anywhere in the value.
  if (f.name !== undefined) where.push(sql`${servers.name} ~ ${regex('name', f.name)}`);
  for (const [key, pattern, version] of [
    ['ip', f.ip, 4],
    ['ip6', f.ip6, 6],
  ] as const) {
    if (pattern !== undefined) where.push(sql`(${servers.id}, ${servers.projectId}) in ${serversWithAddress(db, regex(key, pattern), version)}`);
  }
  if (f.status?.toUpperCase() === 'SOFT_DELETED') where.push(isNotNull(servers.softDeletedAt));
  else if (f.status !== undefined) {
    const vm = STATUS[f.status.toUpperCase()];
    if (!vm && f.unknownStatusMatchesNone) return [];
    if (!vm) throw badRequest(`Invalid status value`);
    // A soft-deleted server's guest is off, yet its status is SOFT_DELETED, not SHUTOFF.
    where.push(eq(servers.vmState, vm), isNull(servers.softDeletedAt));
  }
  for (const [list, test] of [
    [f.tags, (t: SQL) => sql`${servers.tags} ?& ${t}`],
    [f.tagsAny, (t: SQL) => sql`${servers.tags} ?| ${t}`],
    [f.notTags, (t: SQL) => sql`not (${servers.tags} ?& ${t})`],
    [f.notTagsAny, (t: SQL) => sql`not (${servers.tags} ?| ${t})`],
  ] as const) {
    for (const tags of list ?? []) where.push(test(tagList(tags)));
  }
  if (f.locked !== undefined) where.push(f.locked ? sql`${servers.lockedBy} is not null` : sql`${servers.lockedBy} is null`);
  if (f.image) where.push(eq(servers.imageId, f.image.split('/').at(-1)!));
  if (f.flavor) where.push(sql`${servers.flavor}->>'id' = ${f.flavor.split('/').at(-1)!}`);
  if (f.host && f.allProjects) where.push(eq(servers.host, f.host));
  if (f.changesSince !== undefined) {
    const since = new Date(f.changesSince);
    if (Number.isNaN(since.getTime())) throw badRequest(`Invalid input for field/attribute changes-since. Value: ${f.changesSince}.`);
    where.push(gte(servers.updatedAt, since));
  }
  if (f.changesBefore !== undefined) {
    const before = new Date(f.changesBefore);
    if (Number.isNaN(before.getTime())) throw badRequest(`Invalid input for field/attribute changes-before. Value: ${f.changesBefore}.`);
    if (f.changesSince !== undefined && new Date(f.changesSince) > before)
      throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    where.push(lte(servers.updatedAt, before));
  }
  const sort = sortOrder(f.sort);
  if (f.marker) {
    const [m] = await db
      .select()
      .from(servers)
      .where(and(eq(servers.id, f.marker), scopeOf(auth, f.allProjects)));
    if (!m) throw badRequest(`marker [${f.marker}] not found`);
    where.push(after(sort, m));
  }
  return db
    .select()
    .from(servers)
    .where(and(...where))
    .orderBy(...sort.map(({ key, dir }) => (dir === 'asc' ? asc : desc)(SORT[key][0])))
    .limit(f.limit);
}

/** The requested keys, then created_at and uuid (a total order) in the first key's direction. */
function sortOrder(requested: ServerFilter['sort']): ServerFilter['sort'] {
  const dir = requested[0]?.dir ?? 'desc';
  const keys = [...requested];
  for (const key of ['created_at', 'uuid'] as const) if (!keys.some((k) => SORT[k.key][0] === SORT[key][0])) keys.push({ key, dir });
  return keys.filter((k, i) => keys.findIndex((o) => SORT[o.key][0] === SORT[k.key][0]) === i);
}

/** Rows past the marker in a multi-key order: past on the first key, or equal on it and past on the rest. */
function after(sort: ServerFilter['sort'], m: Server): SQL {
  const [first, ...rest] = sort;
  const [column, field] = SORT[first!.key];
  const raw = m[field];
  const value = raw instanceof Date ? raw.toISOString() : raw;
  // Postgres sorts nulls last ascending and first descending.
  const past =
    value === null
      ? first!.dir === 'asc'
        ? sql`false`
        : sql`${column} is not null`
      : first!.dir === 'asc'
        ? sql`(${column} > ${value} or ${column} is null)`
        : sql`${column} < ${value}`;
  if (!rest.length) return past;
  return or(past, and(sql`${column} is not distinct from ${value}`, after(rest, m)))!;
}
