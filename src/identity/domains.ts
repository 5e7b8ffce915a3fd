import { and, eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import { assignments, domains, groupAssignments, groups, projects, users } from './tables.ts';
import { newId, unique } from './ids.ts';

export type Domain = typeof domains.$inferSelect;

export async function getDomain(db: Db, id: string): Promise<Domain> {
  const [row] = await db.select().from(domains).where(eq(domains.id, id));
  if (!row) throw notFound(`Could not find domain: ${id}.`);
  return row;
}

/** A domain named by id, or by name when no domain has that id (as the CLI resolves names). */
export async function findDomain(db: Db, ref: { id?: string; name?: string }): Promise<Domain> {
  if (ref.id) return getDomain(db, ref.id);
  if (!ref.name) throw badRequest('A domain must be given by id or name.');
  const [row] = await db.select().from(domains).where(eq(domains.name, ref.name));
  if (!row) throw notFound(`Could not find domain: ${ref.name}.`);
  return row;
}

export async function createDomain(db: Db, input: { id?: string; name: string; description?: string | null; enabled?: boolean }): Promise<Domain> {
  const [row] = await unique(
    db
      .insert(domains)
      .values({ id: input.id ?? newId(), name: input.name, description: input.description ?? '', enabled: input.enabled ?? true })
      .returning(),
    input.name,
  );
  return row!;
}

export async function updateDomain(db: Db, id: string, patch: { name?: string; description?: string | null; enabled?: boolean }): Promise<Domain> {
  // Only the attributes the API changes: other keys of the body must not reach the columns.
  const set = { name: patch.name, description: patch.description === null ? '' : patch.description, enabled: patch.enabled };
  if (Object.values(set).every((v) => v === undefined)) return getDomain(db, id);
  const [row] = await unique(db.update(domains).set(set).where(eq(domains.id, id)).returning(), patch.name ?? id);
  if (!row) throw notFound(`Could not find domain: ${id}.`);
  return row;
}

/** Keystone refuses to delete an enabled domain, and we refuse one that still owns anything. */
export async function deleteDomain(db: Db, id: string): Promise<void> {
  const domain = await getDomain(db, id);
  if (domain.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
  const [project] = await db.select({ id: projects.id }).from(projects).where(eq(projects.domainId, id)).limit(1);
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.domainId, id)).limit(1);
  const [group] = await db.select({ id: groups.id }).from(groups).where(eq(groups.domainId, id)).limit(1);
  if (project || user || group) throw conflict(`Domain ${id} still owns projects, users or groups.`);
  for (const t of [assignments, groupAssignments]) await db.delete(t).where(and(eq(t.targetType, 'domain'), eq(t.targetId, id)));
  await db.delete(domains).where(eq(domains.id, id));
}
