// QoS policies and their rules. A policy is its project's, or shared with every project; the
// admin makes and changes them (Neutron's default policy), a project puts a policy it sees on its
// ports and networks. A port's own policy wins over its network's. Bandwidth limits are enforced
// on the port's tap by the agent; DSCP marking and minimum bandwidth are recorded only.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, like, or, sql } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { networks, ports, qosPolicies, qosRules, type QosRuleType } from './tables.ts';
import type { Caller } from './visibility.ts';

export type QosPolicyRow = typeof qosPolicies.$inferSelect;
export type QosRule = typeof qosRules.$inferSelect;
export interface QosPolicy extends QosPolicyRow {
  rules: QosRule[];
}

export const RULE_TYPES: QosRuleType[] = ['bandwidth_limit', 'dscp_marking', 'minimum_bandwidth'];
/** The DSCP values Neutron accepts (the standard code points). */
export const DSCP_MARKS = [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56];
const MAX_KBPS = 2 ** 31 - 1;

export const policyNotFound = (id: string) => notFound(`QoS policy ${id} could not be found.`, 'QosPolicyNotFound');
const ruleNotFound = (id: string, policyId: string) => notFound(`QoS rule ${id} for policy ${policyId} could not be found.`, 'QosRuleNotFound');

const visible = (caller: Caller) => (caller.isAdmin ? undefined : or(eq(qosPolicies.projectId, caller.projectId), eq(qosPolicies.shared, true)));

async function withRules(db: Db, rows: QosPolicyRow[]): Promise<QosPolicy[]> {
  const ids = rows.map((r) => r.id);
  const rules = ids.length ? await db.select().from(qosRules).where(inArray(qosRules.policyId, ids)).orderBy(asc(qosRules.id)) : [];
  return rows.map((r) => ({ ...r, rules: rules.filter((x) => x.policyId === r.id) }));
}

export async function getPolicy(db: Db, caller: Caller, id: string, lock = false): Promise<QosPolicy> {
  const q = db
    .select()
    .from(qosPolicies)
    .where(and(eq(qosPolicies.id, id), visible(caller)));
  const rows = lock ? await q.for('update') : await q;
  if (!rows.length) throw policyNotFound(id);
  return (await withRules(db, rows))[0]!;
}

export const listPolicies = async (db: Db, caller: Caller) =>
  withRules(db, await db.select().from(qosPolicies).where(visible(caller)).orderBy(asc(qosPolicies.id)));

/** The policy a resource of project may use: its own or a shared one (404 otherwise, as Neutron). */
export async function usablePolicy(db: Db, projectId: string, id: string): Promise<string> {
  await getPolicy(db, { projectId, isAdmin: false }, id);
  return id;
}

/** The project's default policy, which a new network of the project gets unless it names one. */
export async function defaultPolicyOf(db: Db, projectId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: qosPolicies.id })
    .from(qosPolicies)
    .where(and(eq(qosPolicies.projectId, projectId), eq(qosPolicies.isDefault, true)));
  return row?.id ?? null;
}

async function checkDefault(tx: Db, projectId: string, id: string): Promise<void> {
  const other = await defaultPolicyOf(tx, projectId);
  if (other && other !== id) throw conflict(`A default QoS policy exists for project ${projectId}.`, 'QoSPolicyDefaultAlreadyExists');
}

export interface PolicyInput {
  projectId: string;
  name?: string;
  description?: string;
  shared?: boolean;
  isDefault?: boolean;
}

export async function createPolicy(tx: Db, input: PolicyInput): Promise<QosPolicy> {
  const id = randomUUID();
  if (input.isDefault) await checkDefault(tx, input.projectId, id);
  const [row] = await tx
    .insert(qosPolicies)
    .values({
      id,
      projectId: input.projectId,
      name: input.name ?? '',
      description: input.description ?? '',
      shared: input.shared ?? false,
      isDefault: input.isDefault ?? false,
    })
    .returning();
  return { ...row!, rules: [] };
}

export async function updatePolicy(tx: Db, caller: Caller, id: string, changes: Omit<PolicyInput, 'projectId'>): Promise<QosPolicy> {
  const policy = await getPolicy(tx, caller, id, true);
  if (changes.isDefault) await checkDefault(tx, policy.projectId, id);
  await tx
    .update(qosPolicies)
    .set({ ...changes, revision: sql`${qosPolicies.revision} + 1`, updatedAt: new Date() })
    .where(eq(qosPolicies.id, id));
  return getPolicy(tx, caller, id);
}

export async function deletePolicy(tx: Db, caller: Caller, id: string): Promise<void> {
  await getPolicy(tx, caller, id, true);
  const [port] = await tx.select({ id: ports.id }).from(ports).where(eq(ports.qosPolicyId, id)).limit(1);
  const [network] = port ? [] : await tx.select({ id: networks.id }).from(networks).where(eq(networks.qosPolicyId, id)).limit(1);
  const user = port ? `port ${port.id}` : network ? `network ${network.id}` : undefined;
  if (user) throw conflict(`QoS Policy ${id} is used by ${user}.`, 'QosPolicyInUse');
  await tx.delete(qosPolicies).where(eq(qosPolicies.id, id));
}

/** The fields of a rule as the API names them; what a type does not take is refused. */
export interface RuleFields {
  max_kbps?: number;
  max_burst_kbps?: number;
  direction?: 'egress' | 'ingress';
  dscp_mark?: number;
  min_kbps?: number;
}

const FIELDS: Record<QosRuleType, (keyof RuleFields)[]> = {
  bandwidth_limit: ['max_kbps', 'max_burst_kbps', 'direction'],
  dscp_marking: ['dscp_mark'],
  minimum_bandwidth: ['min_kbps', 'direction'],
};
const REQUIRED: Record<QosRuleType, keyof RuleFields> = { bandwidth_limit: 'max_kbps', dscp_marking: 'dscp_mark', minimum_bandwidth: 'min_kbps' };

function checkFields(type: QosRuleType, f: RuleFields, creating: boolean): void {
  for (const key of Object.keys(f) as (keyof RuleFields)[]) {
    if (f[key] !== undefined && !FIELDS[type].includes(key)) throw badRequest(`Unrecognized attribute(s) '${key}'`);
  }
  if (creating && f[REQUIRED[type]] === undefined) throw badRequest(`Failed to parse request. Required attribute '${REQUIRED[type]}' not specified`);
  for (const key of ['max_kbps', 'max_burst_kbps', 'min_kbps'] as const) {
    const v = f[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_KBPS))
      throw badRequest(`Invalid input for ${key}. Reason: '${v}' is not in range 0 through ${MAX_KBPS}.`);
  }
  if (f.dscp_mark !== undefined && !DSCP_MARKS.includes(f.dscp_mark))
    throw badRequest(`Invalid input for dscp_mark. Reason: '${f.dscp_mark}' is not in [${DSCP_MARKS.join(', ')}].`);
  if (f.direction !== undefined && f.direction !== 'egress' && f.direction !== 'ingress')
    throw badRequest(`Invalid input for direction. Reason: '${f.direction}' is not in ['egress', 'ingress'].`);
}

/** Every port whose effective policy is this one: by its own, or by its network's when it has none. */
async function touchPortsOf(tx: Db, policyId: string): Promise<void> {
  const affected = await tx
    .select({ id: ports.id })
    .from(ports)
    .innerJoin(networks, eq(networks.id, ports.networkId))
    .where(
      and(
        like(ports.deviceOwner, 'compute:%'),
        or(eq(ports.qosPolicyId, policyId), and(isNull(ports.qosPolicyId), eq(networks.qosPolicyId, policyId))),
      ),
    );
  await dataplaneChanged(tx, ...affected.map((p) => `port:${p.id}` as const));
}

const duplicate = (type: QosRuleType, policyId: string) =>
  conflict(`Rule ${type} already exists in QoS policy ${policyId} for this direction.`, 'QoSRulesConflict');

export async function createRule(tx: Db, caller: Caller, policyId: string, type: QosRuleType, f: RuleFields): Promise<QosRule> {
  await getPolicy(tx, caller, policyId, true);
  checkFields(type, f, true);
  const [row] = await tx
    .insert(qosRules)
    .values({
      id: randomUUID(),
      policyId,
      type,
      maxKbps: f.max_kbps ?? null,
      maxBurstKbps: type === 'bandwidth_limit' ? (f.max_burst_kbps ?? 0) : null,
      direction: type === 'dscp_marking' ? 'egress' : (f.direction ?? 'egress'),
      dscpMark: f.dscp_mark ?? null,
      minKbps: f.min_kbps ?? null,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw duplicate(type, policyId);
  await bumpPolicy(tx, policyId);
  return row;
}

async function bumpPolicy(tx: Db, policyId: string): Promise<void> {
  await tx
    .update(qosPolicies)
    .set({ revision: sql`${qosPolicies.revision} + 1`, updatedAt: new Date() })
    .where(eq(qosPolicies.id, policyId));
  await touchPortsOf(tx, policyId);
}

export async function getRule(db: Db, caller: Caller, policyId: string, type: QosRuleType, id: string): Promise<QosRule> {
  const policy = await getPolicy(db, caller, policyId);
  const rule = policy.rules.find((r) => r.id === id && r.type === type);
  if (!rule) throw ruleNotFound(id, policyId);
  return rule;
}

export async function updateRule(tx: Db, caller: Caller, policyId: string, type: QosRuleType, id: string, f: RuleFields): Promise<QosRule> {
  await getPolicy(tx, caller, policyId, true);
  await getRule(tx, caller, policyId, type, id);
  checkFields(type, f, false);
  const direction = type === 'dscp_marking' ? undefined : f.direction;
  const [row] = await tx
    .update(qosRules)
    .set({ maxKbps: f.max_kbps, maxBurstKbps: f.max_burst_kbps, direction, dscpMark: f.dscp_mark, minKbps: f.min_kbps })
    .where(eq(qosRules.id, id))
    .returning()
    .catch((err: unknown) => {
      if (String((err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code) === '23505') throw duplicate(type, policyId);
      throw err;
    });
  await bumpPolicy(tx, policyId);
  return row!;
}

export async function deleteRule(tx: Db, caller: Caller, policyId: string, type: QosRuleType, id: string): Promise<void> {
  await getPolicy(tx, caller, policyId, true);
  await getRule(tx, caller, policyId, type, id);
  await tx.delete(qosRules).where(eq(qosRules.id, id));
  await bumpPolicy(tx, policyId);
}

/** The bandwidth limits in force on each port: its own policy's, else its network's. */
export async function portLimits(
  db: Db,
  rows: { id: string; networkId: string; qosPolicyId: string | null }[],
): Promise<Map<string, { direction: 'egress' | 'ingress'; maxKbps: number; maxBurstKbps: number }[]>> {
  const netIds = [...new Set(rows.filter((r) => !r.qosPolicyId).map((r) => r.networkId))];
  const nets = netIds.length ? await db.select({ id: networks.id, policy: networks.qosPolicyId }).from(networks).where(inArray(networks.id, netIds)) : [];
  const policyOf = new Map(rows.map((r) => [r.id, r.qosPolicyId ?? nets.find((n) => n.id === r.networkId)?.policy ?? null]));
  const policyIds = [...new Set([...policyOf.values()].filter((p): p is string => p !== null))];
  const rules = policyIds.length
    ? await db
        .select()
        .from(qosRules)
        .where(and(inArray(qosRules.policyId, policyIds), eq(qosRules.type, 'bandwidth_limit')))
    : [];
  return new Map(
    rows.map((r) => [
      r.id,
      rules
        .filter((x) => x.policyId === policyOf.get(r.id))
        .map((x) => ({ direction: x.direction as 'egress' | 'ingress', maxKbps: x.maxKbps!, maxBurstKbps: x.maxBurstKbps ?? 0 })),
    ]),
  );
}
