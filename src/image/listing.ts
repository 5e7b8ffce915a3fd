import { and, eq, exists, gt, gte, inArray, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { images, members } from './tables.ts';
import type { Caller, Image } from './access.ts';

export type Query = Record<string, string | string[] | undefined>;

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

/** Sort keys as Glance allows them, each an expression that is never null so that paging by
 * marker can compare with it. */
const SORT_KEYS: Record<string, SQL> = {
  name: sql`coalesce(${images.name}, '')`,
  status: sql`${images.status}`,
  container_format: sql`coalesce(${images.containerFormat}, '')`,
  disk_format: sql`coalesce(${images.diskFormat}, '')`,
  size: sql`coalesce(${images.size}, -1)`,
  id: sql`${images.id}`,
  created_at: sql`${images.createdAt}`,
  updated_at: sql`${images.updatedAt}`,
};

/** Parameters that are not filters on properties. */
const RESERVED = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status', 'visibility', 'os_hidden', 'protected', 'size_min', 'size_max', 'tag']);
const EXACT: Record<string, SQL> = {
  id: sql`${images.id}`,
  name: sql`${images.name}`,
  status: sql`${images.status}`,
  owner: sql`${images.owner}`,
  disk_format: sql`${images.diskFormat}`,
  container_format: sql`${images.containerFormat}`,
};
const TIMES = { created_at: images.createdAt, updated_at: images.updatedAt };
const COMPARE = { gt, gte, lt, lte, eq, neq: ne } as const;

const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v.at(-1) : v);
const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** GET /v2/images: the page of images the caller may list that matches the query, in order. */
export async function listImages(db: Db, c: Caller, q: Query): Promise<{ images: Image[]; limit: number }> {
  const limit = parseLimit(last(q.limit));
  const order = parseSort(q);
  const where: (SQL | undefined)[] = [scope(c, last(q.visibility), last(q.member_status) ?? 'accepted'), ...filters(q)];
  const marker = last(q.marker);
  if (marker) {
    const [found] = await db.select({ id: images.id }).from(images).where(and(eq(images.id, marker), scope(c, 'all', 'all')));
    if (!found) throw badRequest(`Marker ${marker} could not be found.`);
    where.push(after(order, marker));
  }
  const rows = await db
    .select()
    .from(images)
    .where(and(...where))
    .orderBy(...order.map(([key, dir]) => (dir === 'asc' ? sql`${SORT_KEYS[key]} asc` : sql`${SORT_KEYS[key]} desc`)))
    .limit(limit);
  return { images: rows, limit };
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw badRequest('limit param must be a non-negative integer');
  return Math.min(n, MAX_LIMIT);
}

type Order = [key: string, dir: 'asc' | 'desc'][];

/** Both of Glance's syntaxes: `sort=name:asc,size` and repeated sort_key/sort_dir. Ties are
 * broken by created_at and id, so that paging is stable. */
function parseSort(q: Query): Order {
  const key = (k: string) => {
    if (!(k in SORT_KEYS)) throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
    return k;
  };
  const dir = (d: string) => {
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  let order: Order;
  if (q.sort !== undefined) {
    if (q.sort_key !== undefined || q.sort_dir !== undefined) throw badRequest('Old and new sorting syntax cannot be combined');
    order = last(q.sort)!.split(',').map((part) => {
      const [k, d] = part.split(':');
      return [key(k!.trim()), dir((d ?? 'desc').trim())];
    });
  } else {
    const keys = all(q.sort_key).map((k) => key(k.trim()));
    const dirs = all(q.sort_dir).map((d) => dir(d.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
    order = (keys.length ? keys : ['created_at']).map((k, i) => [k, dirs[i] ?? dirs[0] ?? 'desc']);
  }
  const tie = order.at(-1)![1];
  for (const k of ['created_at', 'id']) if (!order.some(([o]) => o === k)) order.push([k, tie]);
  return order;
}

/** Rows after the marker in this order: a lexicographic comparison with the marker's own values,
 * read in the database so that timestamps keep their full precision. */
function after(order: Order, marker: string): SQL {
  const of = (key: string) => sql`(select ${SORT_KEYS[key]} from ${images} where ${images.id} = ${marker})`;
  return or(
    ...order.map(([key, dir], i) =>
      and(
        ...order.slice(0, i).map(([k]) => sql`${SORT_KEYS[k]} = ${of(k)}`),
        dir === 'asc' ? sql`${SORT_KEYS[key]} > ${of(key)}` : sql`${SORT_KEYS[key]} < ${of(key)}`,
      ),
    ),
  )!;
}

const sharedWith = (projectId: string, memberStatus: string) =>
  exists(
    sql`(select 1 from ${members} where ${members.imageId} = ${images.id} and ${members.memberId} = ${projectId}${
      memberStatus === 'all' ? sql`` : sql` and ${members.status} = ${memberStatus}`
    })`,
  );

/** Which images a listing covers, by Glance's rules: by default the caller's own, public ones and
 * those shared with it (accepted, unless member_status says otherwise); community images only
 * when asked. The admin lists every image. */
function scope(c: Caller, visibility: string | undefined, memberStatus: string): SQL | undefined {
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw badRequest(`Invalid status: ${memberStatus}`);
  if (visibility !== undefined && !['community', 'public', 'private', 'shared', 'all'].includes(visibility)) {
    throw badRequest(`Invalid visibility value: ${visibility}`);
  }
  const v = visibility as 'community' | 'public' | 'private' | 'shared' | 'all' | undefined;
  if (c.admin) return v && v !== 'all' ? eq(images.visibility, v) : undefined;
  const own = eq(images.owner, c.projectId);
  const shared = and(eq(images.visibility, 'shared'), sharedWith(c.projectId, memberStatus));
  switch (v) {
    case undefined:
      return or(own, eq(images.visibility, 'public'), shared);
    case 'all':
      return or(own, inArray(images.visibility, ['public', 'community']), shared);
    case 'private':
      return and(own, eq(images.visibility, 'private'));
    case 'shared':
      return and(eq(images.visibility, 'shared'), or(own, sharedWith(c.projectId, memberStatus)));
    default:
      return eq(images.visibility, v);
  }
}

function filters(q: Query): SQL[] {
  if (q['changes-since'] !== undefined) throw badRequest('The "changes-since" filter is no longer available on v2.');
  const out: SQL[] = [];
  const hidden = bool(last(q.os_hidden) ?? 'false', 'os_hidden');
  out.push(eq(images.hidden, hidden));
  const prot = last(q.protected);
  if (prot !== undefined) out.push(eq(images.protected, bool(prot, 'protected')));
  const min = last(q.size_min);
  if (min !== undefined) out.push(gte(images.size, size(min, 'size_min')));
  const max = last(q.size_max);
  if (max !== undefined) out.push(lte(images.size, size(max, 'size_max')));
  const tags = all(q.tag).map((t) => t.trim());
  if (tags.length) out.push(sql`${images.tags} @> ${JSON.stringify(tags)}::jsonb`);
  for (const [name, raw] of Object.entries(q)) {
    const value = last(raw);
    if (value === undefined || RESERVED.has(name)) continue;
    if (EXACT[name]) out.push(exact(EXACT[name], value));
    else if (name in TIMES) out.push(time(TIMES[name as keyof typeof TIMES], name, value));
    else out.push(sql`${images.properties} ->> ${name} = ${value}`);
  }
  return out;
}

function bool(text: string, name: string): boolean {
  const v = text.toLowerCase();
  if (v !== 'true' && v !== 'false') throw badRequest(`Invalid value '${text}' for '${name}' filter. Valid values are 'true' or 'false'.`);
  return v === 'true';
}

function size(text: string, name: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`Invalid value for ${name}: ${text} is not a non-negative integer.`);
  return Number(text);
}

/** `value`, or `in:a,b,"c,d"` for any of several values. */
function exact(column: SQL, value: string): SQL {
  if (!value.startsWith('in:')) return sql`${column} = ${value}`;
  const values = [...value.slice(3).matchAll(/"([^"]*)"|([^,]+)/g)].map((m) => m[1] ?? m[2]!.trim());
  if (!values.length) throw badRequest(`Invalid "in" filter value: ${value}`);
  return sql`${column} in (${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;
}

/** `[op:]timestamp` with op one of gt, gte, lt, lte, eq, neq. */
function time(column: (typeof TIMES)[keyof typeof TIMES], name: string, value: string): SQL {
  const m = /^(?:(gt|gte|lt|lte|eq|neq):)?(.+)$/.exec(value)!;
  const when = new Date(m[2]!);
  if (Number.isNaN(when.getTime())) throw badRequest(`Invalid value for ${name}: ${m[2]} is not a timestamp.`);
  return COMPARE[(m[1] ?? 'eq') as keyof typeof COMPARE](column, when);
}
