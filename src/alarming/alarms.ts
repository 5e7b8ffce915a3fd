import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, type SQL } from 'drizzle-orm';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { findResource } from '../telemetry/resources.ts';
import type { Caller } from '../telemetry/types.ts';
import { ALARM_TYPES, readRule, type AlarmType, type ThresholdRule } from './rules.ts';
import { alarmHistory, alarms } from './tables.ts';

export type AlarmRow = typeof alarms.$inferSelect;
export type HistoryRow = typeof alarmHistory.$inferSelect;

/** The store channel that wakes the evaluator for an alarm created or changed. */
export const ALARM_CHANNEL = 'alarming_alarms';

export const STATES = ['ok', 'alarm', 'insufficient data'] as const;
export type AlarmState = (typeof STATES)[number];
export const SEVERITIES = ['low', 'moderate', 'critical'] as const;
const MAX_ACTIONS = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An alarm is its project's; an admin sees every project's. */
export const visibleAlarm = (c: Caller): SQL | undefined => (c.admin ? undefined : eq(alarms.projectId, c.projectId));

function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw badRequest(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  return v as T;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw badRequest(`${what} must be a boolean, not ${JSON.stringify(v)}`);
}

function shortText(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length > max || v.includes('\u0000')) throw badRequest(`${what} must be a string of at most ${max} characters`);
  return v;
}

/** Webhooks the evaluator POSTs to (http, https), or log:// to only log the transition. */
function actions(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`${what} must be a list of URLs`);
  const out = [...new Set(v)];
  if (out.length > MAX_ACTIONS) throw badRequest(`${what} holds at most ${MAX_ACTIONS} actions`);
  for (const a of out) {
    let url: URL | undefined;
    try {
      url = typeof a === 'string' && a.length <= 2048 ? new URL(a) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:', 'log:'].includes(url.protocol)) throw badRequest(`Unsupported action ${JSON.stringify(a)}: an action is an http, https or log URL`);
  }
  return out as string[];
}

const defaultDescription = (r: ThresholdRule) => `Alarm when ${r.metric} is ${r.comparison_operator} a ${r.aggregation_method} of ${r.threshold} over ${r.granularity} seconds`;

/** Who the alarm is for: the caller's project and user unless an admin names others. */
function owner(caller: Caller, body: Record<string, unknown>): { projectId: string; userId: string } {
  const projectId = body.project_id === undefined || body.project_id === null ? caller.projectId : shortText(body.project_id, 'project_id', 255);
  const userId = body.user_id === undefined || body.user_id === null ? caller.userId : shortText(body.user_id, 'user_id', 255);
  if (!caller.admin && (projectId !== caller.projectId || userId !== caller.userId)) throw forbidden('Not authorized to create an alarm for another project or user');
  return { projectId, userId };
}

/** The rule checked against what the alarm's project may see: its resource must exist. */
async function checkedRule(db: Db, type: AlarmType, input: unknown, projectId: string): Promise<ThresholdRule> {
  const rule = readRule(type, input);
  if (rule.resource_id !== undefined) {
    await findResource(db, { userId: '', projectId, admin: false }, rule.resource_type, rule.resource_id).catch(() => {
      throw badRequest(`Resource ${rule.resource_id} of type ${rule.resource_type} does not exist`);
    });
  }
  return rule;
}

async function record(tx: Db, a: AlarmRow, type: string, detail: unknown, by: Caller | undefined, at = new Date()): Promise<void> {
  await tx.insert(alarmHistory).values({
    eventId: randomUUID(),
    alarmId: a.id,
    type,
    detail: JSON.stringify(detail),
    timestamp: at,
    userId: by?.userId ?? a.userId,
    projectId: by?.projectId ?? a.projectId,
    onBehalfOf: a.projectId,
    severity: a.severity,
  });
}

/** Reads a create's or a full update's body (Aodh's PUT replaces the alarm) over `base`. */
async function readAlarm(db: Db, caller: Caller, body: unknown, base?: AlarmRow): Promise<AlarmRow> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be an alarm object');
  const b = body as Record<string, unknown>;
  const type = oneOf(b.type ?? base?.type, ALARM_TYPES, 'type');
  const who = base && b.project_id === undefined && b.user_id === undefined ? { projectId: base.projectId, userId: base.userId } : owner(caller, b);
  if (base && !caller.admin && who.projectId !== base.projectId) throw forbidden('Not authorized to move an alarm to another project');
  const rule = await checkedRule(db, type, b[`${type}_rule`] ?? (base?.type === type ? base.rule : undefined), who.projectId);
  if (b.time_constraints !== undefined && b.time_constraints !== null && !(Array.isArray(b.time_constraints) && b.time_constraints.length === 0)) {
    throw badRequest('time_constraints are not supported');
  }
  const now = new Date();
  const name = b.name ?? base?.name;
  if (typeof name !== 'string' || name.trim() === '') throw badRequest('name is required');
  return {
    id: base?.id ?? randomUUID(),
    name: shortText(name, 'name', 255),
    description: b.description === undefined || b.description === null ? (base?.description ?? defaultDescription(rule)) : shortText(b.description, 'description', 255),
    type,
    rule: rule as unknown as Record<string, unknown>,
    enabled: b.enabled === undefined ? (base?.enabled ?? true) : bool(b.enabled, 'enabled'),
    severity: b.severity === undefined ? (base?.severity ?? 'low') : oneOf(b.severity, SEVERITIES, 'severity'),
    state: b.state === undefined ? (base?.state ?? 'insufficient data') : oneOf(b.state, STATES, 'state'),
    stateReason: base?.stateReason ?? 'Not evaluated yet',
    stateTimestamp: base?.stateTimestamp ?? now,
    timestamp: now,
    evaluateTimestamp: base?.evaluateTimestamp ?? null,
    repeatActions: b.repeat_actions === undefined ? (base?.repeatActions ?? false) : bool(b.repeat_actions, 'repeat_actions'),
    alarmActions: b.alarm_actions === undefined ? (base?.alarmActions ?? []) : actions(b.alarm_actions, 'alarm_actions'),
    okActions: b.ok_actions === undefined ? (base?.okActions ?? []) : actions(b.ok_actions, 'ok_actions'),
    insufficientDataActions: b.insufficient_data_actions === undefined ? (base?.insufficientDataActions ?? []) : actions(b.insufficient_data_actions, 'insufficient_data_actions'),
    timeConstraints: [],
    ...who,
  };
}

async function uniqueName(tx: Db, a: AlarmRow): Promise<void> {
  const [other] = await tx.select({ id: alarms.id }).from(alarms).where(and(eq(alarms.projectId, a.projectId), eq(alarms.name, a.name)));
  if (other && other.id !== a.id) throw conflict(`Alarm with name='${a.name}' exists`);
}

export async function createAlarm(tx: Db, caller: Caller, body: unknown, view: (a: AlarmRow) => unknown): Promise<AlarmRow> {
  const a = await readAlarm(tx, caller, body);
  await uniqueName(tx, a);
  await tx.insert(alarms).values(a);
  await record(tx, a, 'creation', view(a), caller, a.timestamp);
  await notify(tx, ALARM_CHANNEL, a.id);
  return a;
}

export async function updateAlarm(tx: Db, caller: Caller, id: string, body: unknown): Promise<AlarmRow> {
  const base = await findAlarm(tx, caller, id, true);
  const a = await readAlarm(tx, caller, body, base);
  await uniqueName(tx, a);
  if (a.state !== base.state) {
    a.stateTimestamp = a.timestamp;
    a.stateReason = 'Manually set';
  }
  await tx.update(alarms).set(a).where(eq(alarms.id, a.id));
  const changed = Object.fromEntries(
    (['name', 'description', 'type', 'rule', 'enabled', 'severity', 'repeatActions', 'alarmActions', 'okActions', 'insufficientDataActions'] as const)
      .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(base[k]))
      .map((k) => [k === 'rule' ? `${a.type}_rule` : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), a[k]]),
  );
  if (Object.keys(changed).length) await record(tx, a, 'rule change', changed, caller, a.timestamp);
  if (a.state !== base.state) await record(tx, a, 'state transition', { state: a.state, transition_reason: a.stateReason }, caller, a.timestamp);
  await notify(tx, ALARM_CHANNEL, a.id);
  return a;
}

export async function findAlarm(db: Db, caller: Caller, id: string, forUpdate = false): Promise<AlarmRow> {
  if (!UUID.test(id)) throw notFound(`Alarm ${id} not found`);
  const q = db.select().from(alarms).where(and(eq(alarms.id, id), visibleAlarm(caller)));
  const [a] = forUpdate ? await q.for('update') : await q;
  if (!a) throw notFound(`Alarm ${id} not found`);
  return a;
}

export interface ListOptions {
  filter?: SQL;
  limit?: number;
  marker?: string;
  sort?: { column: keyof AlarmRow; desc: boolean }[];
}

export async function listAlarms(db: Db, caller: Caller, o: ListOptions = {}): Promise<AlarmRow[]> {
  const marker = o.marker ? await findAlarm(db, caller, o.marker).catch(() => undefined) : undefined;
  if (o.marker && !marker) throw badRequest(`Invalid marker ${o.marker}`);
  const order = [...(o.sort ?? []).map((s) => (s.desc ? desc(alarms[s.column]) : asc(alarms[s.column]))), asc(alarms.id)];
  return db
    .select()
    .from(alarms)
    .where(and(visibleAlarm(caller), o.filter, marker ? gt(alarms.id, marker.id) : undefined))
    .orderBy(...order)
    .limit(Math.min(o.limit ?? 1000, 1000));
}

/** Deletes an alarm and its history, which would otherwise outlive it unbounded. */
export async function deleteAlarm(tx: Db, caller: Caller, id: string): Promise<void> {
  const a = await findAlarm(tx, caller, id, true);
  await tx.delete(alarmHistory).where(eq(alarmHistory.alarmId, a.id));
  await tx.delete(alarms).where(eq(alarms.id, a.id));
}

/** Sets the state by hand, as `openstack alarm state set` does: recorded, no action called. */
export async function setState(tx: Db, caller: Caller, id: string, body: unknown): Promise<AlarmRow> {
  const state = oneOf(body, STATES, 'state');
  const a = await findAlarm(tx, caller, id, true);
  const now = new Date();
  const next = { ...a, state, stateReason: 'Manually set', stateTimestamp: a.state === state ? a.stateTimestamp : now };
  await tx.update(alarms).set({ state, stateReason: next.stateReason, stateTimestamp: next.stateTimestamp }).where(eq(alarms.id, a.id));
  if (a.state !== state) await record(tx, next, 'state transition', { state, transition_reason: next.stateReason }, caller, now);
  await notify(tx, ALARM_CHANNEL, a.id);
  return next;
}

/** The evaluator's verdict, written if the alarm still has the rule it was evaluated with. */
export async function recordEvaluation(tx: Db, evaluated: AlarmRow, state: AlarmState, reason: string): Promise<{ previous: AlarmRow; changed: boolean } | undefined> {
  const [a] = await tx.select().from(alarms).where(eq(alarms.id, evaluated.id)).for('update');
  if (!a || a.timestamp.getTime() !== evaluated.timestamp.getTime()) return undefined;
  const now = new Date();
  const changed = a.state !== state;
  await tx
    .update(alarms)
    .set({ state, stateReason: reason, evaluateTimestamp: now, ...(changed ? { stateTimestamp: now } : {}) })
    .where(eq(alarms.id, a.id));
  if (changed) await record(tx, { ...a, state }, 'state transition', { state, transition_reason: reason }, undefined, now);
  return { previous: a, changed };
}

export async function historyOf(db: Db, caller: Caller, id: string, o: { limit?: number; ascending?: boolean } = {}): Promise<HistoryRow[]> {
  const a = await findAlarm(db, caller, id);
  return db
    .select()
    .from(alarmHistory)
    .where(eq(alarmHistory.alarmId, a.id))
    .orderBy(o.ascending ? asc(alarmHistory.timestamp) : desc(alarmHistory.timestamp))
    .limit(Math.min(o.limit ?? 1000, 1000));
}
