// Nova's instance actions: every request that changes a server leaves a record of who asked what,
// and the steps its host carried out (events) with their results. The API records the action and
// its event in the request's transaction; the event is done once the agent reports the server's
// spec carried out (level-based: settleActions compares, nothing is pushed to it).

import { and, asc, desc, eq, gte, isNull, lt, lte, or, type SQL } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Db } from '../lib/store/db.ts';
import { faultOf, type Server } from './servers.ts';
import { serverAttachments } from '../volume/attachments.ts';
import { instanceActionEvents, instanceActions, servers, snapshots, type EventAwaits } from './tables.ts';

export type InstanceAction = typeof instanceActions.$inferSelect;
export type InstanceActionEvent = typeof instanceActionEvents.$inferSelect;

/** Who asked: the caller and the request's id (Nova's req-<uuid>, the x-openstack-request-id). */
export interface ActionContext {
  auth: AuthContext;
  requestId: string;
}

export interface ActionRecord {
  /** Nova's name of the action: create, delete, stop, start, reboot, pause, createImage, resize… */
  action: string;
  /** The host's step, named as Nova's compute manager names it (compute_stop_instance…); none
   * for an action the API carries out alone (lock, resetState). */
  event?: string;
  /** What the event waits for; by default the server's spec as it is now in this transaction
   * (its generation and reboots), which suits any action that changed the spec. */
  awaits?: EventAwaits;
  /** An event already carried out in the request itself, with its result and the host it ran on. */
  done?: { result: 'Success' | 'Error'; host: string | null; details?: string };
}

/**
 * Records an action on a server inside the request's transaction, after the spec change it stands
 * for (so that the event waits for that spec). Every server action calls it — resize, rebuild,
 * shelve, suspend, rescue and the rest too — with Nova's action and event names; the event is
 * settled when the agent reports (settleActions), so no agent code names actions.
 */
export async function recordAction(tx: Db, ctx: ActionContext, serverId: string, rec: ActionRecord): Promise<void> {
  const [s] = await tx
    .select({ projectId: servers.projectId, generation: servers.generation, reboots: servers.reboots })
    .from(servers)
    .where(eq(servers.id, serverId));
  if (!s) return;
  const [action] = await tx
    .insert(instanceActions)
    .values({ serverId, projectId: s.projectId, userId: ctx.auth.userId, requestId: ctx.requestId, action: rec.action })
    .returning({ id: instanceActions.id });
  if (rec.event) {
    const awaits = rec.awaits ?? { generation: s.generation, reboots: s.reboots };
    const done = rec.done && { finishTime: new Date(), result: rec.done.result, host: rec.done.host, details: rec.done.details ?? null };
    await tx.insert(instanceActionEvents).values({ actionId: action!.id, event: rec.event, awaits, ...done });
    if (rec.done?.result === 'Error') await tx.update(instanceActions).set({ message: 'Error' }).where(eq(instanceActions.id, action!.id));
  }
}

/** Open events of a server, oldest first. */
async function openEvents(db: Db, serverId: string) {
  return db
    .select({ event: instanceActionEvents, actionId: instanceActions.id })
    .from(instanceActionEvents)
    .innerJoin(instanceActions, eq(instanceActions.id, instanceActionEvents.actionId))
    .where(and(eq(instanceActions.serverId, serverId), isNull(instanceActionEvents.finishTime)))
    .orderBy(asc(instanceActionEvents.id));
}

async function finish(db: Db, actionId: number, eventId: number, host: string | null, result: 'Success' | 'Error', fault?: Server['fault']) {
  const now = new Date();
  await db
    .update(instanceActionEvents)
    .set({ finishTime: now, host, result, traceback: fault?.details ?? null, details: fault?.message ?? null })
    .where(eq(instanceActionEvents.id, eventId));
  await db
    .update(instanceActions)
    .set({ updatedAt: now, ...(result === 'Error' ? { message: 'Error' } : {}) })
    .where(eq(instanceActions.id, actionId));
}

/**
 * Closes the server's events that its observed state has caught up with (Success), or all of them
 * once it is in error (Error, with the fault). Called by the agent after each report; idempotent.
 */
export async function settleActions(db: Db, s: Server): Promise<void> {
  const open = await openEvents(db, s.id);
  if (!open.length) return;
  const pending = new Set((await db.select({ id: snapshots.imageId }).from(snapshots).where(eq(snapshots.serverId, s.id))).map((r) => r.id));
  const attachmentsById = new Map((await serverAttachments(db, s.id)).map((r) => [r.id, r]));
  for (const { event, actionId } of open) {
    if (s.vmState === 'error') {
      await finish(db, actionId, event.id, s.host, 'Error', s.fault);
      continue;
    }
    const a = event.awaits;
    const detach = a.detachOf === undefined ? undefined : attachmentsById.get(a.detachOf);
    if (detach?.status === 'error_detaching') {
      // The guest kept the volume: the detach failed, and says why.
      await finish(db, actionId, event.id, s.host, 'Error', faultOf(detach.fault ?? `The guest did not release volume ${detach.volumeId}`));
      continue;
    }
    if (detach) continue;
    const done =
      s.vmState !== 'building' &&
      (a.generation === undefined || s.observedGeneration >= a.generation) &&
      (a.reboots === undefined || s.observedReboots >= a.reboots) &&
      (a.snapshotImageId === undefined || !pending.has(a.snapshotImageId));
    if (done) await finish(db, actionId, event.id, s.host, 'Success');
  }
}

/** Ends every open event of a server in error, with the fault that says why: a move that failed
 * while the server itself goes on as it was. */
export async function failActions(db: Db, serverId: string, host: string, fault: Server['fault']): Promise<void> {
  for (const { event, actionId } of await openEvents(db, serverId)) await finish(db, actionId, event.id, host, 'Error', fault);
}

/** Closes what is still open of a server whose record goes for good: its delete is done. */
export async function settleDeleted(tx: Db, s: Server): Promise<void> {
  for (const { event, actionId } of await openEvents(tx, s.id)) await finish(tx, actionId, event.id, s.host, 'Success');
}

export interface ActionPage {
  limit?: number;
  /** A request id: the actions after it. */
  marker?: string;
  changesSince?: Date;
  changesBefore?: Date;
}

/** The project a server's actions belong to, for a server that may be gone (2.21). */
export async function actionsProject(db: Db, serverId: string): Promise<string | undefined> {
  const [row] = await db.select({ projectId: instanceActions.projectId }).from(instanceActions).where(eq(instanceActions.serverId, serverId)).limit(1);
  return row?.projectId;
}

/** A server's actions, newest first, as Nova lists them (by start time, then id). */
export async function listActions(db: Db, serverId: string, page: ActionPage = {}): Promise<InstanceAction[] | 'bad-marker'> {
  const where: (SQL | undefined)[] = [eq(instanceActions.serverId, serverId)];
  if (page.changesSince) where.push(gte(instanceActions.updatedAt, page.changesSince));
  if (page.changesBefore) where.push(lte(instanceActions.updatedAt, page.changesBefore));
  if (page.marker !== undefined) {
    const [m] = await db
      .select()
      .from(instanceActions)
      .where(and(eq(instanceActions.serverId, serverId), eq(instanceActions.requestId, page.marker)));
    if (!m) return 'bad-marker';
    where.push(or(lt(instanceActions.startTime, m.startTime), and(eq(instanceActions.startTime, m.startTime), lt(instanceActions.id, m.id))));
  }
  const q = db
    .select()
    .from(instanceActions)
    .where(and(...where))
    .orderBy(desc(instanceActions.startTime), desc(instanceActions.id));
  return page.limit !== undefined ? q.limit(page.limit) : q;
}

export async function getAction(db: Db, serverId: string, requestId: string): Promise<{ action: InstanceAction; events: InstanceActionEvent[] } | undefined> {
  const [action] = await db
    .select()
    .from(instanceActions)
    .where(and(eq(instanceActions.serverId, serverId), eq(instanceActions.requestId, requestId)))
    .orderBy(desc(instanceActions.id))
    .limit(1);
  if (!action) return undefined;
  const events = await db.select().from(instanceActionEvents).where(eq(instanceActionEvents.actionId, action.id)).orderBy(asc(instanceActionEvents.id));
  return { action, events };
}
