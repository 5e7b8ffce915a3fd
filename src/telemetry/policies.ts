import { eq, sql } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { isUniqueViolation } from '../lib/store/errors.ts';
import { archivePolicies, archivePolicyRules, metrics, type PolicyLevel } from './tables.ts';

export type ArchivePolicy = typeof archivePolicies.$inferSelect;
export type ArchivePolicyRule = typeof archivePolicyRules.$inferSelect;

/** The methods a bucket's sums can answer; each may also be asked as rate:<method>. */
export const BASE_METHODS = ['mean', 'min', 'max', 'sum', 'count', 'last', 'std'] as const;
export type BaseMethod = (typeof BASE_METHODS)[number];
export const ALL_METHODS = [...BASE_METHODS, ...BASE_METHODS.map((m) => `rate:${m}`)];

/** Gnocchi's default_aggregation_methods. */
const DEFAULT_METHODS = ['mean', 'min', 'max', 'sum', 'std', 'count'];
const HOUR = 3600;
const DAY = 24 * HOUR;

/** Gnocchi's built-in policies, and Ceilometer's (the collector's: one second to one year, rate:mean
 * for cumulative meters), made at every start when missing. */
export const BUILTIN_POLICIES: { name: string; definition: PolicyLevel[]; aggregationMethods: string[] }[] = [
  { name: 'low', definition: [{ granularity: 300, points: (30 * DAY) / 300 }], aggregationMethods: DEFAULT_METHODS },
  {
    name: 'medium',
    definition: [
      { granularity: 60, points: (7 * DAY) / 60 },
      { granularity: HOUR, points: 365 * 24 },
    ],
    aggregationMethods: DEFAULT_METHODS,
  },
  {
    name: 'high',
    definition: [
      { granularity: 1, points: HOUR },
      { granularity: 60, points: (7 * DAY) / 60 },
      { granularity: HOUR, points: 365 * 24 },
    ],
    aggregationMethods: DEFAULT_METHODS,
  },
  ...(['ceilometer-high', 'ceilometer-high-rate'] as const).map((name) => ({
    name,
    definition: [
      { granularity: 1, points: HOUR },
      { granularity: 60, points: DAY / 60 },
      { granularity: HOUR, points: 365 * 24 },
    ],
    aggregationMethods: name.endsWith('-rate') ? ['mean', 'rate:mean'] : ['mean'],
  })),
];

export async function ensureBuiltinPolicies(db: Db): Promise<void> {
  for (const p of BUILTIN_POLICIES) await db.insert(archivePolicies).values(p).onConflictDoNothing();
}

/** Seconds from Gnocchi's forms: a number, "60s", "1 minute", "1 hour", "30 days", "0:05:00". */
export function parseSeconds(value: unknown, what: string): number {
  if (typeof value === 'number' && value > 0) return value;
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
    const clock = /^(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)$/.exec(s);
    if (clock) return Number(clock[1] ?? 0) * DAY + Number(clock[2]) * HOUR + Number(clock[3]) * 60 + Number(clock[4]);
    const unit = /^(\d+(?:\.\d+)?)\s*(s|sec|second|seconds|min|minute|minutes|m|h|hour|hours|d|day|days|w|week|weeks|y|year|years)$/i.exec(s);
    if (unit) {
      const scale: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: HOUR, hour: HOUR, d: DAY, day: DAY, w: 7 * DAY, week: 7 * DAY, y: 365 * DAY, year: 365 * DAY };
      const u = unit[2]!.toLowerCase().replace(/s$/, '') || 's';
      const factor = scale[u] ?? scale[unit[2]!.toLowerCase()];
      if (factor) return Number(unit[1]) * factor;
    }
  }
  throw badRequest(`Invalid input: ${what} ${JSON.stringify(value)} is not a timespan`);
}

/** Python's str(timedelta), which Gnocchi shows: "0:05:00", "30 days, 0:00:00". */
export function timedelta(seconds: number): string {
  const days = Math.floor(seconds / DAY);
  const rest = seconds - days * DAY;
  const clock = `${Math.floor(rest / HOUR)}:${String(Math.floor((rest % HOUR) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days ? `${days} day${days === 1 ? '' : 's'}, ${clock}` : clock;
}

/** A definition as the API takes it: two of granularity, points and timespan per level. */
export function readDefinition(input: unknown): PolicyLevel[] {
  if (!Array.isArray(input) || input.length === 0) throw badRequest('Invalid input: definition must be a non-empty list');
  const levels = input.map((d: Record<string, unknown>) => {
    if (typeof d !== 'object' || d === null) throw badRequest('Invalid input: each definition is an object');
    const timespan = d.timespan !== undefined && d.timespan !== null ? parseSeconds(d.timespan, 'timespan') : undefined;
    const points = d.points !== undefined && d.points !== null ? Number(d.points) : undefined;
    let granularity = d.granularity !== undefined && d.granularity !== null ? parseSeconds(d.granularity, 'granularity') : undefined;
    if (granularity === undefined && points && timespan) granularity = timespan / points;
    if (granularity === undefined || !Number.isInteger(granularity) || granularity < 1) throw badRequest('Invalid input: granularity must be a whole number of seconds, at least 1');
    const n = points ?? (timespan !== undefined ? timespan / granularity : undefined);
    if (n === undefined || !Number.isInteger(n) || n < 1) throw badRequest('Invalid input: a definition needs points, or a timespan that is a multiple of its granularity');
    if (points !== undefined && timespan !== undefined && points * granularity !== timespan) throw badRequest('Invalid input: timespan ≠ granularity × points');
    return { granularity, points: n };
  });
  if (new Set(levels.map((l) => l.granularity)).size !== levels.length) throw badRequest('Invalid input: more than one archive policy uses granularity');
  return levels.sort((a, b) => a.granularity - b.granularity);
}

/** Gnocchi's aggregation_methods: a list of names, or of +name/-name changes to the defaults. */
export function readMethods(input: unknown): string[] {
  if (input === undefined) return DEFAULT_METHODS;
  if (!Array.isArray(input) || input.some((m) => typeof m !== 'string')) throw badRequest('Invalid input: aggregation_methods must be a list of names');
  const set = new Set(input.some((m: string) => /^[+-]/.test(m)) ? DEFAULT_METHODS : []);
  for (const m of input as string[]) {
    const name = m.replace(/^[+-]/, '');
    if (!ALL_METHODS.includes(name)) throw badRequest(`Invalid input: aggregation method ${name} is not one of ${ALL_METHODS.join(', ')}`);
    if (m.startsWith('-')) set.delete(name);
    else set.add(name);
  }
  return [...set];
}

export async function findPolicy(db: Db, name: string): Promise<ArchivePolicy> {
  const [p] = await db.select().from(archivePolicies).where(eq(archivePolicies.name, name));
  if (!p) throw notFound(`Archive policy ${name} does not exist`);
  return p;
}

export const listPolicies = (db: Db) => db.select().from(archivePolicies).orderBy(archivePolicies.name);

export async function createPolicy(db: Db, body: Record<string, unknown>): Promise<ArchivePolicy> {
  if (typeof body.name !== 'string' || !/^[^/\s]{1,255}$/.test(body.name)) throw badRequest('Invalid input: name is required, without slash or space');
  const policy = { name: body.name, backWindow: Number(body.back_window ?? 0) | 0, definition: readDefinition(body.definition), aggregationMethods: readMethods(body.aggregation_methods) };
  try {
    await db.insert(archivePolicies).values(policy);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Archive policy ${policy.name} already exists`);
    throw err;
  }
  return policy;
}

/** Gnocchi lets an update change the points and timespans, never the granularities. */
export async function updatePolicy(db: Db, name: string, body: Record<string, unknown>): Promise<ArchivePolicy> {
  const old = await findPolicy(db, name);
  const definition = readDefinition(body.definition);
  const same = definition.length === old.definition.length && definition.every((d, i) => d.granularity === old.definition[i]!.granularity);
  if (!same) throw badRequest('Archive policy granularities cannot be changed');
  await db.update(archivePolicies).set({ definition }).where(eq(archivePolicies.name, name));
  return { ...old, definition };
}

export async function deletePolicy(db: Db, name: string): Promise<void> {
  await findPolicy(db, name);
  const [used] = await db.select({ n: sql<number>`count(*)::int` }).from(metrics).where(eq(metrics.archivePolicyName, name));
  const [ruled] = await db.select({ n: sql<number>`count(*)::int` }).from(archivePolicyRules).where(eq(archivePolicyRules.archivePolicyName, name));
  if (used!.n > 0 || ruled!.n > 0) throw badRequest(`Archive policy ${name} is still in use`);
  await db.delete(archivePolicies).where(eq(archivePolicies.name, name));
}

export const listRules = (db: Db) => db.select().from(archivePolicyRules).orderBy(archivePolicyRules.name);

export async function findRule(db: Db, name: string): Promise<ArchivePolicyRule> {
  const [r] = await db.select().from(archivePolicyRules).where(eq(archivePolicyRules.name, name));
  if (!r) throw notFound(`Archive policy rule ${name} does not exist`);
  return r;
}

export async function createRule(db: Db, body: Record<string, unknown>): Promise<ArchivePolicyRule> {
  const { name, metric_pattern: pattern, archive_policy_name: policy } = body;
  if (typeof name !== 'string' || typeof pattern !== 'string' || typeof policy !== 'string' || !name || !pattern) {
    throw badRequest('Invalid input: name, metric_pattern and archive_policy_name are required');
  }
  await findPolicy(db, policy).catch(() => {
    throw badRequest(`Archive policy ${policy} does not exist`);
  });
  const rule = { name, metricPattern: pattern, archivePolicyName: policy };
  try {
    await db.insert(archivePolicyRules).values(rule);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Archive policy rule ${name} already exists`);
    throw err;
  }
  return rule;
}

export async function renameRule(db: Db, name: string, body: Record<string, unknown>): Promise<ArchivePolicyRule> {
  const rule = await findRule(db, name);
  if (typeof body.name !== 'string' || !body.name) throw badRequest('Invalid input: name is required');
  await db.update(archivePolicyRules).set({ name: body.name }).where(eq(archivePolicyRules.name, name));
  return { ...rule, name: body.name };
}

export async function deleteRule(db: Db, name: string): Promise<void> {
  await findRule(db, name);
  await db.delete(archivePolicyRules).where(eq(archivePolicyRules.name, name));
}

/** fnmatch's glob: * and ? and [..]. */
const globToRegExp = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/** The policy the most specific (longest) matching rule names for a metric named `name`. */
export async function policyForName(db: Db, name: string | undefined): Promise<string> {
  const rules = (await listRules(db)).sort((a, b) => b.metricPattern.length - a.metricPattern.length);
  const rule = rules.find((r) => globToRegExp(r.metricPattern).test(name ?? ''));
  if (!rule) throw badRequest(`No archive policy name specified and no archive policy rule found matching the metric name ${name ?? ''}`);
  return rule.archivePolicyName;
}
