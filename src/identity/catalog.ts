import { and, eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { notFound } from '../lib/errors.ts';
import { endpoints, services } from './tables.ts';
import { newId } from './ids.ts';
import { getRegion } from './regions.ts';
import { projectFilters } from './endpoint-filters.ts';

export type Service = typeof services.$inferSelect;
export type Endpoint = typeof endpoints.$inferSelect;

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string | null; region_id: string | null; url: string }[];
}

/** The catalog of every token, and the endpoints that projects with endpoint filters see. */
export interface Catalog {
  services: CatalogEntry[];
  filters: Map<string, Set<string>>;
}

/** Every enabled service with its enabled endpoints; `$(project_id)s` in a URL is filled in per
 * token, as Keystone does. */
export async function readCatalog(db: Db): Promise<Catalog> {
  const rows = await db
    .select({ service: services, endpoint: endpoints })
    .from(services)
    .innerJoin(endpoints, eq(endpoints.serviceId, services.id))
    .where(and(eq(services.enabled, true), eq(endpoints.enabled, true)))
    .orderBy(services.type, endpoints.interface);
  const byService = new Map<string, CatalogEntry>();
  for (const { service, endpoint } of rows) {
    let entry = byService.get(service.id);
    if (!entry) byService.set(service.id, (entry = { id: service.id, type: service.type, name: service.name, endpoints: [] }));
    entry.endpoints.push({ id: endpoint.id, interface: endpoint.interface, region: endpoint.regionId, region_id: endpoint.regionId, url: endpoint.url });
  }
  return { services: [...byService.values()], filters: await projectFilters(db) };
}

/** A token's catalog. A project with endpoint filters sees only its endpoints, and no service
 * left without any (Keystone's OS-EP-FILTER). */
export function catalogForProject(catalog: Catalog, projectId: string | undefined): CatalogEntry[] {
  const only = projectId !== undefined ? catalog.filters.get(projectId) : undefined;
  return catalog.services
    .map((s) => ({
      ...s,
      endpoints: s.endpoints
        .filter((e) => (projectId !== undefined || !e.url.includes('$(project_id)s')) && (!only || only.has(e.id)))
        .map((e) => ({ ...e, url: projectId ? e.url.replaceAll('$(project_id)s', projectId) : e.url })),
    }))
    .filter((s) => !only || s.endpoints.length > 0);
}

export async function getService(db: Db, id: string): Promise<Service> {
  const [row] = await db.select().from(services).where(eq(services.id, id));
  if (!row) throw notFound(`Could not find service: ${id}.`);
  return row;
}

export async function createService(db: Db, input: { type: string; name?: string; description?: string | null; enabled?: boolean }): Promise<Service> {
  const [row] = await db
    .insert(services)
    .values({ id: newId(), type: input.type, name: input.name ?? input.type, description: input.description ?? null, enabled: input.enabled ?? true })
    .returning();
  return row!;
}

export async function deleteService(db: Db, id: string): Promise<void> {
  const gone = await db.delete(services).where(eq(services.id, id)).returning();
  if (!gone.length) throw notFound(`Could not find service: ${id}.`);
}

export async function getEndpoint(db: Db, id: string): Promise<Endpoint> {
  const [row] = await db.select().from(endpoints).where(eq(endpoints.id, id));
  if (!row) throw notFound(`Could not find endpoint: ${id}.`);
  return row;
}

export async function createEndpoint(
  db: Db,
  input: { serviceId: string; interface: Endpoint['interface']; url: string; regionId?: string | null; enabled?: boolean },
): Promise<Endpoint> {
  await getService(db, input.serviceId);
  if (input.regionId) await getRegion(db, input.regionId);
  const [row] = await db
    .insert(endpoints)
    .values({ id: newId(), ...input })
    .returning();
  return row!;
}

export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  const gone = await db.delete(endpoints).where(eq(endpoints.id, id)).returning();
  if (!gone.length) throw notFound(`Could not find endpoint: ${id}.`);
}
