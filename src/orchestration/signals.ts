import { timingSafeEqual } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import type { ResourceRow, StackRow } from './stack-template.ts';
import { stackResources, stacks } from './tables.ts';
import type { Signal } from './resources/wait.ts';

// A WaitConditionHandle's signals live in its row's data, keyed by their id, where the
// WaitCondition waiting on it reads them.

/** The signals of a handle of the project, by its id; undefined when the project has none such. */
export async function signalsOf(db: Db, projectId: string, handleId: string): Promise<Record<string, Signal> | undefined> {
  const rows = await db
    .select({ data: stackResources.data })
    .from(stackResources)
    .innerJoin(stacks, eq(stacks.id, stackResources.stackId))
    .where(and(eq(stacks.projectId, projectId), eq(stackResources.physicalId, handleId)));
  const found = rows.find((r) => typeof r.data.token === 'string');
  return found ? ((found.data.signals ?? {}) as Record<string, Signal>) : undefined;
}

/** Whether a token is the handle's own (compared in constant time). */
export function holdsToken(row: ResourceRow, token: string): boolean {
  const own = row.data.token;
  if (typeof own !== 'string' || own.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(own), Buffer.from(token));
}

/** Records one signal as Heat reads it: missing values default to a success numbered after
 * those already received; a signal with an id already received replaces it. */
export async function recordSignal(db: Db, stack: StackRow, row: ResourceRow, body: unknown): Promise<void> {
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) throw badRequest('The signal must be a JSON object.');
  const given = (body ?? {}) as Record<string, unknown>;
  const number = Object.keys((row.data.signals ?? {}) as object).length + 1;
  const status = given.status ?? 'SUCCESS';
  if (status !== 'SUCCESS' && status !== 'FAILURE') throw badRequest(`Invalid status ${JSON.stringify(status)}: it must be SUCCESS or FAILURE.`);
  const id = given.id === undefined || given.id === null ? String(number) : String(given.id);
  const signal: Signal = {
    status,
    reason: given.reason === undefined || given.reason === null ? `Signal ${number} received` : String(given.reason),
    data: given.data ?? null,
  };
  // One statement, so that signals arriving together are all kept.
  await db
    .update(stackResources)
    .set({
      data: sql`jsonb_set(${stackResources.data}, '{signals}', coalesce(${stackResources.data}->'signals', '{}'::jsonb) || ${JSON.stringify({ [id]: signal })}::jsonb)`,
    })
    .where(and(eq(stackResources.stackId, stack.id), eq(stackResources.name, row.name)));
}
