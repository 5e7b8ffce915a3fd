// The threshold evaluation of one alarm, from the metric store's roll-ups as Aodh's Gnocchi
// evaluator reads them: the buckets of the rule's granularity over the last evaluation periods
// (plus one, for a bucket still filling), the newest `evaluation_periods` of them compared with
// the threshold. All breaching is alarm, none is ok, a mix leaves the state as it is (or follows
// the newest bucket when the state was unknown), no bucket at all is insufficient data.

import { and, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { Measure } from '../telemetry/measures.ts';
import { bucketOf, methodSql } from '../telemetry/rollup.ts';
import { findNamedMetric, metricsByName } from '../telemetry/metrics.ts';
import { findResource } from '../telemetry/resources.ts';
import { aggregates, archivePolicies, metrics } from '../telemetry/tables.ts';
import type { Caller } from '../telemetry/types.ts';
import type { AlarmRow, AlarmState } from './alarms.ts';
import { breaches, queryFilter, type ThresholdRule } from './rules.ts';

export interface Verdict {
  state: AlarmState;
  reason: string;
  reasonData: Record<string, unknown>;
}

/** Each metric's buckets at the rule's granularity since start, in one query for all of them;
 * metrics whose policy does not keep that method at that granularity have none. */
async function series(db: Db, metricIds: string[], rule: ThresholdRule, start: number, stop: number): Promise<Measure[][]> {
  if (metricIds.length === 0) return [];
  const served = await db
    .select({ id: metrics.id, definition: archivePolicies.definition, methods: archivePolicies.aggregationMethods })
    .from(metrics)
    .innerJoin(archivePolicies, eq(archivePolicies.name, metrics.archivePolicyName))
    .where(inArray(metrics.id, metricIds));
  const ids = served.filter((m) => m.methods.includes(rule.aggregation_method) && m.definition.some((d) => d.granularity === rule.granularity)).map((m) => m.id);
  if (ids.length === 0) return [];
  const { value, has } = methodSql(rule.aggregation_method);
  const rows = await db
    .select({ metricId: aggregates.metricId, ts: aggregates.ts, value: sql<number>`(${sql.raw(value)})::float8` })
    .from(aggregates)
    .where(
      and(
        inArray(aggregates.metricId, ids),
        eq(aggregates.granularity, rule.granularity),
        gte(aggregates.ts, new Date(bucketOf(start, rule.granularity))),
        lt(aggregates.ts, new Date(stop)),
        sql.raw(has),
      ),
    )
    .orderBy(aggregates.ts);
  const by = new Map<string, Measure[]>();
  for (const r of rows) by.set(r.metricId, [...(by.get(r.metricId) ?? []), [r.ts.toISOString(), rule.granularity, Number(r.value)]]);
  return [...by.values()];
}

const CROSS: Record<string, (v: number[]) => number> = {
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  sum: (v) => v.reduce((a, b) => a + b, 0),
  min: (v) => Math.min(...v),
  max: (v) => Math.max(...v),
  count: (v) => v.reduce((a, b) => a + b, 0),
};

/** Merges per-resource series bucket by bucket with the rule's method (a rate's base method;
 * mean for last and std, which do not combine), keeping every bucket any resource has. */
function across(all: Measure[][], method: string): number[] {
  const combine = CROSS[method.replace(/^rate:/, '')] ?? CROSS.mean!;
  const buckets = new Map<string, number[]>();
  for (const s of all) for (const [ts, , v] of s) buckets.set(ts, [...(buckets.get(ts) ?? []), v]);
  return [...buckets.entries()].sort(([a], [b]) => Date.parse(a) - Date.parse(b)).map(([, v]) => combine(v));
}

/** The values the rule is compared on, oldest first. */
async function statistics(db: Db, a: AlarmRow, now: number): Promise<number[]> {
  const rule = a.rule as unknown as ThresholdRule;
  const caller: Caller = { userId: a.userId, projectId: a.projectId, admin: false };
  const stop = now;
  const start = now - rule.granularity * (rule.evaluation_periods + 1) * 1000;
  if (a.type === 'gnocchi_resources_threshold') {
    const r = await findResource(db, caller, rule.resource_type, rule.resource_id!).catch(() => undefined);
    const m = r && (await findNamedMetric(db, r.id, rule.metric).catch(() => undefined));
    if (!m) return [];
    const [s] = await series(db, [m.id], rule, start, stop);
    return (s ?? []).map(([, , v]) => v);
  }
  const found = await metricsByName(db, caller, rule.metric, rule.resource_type, queryFilter(rule.query!));
  return across(await series(db, found.map((f) => f.metric.id), rule, start, stop), rule.aggregation_method);
}

export async function evaluate(db: Db, a: AlarmRow, now = Date.now()): Promise<Verdict> {
  const rule = a.rule as unknown as ThresholdRule;
  const values = (await statistics(db, a, now)).slice(-rule.evaluation_periods);
  if (values.length === 0) {
    const reasonData = { type: 'threshold', disposition: 'unknown', count: rule.evaluation_periods, most_recent: null };
    return { state: 'insufficient data', reason: `${rule.evaluation_periods} datapoints are unknown`, reasonData };
  }
  const outside = values.filter((v) => breaches(rule, v)).length;
  let state: AlarmState;
  if (outside === values.length) state = 'alarm';
  else if (outside === 0) state = 'ok';
  else if (a.state === 'insufficient data') state = breaches(rule, values.at(-1)!) ? 'alarm' : 'ok';
  else state = a.state as AlarmState;
  const disposition = state === 'ok' ? 'inside' : 'outside';
  const count = state === 'ok' ? values.length - outside : outside;
  const mostRecent = values.at(-1)!;
  const reasonData = { type: 'threshold', disposition, count, most_recent: mostRecent };
  const verb = a.state === state ? 'Remaining as' : 'Transition to';
  return { state, reason: `${verb} ${state} due to ${count} samples ${disposition} threshold, most recent: ${mostRecent}`, reasonData };
}
