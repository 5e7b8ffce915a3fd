import type { FastifyRequest } from 'fastify';
import { badRequest } from '../errors.ts';

export interface Page {
  limit: number;
  marker?: string;
}

/** Reads `limit` and `marker` from the query; the limit is capped at max. */
export function pageOf(query: { limit?: unknown; marker?: unknown }, max = 1000): Page {
  let limit = max;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit must be a non-negative integer, not ${String(query.limit)}`);
    limit = Math.min(limit, max);
  }
  const marker = typeof query.marker === 'string' && query.marker !== '' ? query.marker : undefined;
  return { limit, marker };
}

/** The link to the page after one whose last item is lastId: the request's own URL with the
 * marker replaced. Returned only when the page was full, as OpenStack services do. */
export function nextLink(request: FastifyRequest, page: Page, items: { id: string }[]): string | undefined {
  const last = items.at(-1);
  if (!last || items.length < page.limit) return undefined;
  const url = new URL(request.url, request.publicUrl);
  url.searchParams.set('marker', last.id);
  return `${request.publicUrl}${url.pathname}${url.search}`;
}
