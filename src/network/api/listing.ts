// CONTRACT STUB: the ports/IPAM helper replaces the body.
import type { FastifyRequest } from 'fastify';

/**
 * A Neutron list response from the views the caller may see: filters on any attribute named in
 * the query (repeated = any of), `fields=`, `sort_key`/`sort_dir`, `limit`/`marker`/`page_reverse`
 * with `<collection>_links`.
 */
export function listResponse(_request: FastifyRequest, collection: string, items: Record<string, unknown>[]): Record<string, unknown> {
  return { [collection]: items };
}
