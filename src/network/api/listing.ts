import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../lib/errors.ts';

type Item = Record<string, unknown>;

/** Query parameters that steer a list rather than filter it. */
const CONTROL = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'verbose']);
const TAG_FILTERS = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

/** Every value of a query parameter (repeated ones as a list), or undefined when absent. */
export function queryValues(request: FastifyRequest, name: string): string[] | undefined {
  const v = (request.query as Record<string, string | string[] | undefined>)[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

/** Neutron's booleans in a query: true/false in any case, or 1/0. */
function asBoolean(text: string): boolean | undefined {
  const v = text.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}

function matchesValue(actual: unknown, wanted: string[]): boolean {
  if (Array.isArray(actual)) return actual.some((a) => matchesValue(a, wanted));
  if (actual === null) return wanted.some((w) => w === '' || w === 'None' || w === 'null');
  if (typeof actual === 'boolean') return wanted.some((w) => asBoolean(w) === actual);
  if (typeof actual === 'number') return wanted.some((w) => w !== '' && Number(w) === actual);
  if (typeof actual === 'string') return wanted.includes(actual);
  return false;
}

/** fixed_ips=ip_address=…, subnet_id=…, ip_address_substr=…: one fixed IP must match all given. */
function matchesFixedIps(actual: unknown, wanted: string[]): boolean {
  const by: Record<string, string[]> = {};
  for (const w of wanted) {
    const at = w.indexOf('=');
    if (at < 0) throw badRequest(`Invalid input for fixed_ips. Reason: '${w}' is not of the form key=value.`);
    (by[w.slice(0, at)] ??= []).push(w.slice(at + 1));
  }
  return (actual as { subnet_id: string; ip_address: string }[]).some(
    (f) =>
      (!by.ip_address || by.ip_address.includes(f.ip_address)) &&
      (!by.subnet_id || by.subnet_id.includes(f.subnet_id)) &&
      (!by.ip_address_substr || by.ip_address_substr.some((s) => f.ip_address.includes(s))),
  );
}

/** tags=a,b (all of), tags-any=a,b (any of), and their negations. */
function matchesTags(tags: string[], filter: string, wanted: string[]): boolean {
  const names = wanted.flatMap((w) => w.split(',')).filter((t) => t !== '');
  const all = names.every((t) => tags.includes(t));
  const any = names.some((t) => tags.includes(t));
  switch (filter) {
    case 'tags':
      return all;
    case 'tags-any':
      return any;
    case 'not-tags':
      return !all;
    default:
      return !any;
  }
}

function filterItems(request: FastifyRequest, items: Item[]): Item[] {
  const query = request.query as Record<string, string | string[] | undefined>;
  const filters = Object.keys(query).filter((k) => !CONTROL.has(k));
  if (!filters.length) return items;
  return items.filter((item) =>
    filters.every((key) => {
      const wanted = queryValues(request, key)!;
      if (TAG_FILTERS.has(key)) return Array.isArray(item.tags) && matchesTags(item.tags as string[], key, wanted);
      // An attribute this resource does not have (or hides from this caller) filters nothing, as
      // in a Neutron without the filter-validation extension.
      if (!(key in item)) return true;
      if (key === 'fixed_ips') return matchesFixedIps(item[key], wanted);
      return matchesValue(item[key], wanted);
    }),
  );
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** sort_key/sort_dir pairs, with id last so that every order is total (as Neutron appends it). */
function sortOrder(request: FastifyRequest, sample: Item | undefined): { key: string; dir: 1 | -1 }[] {
  const keys = queryValues(request, 'sort_key') ?? [];
  const dirs = queryValues(request, 'sort_dir') ?? [];
  if (dirs.length > keys.length) throw badRequest('The number of sort_keys and sort_dirs must be same');
  const order = keys.map((key, i) => {
    if (sample && !(key in sample)) throw badRequest(`${key} is invalid attribute for sort_key`);
    const dir = dirs[i] ?? 'asc';
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`${dir} is invalid value for sort_dir, valid values are 'asc' and 'desc'`);
    return { key, dir: dir === 'asc' ? (1 as const) : (-1 as const) };
  });
  if (!order.some((o) => o.key === 'id')) order.push({ key: 'id', dir: order[0]?.dir ?? 1 });
  return order;
}

function parseLimit(request: FastifyRequest): number | undefined {
  const [text] = queryValues(request, 'limit') ?? [];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 0) throw badRequest(`Bad limit request: Limit must be an integer 0 or greater and not '${text}'.`);
  return n === 0 ? undefined : n;
}

function pageHref(request: FastifyRequest, limit: number, marker: string, reverse: boolean): string {
  const url = new URL(request.url, request.publicUrl);
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('marker', marker);
  if (reverse) url.searchParams.set('page_reverse', 'True');
  else url.searchParams.delete('page_reverse');
  return `${request.publicUrl}${url.pathname}${url.search}`;
}

/** Keeps only the attributes named by fields= (all of them when none is named). */
function project(request: FastifyRequest, items: Item[]): Item[] {
  const fields = queryValues(request, 'fields')?.flatMap((f) => f.split(','));
  if (!fields?.length) return items;
  return items.map((item) => Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]])));
}

/**
 * The page the store may cut itself when the list is in plain id order and filtered only by
 * attributes the store narrowed by (the names given): the marker's id (inclusive, so that
 * listResponse finds it) and how many rows listResponse needs from there. Empty when it may not.
 */
export function storePage(request: FastifyRequest, narrowed: string[]): { fromId?: string; limit?: number } {
  const keys = Object.keys(request.query as object);
  if (keys.some((k) => !narrowed.includes(k) && k !== 'limit' && k !== 'marker' && k !== 'fields')) return {};
  if (queryValues(request, 'fixed_ips')?.some((f) => !/^(ip_address|subnet_id)=/.test(f))) return {};
  const limit = parseLimit(request);
  const [marker] = queryValues(request, 'marker') ?? [];
  if (limit === undefined) return {};
  return marker ? { fromId: marker, limit: limit + 1 } : { limit };
}

/** A Neutron show response: the view under its key, cut to `fields=` when named. */
export function showResponse(request: FastifyRequest, key: string, item: Record<string, unknown>): Record<string, unknown> {
  return { [key]: project(request, [item])[0] };
}

/** Neutron's timestamps: UTC to the second. */
export const timestamp = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

/**
 * A Neutron list response from the views the caller may see: filters on any attribute named in
 * the query (repeated = any of), `fields=`, `sort_key`/`sort_dir`, `limit`/`marker`/`page_reverse`
 * with `<collection>_links`.
 */
export function listResponse(request: FastifyRequest, collection: string, items: Record<string, unknown>[]): Record<string, unknown> {
  const order = sortOrder(request, items[0]);
  const compare = (a: Item, b: Item) => {
    for (const { key, dir } of order) {
      const c = compareValues(a[key], b[key]);
      if (c) return c * dir;
    }
    return 0;
  };
  const limit = parseLimit(request);
  const [marker] = queryValues(request, 'marker') ?? [];
  const reverse = asBoolean((queryValues(request, 'page_reverse') ?? ['false'])[0]!) === true;
  let list = filterItems(request, items).sort(reverse ? (a, b) => compare(b, a) : compare);
  if (marker) {
    const at = items.find((i) => i.id === marker);
    if (!at) throw badRequest(`Marker ${marker} could not be found.`);
    list = list.filter((i) => (reverse ? compare(at, i) : compare(i, at)) > 0);
  }
  if (limit === undefined) return { [collection]: project(request, list) };
  list = list.slice(0, limit);
  // Neutron's links: next unless a forward page came up short, previous unless a backward one did.
  const links: { rel: string; href: string }[] = [];
  const page = reverse ? [...list].reverse() : list;
  if (page.length && (list.length === limit || reverse)) links.push({ rel: 'next', href: pageHref(request, limit, page.at(-1)!.id as string, false) });
  if (page.length && (list.length === limit || !reverse)) links.push({ rel: 'previous', href: pageHref(request, limit, page[0]!.id as string, true) });
  return { [collection]: project(request, page), [`${collection}_links`]: links };
}
