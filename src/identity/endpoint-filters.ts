import { and, eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { endpointGroups, endpoints, projectEndpointGroups, projectEndpoints } from './tables.ts';
import { getProject } from './projects.ts';
import { newId } from './ids.ts';

// OS-EP-FILTER: a project given endpoints (one by one, or as groups matching a filter) sees only
// those in its tokens' catalog.

export type EndpointGroup = typeof endpointGroups.$inferSelect;
export type EndpointFilter = EndpointGroup['filters'];
type Endpoint = typeof endpoints.$inferSelect;

const FILTER_KEYS = ['service_id', 'region_id', 'interface'] as const;

function checkFilters(filters: Record<string, unknown> | undefined): EndpointFilter {
  if (!filters || Object.keys(filters).length === 0) throw badRequest('filters field is required and cannot be empty');
  for (const [key, value] of Object.entries(filters)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key)) {
      throw badRequest(`Invalid filter ${key}: an endpoint group filters on ${FILTER_KEYS.join(' or ')}.`);
    }
    if (typeof value !== 'string') throw badRequest(`Invalid filter ${key}: its value must be a string.`);
  }
  return filters as EndpointFilter;
}

/** Whether an endpoint has every property the filter names. */
export const matches = (filter: EndpointFilter, e: Pick<Endpoint, 'serviceId' | 'regionId' | 'interface'>) =>
  (filter.service_id === undefined || filter.service_id === e.serviceId) &&
  (filter.region_id === undefined || filter.region_id === e.regionId) &&
  (filter.interface === undefined || filter.interface === e.interface);

export async function getEndpointGroup(db: Db, id: string): Promise<EndpointGroup> {
  const [row] = await db.select().from(endpointGroups).where(eq(endpointGroups.id, id));
  if (!row) throw notFound(`Could not find Endpoint Group: ${id}.`);
  return row;
}

export async function listEndpointGroups(db: Db, filter: { name?: string } = {}): Promise<EndpointGroup[]> {
  return db
    .select()
    .from(endpointGroups)
    .where(filter.name !== undefined ? eq(endpointGroups.name, filter.name) : undefined)
    .orderBy(endpointGroups.name);
}

export async function createEndpointGroup(
  db: Db,
  input: { name: string; description?: string | null; filters?: Record<string, unknown> },
): Promise<EndpointGroup> {
  const [row] = await db
    .insert(endpointGroups)
    .values({ id: newId(), name: input.name, description: input.description ?? null, filters: checkFilters(input.filters) })
    .returning();
  return row!;
}

export async function updateEndpointGroup(
  db: Db,
  id: string,
  patch: { name?: string; description?: string | null; filters?: Record<string, unknown> },
): Promise<EndpointGroup> {
  await getEndpointGroup(db, id);
  const set: Partial<EndpointGroup> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.filters !== undefined) set.filters = checkFilters(patch.filters);
  if (Object.keys(set).length === 0) return getEndpointGroup(db, id);
  const [row] = await db.update(endpointGroups).set(set).where(eq(endpointGroups.id, id)).returning();
  return row!;
}

export async function deleteEndpointGroup(db: Db, id: string): Promise<void> {
  const gone = await db.delete(endpointGroups).where(eq(endpointGroups.id, id)).returning();
  if (!gone.length) throw notFound(`Could not find Endpoint Group: ${id}.`);
}

export async function endpointsOfGroup(db: Db, id: string): Promise<Endpoint[]> {
  const group = await getEndpointGroup(db, id);
  return (await db.select().from(endpoints)).filter((e) => matches(group.filters, e));
}

export async function addGroupToProject(db: Db, groupId: string, projectId: string): Promise<void> {
  await getProject(db, projectId);
  await getEndpointGroup(db, groupId);
  const [row] = await db.insert(projectEndpointGroups).values({ endpointGroupId: groupId, projectId }).onConflictDoNothing().returning();
  if (!row) throw conflict('Conflict occurred attempting to store project_endpoint_group - Duplicate entry.');
}

/** The association of a group with a project; 404 when there is none. */
export async function getGroupInProject(db: Db, groupId: string, projectId: string) {
  await getProject(db, projectId);
  await getEndpointGroup(db, groupId);
  const [row] = await db
    .select()
    .from(projectEndpointGroups)
    .where(and(eq(projectEndpointGroups.endpointGroupId, groupId), eq(projectEndpointGroups.projectId, projectId)));
  if (!row) throw notFound('Endpoint Group Project Association not found');
  return row;
}

export async function removeGroupFromProject(db: Db, groupId: string, projectId: string): Promise<void> {
  await getGroupInProject(db, groupId, projectId);
  await db.delete(projectEndpointGroups).where(and(eq(projectEndpointGroups.endpointGroupId, groupId), eq(projectEndpointGroups.projectId, projectId)));
}

export async function projectsOfGroup(db: Db, groupId: string): Promise<string[]> {
  await getEndpointGroup(db, groupId);
  const rows = await db.select().from(projectEndpointGroups).where(eq(projectEndpointGroups.endpointGroupId, groupId));
  return rows.map((r) => r.projectId);
}

export async function groupsOfProject(db: Db, projectId: string): Promise<EndpointGroup[]> {
  await getProject(db, projectId);
  const rows = await db
    .select({ group: endpointGroups })
    .from(projectEndpointGroups)
    .innerJoin(endpointGroups, eq(endpointGroups.id, projectEndpointGroups.endpointGroupId))
    .where(eq(projectEndpointGroups.projectId, projectId));
  return rows.map((r) => r.group);
}

export async function addEndpointToProject(db: Db, endpointId: string, projectId: string): Promise<void> {
  const [row] = await db.insert(projectEndpoints).values({ endpointId, projectId }).onConflictDoNothing().returning();
  if (!row) throw conflict('Conflict occurred attempting to store project_endpoint - Duplicate entry.');
}

/** 404 unless the endpoint was given to the project directly. */
export async function checkEndpointInProject(db: Db, endpointId: string, projectId: string): Promise<void> {
  const [row] = await db
    .select()
    .from(projectEndpoints)
    .where(and(eq(projectEndpoints.endpointId, endpointId), eq(projectEndpoints.projectId, projectId)));
  if (!row) throw notFound(`Endpoint ${endpointId} not found in project ${projectId}`);
}

export async function removeEndpointFromProject(db: Db, endpointId: string, projectId: string): Promise<void> {
  const gone = await db
    .delete(projectEndpoints)
    .where(and(eq(projectEndpoints.endpointId, endpointId), eq(projectEndpoints.projectId, projectId)))
    .returning();
  if (!gone.length) throw notFound(`Endpoint ${endpointId} not found in project ${projectId}`);
}

export async function projectsOfEndpoint(db: Db, endpointId: string): Promise<string[]> {
  const rows = await db.select().from(projectEndpoints).where(eq(projectEndpoints.endpointId, endpointId));
  return rows.map((r) => r.projectId);
}

/**
 * Per project with any filter, the endpoints it may see: those given directly and those its
 * groups match. A project whose filters match nothing sees the whole catalog, as in Keystone.
 */
export async function projectFilters(db: Db): Promise<Map<string, Set<string>>> {
  const [all, direct, grouped] = await Promise.all([
    db.select().from(endpoints),
    db.select().from(projectEndpoints),
    db
      .select({ projectId: projectEndpointGroups.projectId, filters: endpointGroups.filters })
      .from(projectEndpointGroups)
      .innerJoin(endpointGroups, eq(endpointGroups.id, projectEndpointGroups.endpointGroupId)),
  ]);
  const out = new Map<string, Set<string>>();
  const add = (projectId: string, endpointId: string) => {
    let set = out.get(projectId);
    if (!set) out.set(projectId, (set = new Set()));
    set.add(endpointId);
  };
  for (const d of direct) add(d.projectId, d.endpointId);
  for (const g of grouped) for (const e of all) if (matches(g.filters, e)) add(g.projectId, e.id);
  return out;
}

/** The endpoints a project sees through its filters (none when it has no filter). */
export async function endpointsOfProject(db: Db, projectId: string): Promise<Endpoint[]> {
  await getProject(db, projectId);
  const ids = (await projectFilters(db)).get(projectId) ?? new Set();
  return (await db.select().from(endpoints)).filter((e) => ids.has(e.id));
}
