import { and, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { assignments, domains, projects } from './tables.ts';
import { newId, unique } from './ids.ts';
import { findDomain, getDomain } from './domains.ts';

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

export async function listProjects(db: Db, filter: { name?: string; domainId?: string; enabled?: boolean }): Promise<Project[]> {
  const where: SQL[] = [];
  if (filter.name !== undefined) where.push(eq(projects.name, filter.name));
  if (filter.domainId !== undefined) where.push(eq(projects.domainId, filter.domainId));
  if (filter.enabled !== undefined) where.push(eq(projects.enabled, filter.enabled));
  return db
    .select()
    .from(projects)
    .where(and(...where))
    .orderBy(projects.name);
}

export interface ProjectInput {
  name: string;
  domainId: string;
  description?: string;
  enabled?: boolean;
  tags?: string[];
}

export async function createProject(db: Db, input: ProjectInput): Promise<Project> {
  await getDomain(db, input.domainId);
  const [row] = await unique(
    db
      .insert(projects)
      .values({
        id: newId(),
        name: input.name,
        domainId: input.domainId,
        description: input.description ?? '',
        enabled: input.enabled ?? true,
        tags: input.tags ?? [],
      })
      .returning(),
    `${input.name} at domain ID ${input.domainId}`,
  );
  return row!;
}

export async function updateProject(db: Db, id: string, patch: Partial<Omit<ProjectInput, 'domainId'>>): Promise<Project> {
  // Only the attributes the API changes: other keys of the body must not reach the columns.
  const set = { name: patch.name, description: patch.description, enabled: patch.enabled, tags: patch.tags };
  if (Object.values(set).every((v) => v === undefined)) return getProject(db, id);
  const [row] = await unique(db.update(projects).set(set).where(eq(projects.id, id)).returning(), patch.name ?? id);
  if (!row) throw notFound(`Could not find project: ${id}.`);
  return row;
}

export async function deleteProject(db: Db, id: string): Promise<void> {
  await getProject(db, id);
  await db.delete(assignments).where(and(eq(assignments.targetType, 'project'), eq(assignments.targetId, id)));
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

/** The projects on which a user holds a role. */
export async function userProjects(db: Db, userId: string): Promise<Project[]> {
  return db
    .selectDistinct({ project: projects })
    .from(projects)
    .innerJoin(assignments, and(eq(assignments.targetType, 'project'), eq(assignments.targetId, projects.id)))
    .where(eq(assignments.userId, userId))
    .orderBy(projects.name)
    .then((rows) => rows.map((r) => r.project));
}
