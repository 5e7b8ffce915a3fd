import { and, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, forbidden, notFound } from '../lib/errors.ts';
import { assignments, domains, groupAssignments, projects } from './tables.ts';
import { newId, unique } from './ids.ts';
import { findDomain, getDomain } from './domains.ts';
import { projectIdsOf } from './assignments.ts';
import { ancestorsOf, MAX_TREE_DEPTH, subtreeOf } from './project-tree.ts';
import { checkTags, matchesTags, type TagFilter } from './project-tags.ts';

export type Project = typeof projects.$inferSelect;

export async function getProject(db: Db, id: string): Promise<Project> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  if (!row) throw notFound(`Could not find project: ${id}.`);
  return row;
}

/** A project by id, or by name within a domain (by id or name). */
export async function findProject(db: Db, ref: { id?: string; name?: string; domain?: { id?: string; name?: string } }): Promise<Project> {
  if (ref.id) return getProject(db, ref.id);
  if (!ref.name || !ref.domain) throw badRequest('A project must be given by id, or by name and domain.');
  const domain = await findDomain(db, ref.domain);
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.name, ref.name), eq(projects.domainId, domain.id)));
  if (!row) throw notFound(`Could not find project: ${ref.name}.`);
  return row;
}

export interface ProjectFilter {
  name?: string;
  domainId?: string;
  parentId?: string;
  enabled?: boolean;
  tags?: TagFilter;
}

export async function listProjects(db: Db, filter: ProjectFilter): Promise<Project[]> {
  const where: SQL[] = [];
  if (filter.name !== undefined) where.push(eq(projects.name, filter.name));
  if (filter.domainId !== undefined) where.push(eq(projects.domainId, filter.domainId));
  if (filter.enabled !== undefined) where.push(eq(projects.enabled, filter.enabled));
  // A domain's id as the parent names the projects at its top.
  if (filter.parentId !== undefined)
    where.push(or(eq(projects.parentId, filter.parentId), and(isNull(projects.parentId), eq(projects.domainId, filter.parentId)))!);
  const rows = await db
    .select()
    .from(projects)
    .where(and(...where))
    .orderBy(projects.name);
  return filter.tags ? rows.filter((p) => matchesTags(p.tags, filter.tags!)) : rows;
}

export interface ProjectInput {
  name: string;
  domainId?: string;
  /** A project, or the domain (the top of its tree); none for the top of `domainId`. */
  parentId?: string | null;
  description?: string | null;
  enabled?: boolean;
  tags?: string[];
}

/** Where a new project goes: under its parent, in the parent's domain, at most MAX_TREE_DEPTH deep. */
async function placement(db: Db, input: ProjectInput): Promise<{ domainId: string; parentId: string | null }> {
  const parentId = input.parentId ?? null;
  const parent = parentId === null ? undefined : (await db.select().from(projects).where(eq(projects.id, parentId)))[0];
  if (parentId !== null && !parent) {
    // Keystone names a domain as the parent of the projects at its top.
    const domain = await getDomain(db, parentId).catch(() => undefined);
    if (!domain) throw notFound(`Could not find project: ${parentId}.`);
    if (input.domainId !== undefined && input.domainId !== domain.id)
      throw badRequest(`Cannot create project, the parent (${parentId}) is in a different domain.`);
    return { domainId: domain.id, parentId: null };
  }
  if (!parent) {
    if (input.domainId === undefined) throw badRequest('A project needs a domain.');
    await getDomain(db, input.domainId);
    return { domainId: input.domainId, parentId: null };
  }
  if (input.domainId !== undefined && input.domainId !== parent.domainId)
    throw badRequest(`Cannot create project, the parent (${parent.id}) is in a different domain.`);
  // The parent's depth is one more than its ancestors' count; the new project goes one below.
  const up = await ancestorsOf(db, parent.id);
  if (up.length + 2 > MAX_TREE_DEPTH) throw forbidden(`Max hierarchy depth reached for ${parent.id} branch.`);
  const disabled = [parent, ...up].find((p) => !p.enabled);
  if (disabled) throw badRequest(`cannot create a project in a branch containing a disabled project: ${disabled.id}`);
  return { domainId: parent.domainId, parentId: parent.id };
}

export async function createProject(db: Db, input: ProjectInput): Promise<Project> {
  const where = await placement(db, input);
  const [row] = await unique(
    db
      .insert(projects)
      .values({
        id: newId(),
        name: input.name,
        ...where,
        description: input.description ?? '',
        enabled: input.enabled ?? true,
        tags: checkTags(input.tags ?? []),
      })
      .returning(),
    `${input.name} at domain ID ${where.domainId}`,
  );
  return row!;
}

export async function updateProject(db: Db, id: string, patch: Partial<Omit<ProjectInput, 'domainId' | 'parentId'>>): Promise<Project> {
  // Only the attributes the API changes: other keys of the body must not reach the columns.
  const set = {
    name: patch.name,
    description: patch.description === null ? '' : patch.description,
    enabled: patch.enabled,
    tags: patch.tags && checkTags(patch.tags),
  };
  if (Object.values(set).every((v) => v === undefined)) return getProject(db, id);
  if (patch.enabled !== undefined) await checkEnabledInTree(db, await getProject(db, id), patch.enabled);
  const [row] = await unique(db.update(projects).set(set).where(eq(projects.id, id)).returning(), patch.name ?? id);
  if (!row) throw notFound(`Could not find project: ${id}.`);
  return row;
}

/** As Keystone: a project is enabled only under enabled parents, and disabled only over a
 * disabled subtree. */
async function checkEnabledInTree(db: Db, project: Project, enabled: boolean): Promise<void> {
  if (enabled === project.enabled) return;
  const rows = enabled ? await ancestorsOf(db, project.id) : await subtreeOf(db, project.id);
  if (enabled && rows.some((r) => !r.enabled)) throw forbidden(`Cannot enable project ${project.id} since it has disabled parents`);
  if (!enabled && rows.some((r) => r.enabled)) throw forbidden(`Cannot disable project ${project.id} since its subtree contains enabled projects.`);
}

/** Keystone deletes only leaves of the tree; grants on the project go with it. */
export async function deleteProject(db: Db, id: string): Promise<void> {
  await getProject(db, id);
  const [child] = await db.select({ id: projects.id }).from(projects).where(eq(projects.parentId, id)).limit(1);
  if (child)
    throw forbidden(`Cannot delete the project ${id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
  for (const t of [assignments, groupAssignments]) await db.delete(t).where(and(eq(t.targetType, 'project'), eq(t.targetId, id)));
  await db.delete(projects).where(eq(projects.id, id));
}

/** The project with its domain's name, as tokens show it. */
export async function projectWithDomain(db: Db, id: string) {
  const [row] = await db
    .select({ project: projects, domainName: domains.name, domainEnabled: domains.enabled })
    .from(projects)
    .innerJoin(domains, eq(domains.id, projects.domainId))
    .where(eq(projects.id, id));
  return row;
}

/** The projects on which a user holds a role: its own, its groups', or inherited from above. */
export async function userProjects(db: Db, userId: string): Promise<Project[]> {
  const ids = [...(await projectIdsOf(db, userId))];
  if (!ids.length) return [];
  return db.select().from(projects).where(inArray(projects.id, ids)).orderBy(projects.name);
}
