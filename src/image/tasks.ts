import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import { badRequest, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { tasks } from './tables.ts';

export type Task = typeof tasks.$inferSelect;

/** Glance keeps a finished task for 48 hours, and says so in expires_at. */
const KEEP_MS = 48 * 3600 * 1000;

/** Glance's name for the task an interoperable import runs as. */
export const IMPORT_TASK = 'api_image_import';

export async function createTask(
  tx: Db,
  t: { owner: string; userId: string; imageId: string; requestId?: string; input: Record<string, unknown> },
): Promise<Task> {
  const [row] = await tx
    .insert(tasks)
    .values({ id: randomUUID(), type: IMPORT_TASK, status: 'processing', ...t })
    .returning();
  return row!;
}

/** Ends a task: success with its result, or failure with a message for people. */
export async function finishTask(db: Db, id: string, outcome: { result: Record<string, unknown> } | { message: string }): Promise<void> {
  const now = new Date();
  const done = 'result' in outcome ? { status: 'success' as const, result: outcome.result } : { status: 'failure' as const, message: outcome.message };
  await db
    .update(tasks)
    .set({ ...done, updatedAt: now, expiresAt: new Date(now.getTime() + KEEP_MS) })
    .where(eq(tasks.id, id));
}

export async function getTask(db: Db, id: string): Promise<Task> {
  const [row] = await db.select().from(tasks).where(eq(tasks.id, id));
  if (!row) throw notFound(`Task with identifier ${id} could not be found`);
  return row;
}

export const tasksOfImage = (db: Db, imageId: string) => db.select().from(tasks).where(eq(tasks.imageId, imageId)).orderBy(asc(tasks.createdAt), asc(tasks.id));

export interface TaskQuery {
  type?: string;
  status?: string;
  limit?: string;
  marker?: string;
  sort_key?: string;
  sort_dir?: string;
}

const SORT_KEYS = { created_at: tasks.createdAt, updated_at: tasks.updatedAt, status: tasks.status, type: tasks.type, id: tasks.id } as const;

/** GET /v2/tasks: filtered by type and status, sorted by one key, paged by marker. */
export async function listTasks(db: Db, q: TaskQuery): Promise<{ tasks: Task[]; limit: number }> {
  const limit = q.limit === undefined ? 25 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest('limit param must be positive');
  const key = (q.sort_key ?? 'created_at') as keyof typeof SORT_KEYS;
  const column = SORT_KEYS[key];
  if (!column) throw badRequest(`Invalid sort key: ${q.sort_key}. It must be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
  const dir = q.sort_dir ?? 'desc';
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}. It must be one of the following: asc, desc.`);
  const conds: (SQL | undefined)[] = [];
  if (q.type) conds.push(eq(tasks.type, q.type));
  if (q.status) conds.push(eq(tasks.status, q.status as Task['status']));
  if (q.marker) {
    const [m] = await db.select().from(tasks).where(eq(tasks.id, q.marker));
    if (!m) throw badRequest(`Invalid marker. Task ${q.marker} could not be found.`);
    const beyond = dir === 'asc' ? gt : lt;
    const at = m[key as keyof Task] as never;
    conds.push(or(beyond(column, at), and(eq(column, at), beyond(tasks.id, m.id))));
  }
  const order = dir === 'asc' ? asc : desc;
  const rows = await db
    .select()
    .from(tasks)
    .where(and(...conds))
    .orderBy(order(column), order(tasks.id))
    .limit(Math.min(limit, 1000));
  return { tasks: rows, limit: Math.min(limit, 1000) };
}

/** Marks the tasks a restart interrupted as failed. */
export async function failInterrupted(db: Db): Promise<void> {
  const now = new Date();
  await db
    .update(tasks)
    .set({
      status: 'failure',
      message: 'The import was interrupted by a restart of the image service.',
      updatedAt: now,
      expiresAt: new Date(now.getTime() + KEEP_MS),
    })
    .where(or(eq(tasks.status, 'processing'), eq(tasks.status, 'pending')));
}
