import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { projects } from './tables.ts';

/** Keystone's bounds on project tags. */
export const MAX_TAGS = 80;
const MAX_TAG_LENGTH = 255;

/** The tags, each checked as Keystone checks them, duplicates dropped. */
export function checkTags(tags: string[]): string[] {
  for (const t of tags) {
    if (t.length < 1 || t.length > MAX_TAG_LENGTH) throw badRequest(`Invalid tag ${JSON.stringify(t)}: a tag has 1 to ${MAX_TAG_LENGTH} characters.`);
    if (/[,/]/.test(t)) throw badRequest(`Invalid tag ${JSON.stringify(t)}: a tag cannot contain ',' or '/'.`);
  }
  const unique = [...new Set(tags)];
  if (unique.length > MAX_TAGS) throw badRequest(`A project has at most ${MAX_TAGS} tags.`);
  return unique;
}

/** The four tag filters of GET /v3/projects, each a comma-separated list. */
export interface TagFilter {
  all?: string[];
  any?: string[];
  notAll?: string[];
  notAny?: string[];
}

export function matchesTags(tags: string[], f: TagFilter): boolean {
  const has = (t: string) => tags.includes(t);
  return (!f.all || f.all.every(has)) && (!f.any || f.any.some(has)) && (!f.notAll || !f.notAll.every(has)) && (!f.notAny || !f.notAny.some(has));
}

export async function tagsOf(db: Db, projectId: string): Promise<string[]> {
  const [row] = await db.select({ tags: projects.tags }).from(projects).where(eq(projects.id, projectId));
  if (!row) throw notFound(`Could not find project: ${projectId}.`);
  return row.tags;
}

export async function setTags(db: Db, projectId: string, tags: string[]): Promise<string[]> {
  const [row] = await db
    .update(projects)
    .set({ tags: checkTags(tags) })
    .where(eq(projects.id, projectId))
    .returning({ tags: projects.tags });
  if (!row) throw notFound(`Could not find project: ${projectId}.`);
  return row.tags;
}

export async function addTag(db: Db, projectId: string, tag: string): Promise<string[]> {
  const tags = await tagsOf(db, projectId);
  return tags.includes(tag) ? tags : setTags(db, projectId, [...tags, tag]);
}

export async function checkTag(db: Db, projectId: string, tag: string): Promise<void> {
  if (!(await tagsOf(db, projectId)).includes(tag)) throw notFound(`Tag ${tag} was not found on project ${projectId}.`);
}

export async function removeTag(db: Db, projectId: string, tag: string): Promise<void> {
  const tags = await tagsOf(db, projectId);
  if (!tags.includes(tag)) throw notFound(`Tag ${tag} was not found on project ${projectId}.`);
  await setTags(
    db,
    projectId,
    tags.filter((t) => t !== tag),
  );
}
