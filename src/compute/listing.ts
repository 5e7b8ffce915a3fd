import { and, asc, desc, eq, gte, or, sql, type SQL } from 'drizzle-orm';
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
  sortKey: 'created_at' | 'updated_at' | 'display_name' | 'uuid' | 'vm_state' | 'host';
  sortDir: 'asc' | 'desc';
  limit: number;
  marker?: string;
}

/** Nova's status filter values, by the vm_state behind each. */
const STATUS: Record<string, Server['vmState']> = { ACTIVE: 'active', BUILD: 'building', SHUTOFF: 'stopped', PAUSED: 'paused', ERROR: 'error' };

/** Nova's sort keys: the column, and the field of a server that holds its value (for the marker). */
const SORT: Record<ServerFilter['sortKey'], [AnyPgColumn, keyof Server]> = {
  created_at: [servers.createdAt, 'createdAt'],
  updated_at: [servers.updatedAt, 'updatedAt'],
  display_name: [servers.name, 'name'],
  uuid: [servers.id, 'id'],
  vm_state: [servers.vmState, 'vmState'],
  host: [servers.host, 'host'],
};

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
  if (f.status !== undefined) {
    const vm = STATUS[f.status.toUpperCase()];
    if (!vm) throw badRequest(`Invalid status value`);
    where.push(eq(servers.vmState, vm));
  }
  if (f.image) where.push(eq(servers.imageId, f.image.split('/').at(-1)!));
  if (f.flavor) where.push(sql`${servers.flavor}->>'id' = ${f.flavor.split('/').at(-1)!}`);
  if (f.host && f.allProjects) where.push(eq(servers.host, f.host));
  if (f.changesSince !== undefined) {
    const since = new Date(f.changesSince);
    if (Number.isNaN(since.getTime())) throw badRequest(`Invalid input for field/attribute changes-since. Value: ${f.changesSince}.`);
    where.push(gte(servers.updatedAt, since));
  }
  const [column, field] = SORT[f.sortKey];
  const order = f.sortDir === 'asc' ? asc : desc;
  if (f.marker) {
    const [m] = await db
      .select()
      .from(servers)
      .where(and(eq(servers.id, f.marker), scopeOf(auth, f.allProjects)));
    if (!m) throw badRequest(`marker [${f.marker}] not found`);
    const raw = m[field];
    const value = raw instanceof Date ? raw.toISOString() : raw;
    const past = f.sortDir === 'asc' ? sql`>` : sql`<`;
    where.push(
      or(
        sql`${column} ${past} ${value}`,
        and(sql`${column} is not distinct from ${value}`, f.sortDir === 'asc' ? sql`${servers.id} > ${m.id}` : sql`${servers.id} < ${m.id}`),
      ),
    );
  }
  return db
    .select()
    .from(servers)
    .where(and(...where))
    .orderBy(order(column), order(servers.id))
    .limit(f.limit);
}
