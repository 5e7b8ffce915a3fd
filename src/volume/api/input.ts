import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../lib/errors.ts';

/** The object under key in a JSON body, as Cinder requires it. */
export function bodyOf(request: FastifyRequest, key: string): Record<string, unknown> {
  const body = request.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[key] : undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`Missing required element '${key}' in request body.`);
  return value as Record<string, unknown>;
}

/** A boolean as Cinder reads one: true/false or their usual spellings. */
export function boolOf(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const v = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(v)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(v)) return false;
  throw badRequest(`Invalid input received: ${name} must be a boolean, not ${String(value)}.`);
}

/** A size in GiB: an integer or the text of one. */
export function intOf(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw badRequest(`Invalid input received: ${name} must be an integer (or string represenation of an integer) and greater than zero, not ${String(value)}.`);
  }
  return n;
}

export function textOf(name: string, value: unknown): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw badRequest(`Invalid input received: ${name} must be a string.`);
  return value;
}

/** The `metadata` filter of a list, as cinderclient sends it: a Python dict's repr, or JSON. */
export function metadataFilter(value: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(value.replaceAll("'", '"'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    // fall through to the error below
  }
  throw badRequest(`Invalid input received: metadata filter ${value} is not a dictionary.`);
}

type Sortable = Record<string, unknown> & { id: string };

/**
 * Sorts by Cinder's `sort` (key:dir,…) or `sort_key`/`sort_dir` (default created_at desc, then id),
 * then pages by marker and limit (and offset).
 */
export function sortAndPage<T extends Sortable>(rows: T[], query: Record<string, string | undefined>, keys: Record<string, (r: T) => unknown>): T[] {
  const spec: [string, 'asc' | 'desc'][] = [];
  if (query.sort) {
    for (const part of query.sort.split(',')) {
      const [key, dir = 'desc'] = part.trim().split(':');
      spec.push([key!, dir as 'asc' | 'desc']);
    }
  } else if (query.sort_key) {
    const dirs = (query.sort_dir ?? 'desc').split(',');
    query.sort_key.split(',').forEach((k, i) => spec.push([k.trim(), (dirs[i] ?? dirs[0] ?? 'desc').trim() as 'asc' | 'desc']));
  }
  if (spec.length === 0) spec.push(['created_at', 'desc']);
  spec.push(['id', 'desc']);
  for (const [key, dir] of spec) {
    if (!keys[key]) throw badRequest(`Invalid input received: Invalid sort key ${key}.`);
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid input received: Invalid sort direction ${dir}.`);
  }
  const sorted = [...rows].sort((a, b) => {
    for (const [key, dir] of spec) {
      const x = keys[key]!(a) as string | number | null;
      const y = keys[key]!(b) as string | number | null;
      if (x === y) continue;
      const c = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  if (query.marker) {
    const at = sorted.findIndex((r) => r.id === query.marker);
    if (at < 0) throw badRequest(`Invalid input received: marker [${query.marker}] not found`);
    start = at + 1;
  }
  if (query.offset !== undefined) start += intOf('offset', query.offset === '0' ? undefined : query.offset) ?? 0;
  const limit = query.limit === undefined ? 1000 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`Invalid input received: limit must be a non-negative integer.`);
  return sorted.slice(start, start + limit);
}
