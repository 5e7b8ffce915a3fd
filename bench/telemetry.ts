// Telemetry: what metering costs and what reading it costs, on the embedded database.
// - Collection: one poll's write of BENCH_GUESTS guests (default 100; each an instance, a disk and
//   a NIC: 14 metrics, rolled up into three granularities), in CPU ms per guest, and the /proc
//   reads the qemu driver makes per guest (timed on this process's own files: QMP's
//   query-blockstats comes on top, about one round trip on a local socket).
// - Reading: p50 of one metric's month at the medium policy (hourly buckets, and the last week's
//   minute ones) among BENCH_RESOURCES metrics (default 1,000) holding a month each.
// - Alarms: p50 of one evaluation of a gnocchi_aggregation_by_resources_threshold alarm whose query
//   finds BENCH_ALARM_RESOURCES instances (default 100), each with its cpu metric's recent minutes.
// Run: npx tsx bench/telemetry.ts
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { openStore } from '../src/lib/store/db.ts';
import { addMeasures, readMeasures } from '../src/telemetry/measures.ts';
import { ensureBuiltinPolicies } from '../src/telemetry/policies.ts';
import type { Point } from '../src/telemetry/rollup.ts';
import { metrics, resources } from '../src/telemetry/tables.ts';
import { evaluate } from '../src/alarming/evaluator.ts';
import type { AlarmRow } from '../src/alarming/alarms.ts';

const GUESTS = Number(process.env.BENCH_GUESTS ?? 100);
const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 1000);
const ALARM_RESOURCES = Number(process.env.BENCH_ALARM_RESOURCES ?? 100);
const store = await openStore('memory://');
await ensureBuiltinPolicies(store.db);

const newMetrics = async (n: number, policy: string) => {
  const ids = Array.from({ length: n }, () => randomUUID());
  for (let i = 0; i < n; i += 1000) {
    await store.db.insert(metrics).values(ids.slice(i, i + 1000).map((id) => ({ id, name: 'm', archivePolicyName: policy, createdByUserId: 'u', createdByProjectId: 'p' })));
  }
  return ids;
};
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

// Collection.
const polled = await newMetrics(GUESTS * 14, 'ceilometer-high-rate');
let t = Date.now();
const poll = () => store.tx((tx) => addMeasures(tx, new Map(polled.map((id, i) => [id, [{ t, v: i * 1000 + t / 1000 }] as Point[]]))));
for (let i = 0; i < 3; i++) (t += 30_000, await poll());
const POLLS = 10;
let start = process.cpuUsage();
for (let i = 0; i < POLLS; i++) (t += 30_000, await poll());
const writeMs = cpuMs(process.cpuUsage(start)) / POLLS / GUESTS;
start = process.cpuUsage();
const READS = 1000;
for (let i = 0; i < READS; i++) await Promise.all([readFile('/proc/self/stat', 'utf8'), readFile('/proc/self/statm', 'utf8'), readFile('/proc/self/net/dev', 'utf8')]);
const procMs = cpuMs(process.cpuUsage(start)) / READS;
console.log(`collection: ${GUESTS} guests, 14 metrics each: ${writeMs.toFixed(3)} CPU ms per guest per poll to roll up and store, ${procMs.toFixed(3)} CPU ms of /proc reads`);
console.log(`  at a 30 s interval, 100 guests cost ${(((writeMs + procMs) * 100) / 30_000 * 100).toFixed(2)} % of a core (QMP not counted)`);

// Reading: a month of buckets per metric, written as the roll-up leaves them.
const HOURS = 30 * 24;
const MINUTES = 7 * 24 * 60;
const month = await newMetrics(RESOURCES, 'medium');
const now = Math.floor(Date.now() / 3_600_000) * 3_600_000;
let loadStart = Date.now();
for (let i = 0; i < month.length; i += 50) {
  const ids = month.slice(i, i + 50);
  const list = sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
  for (const [g, n] of [[3600, HOURS], [60, MINUTES]] as const) {
    await store.db.execute(sql`
      insert into telemetry_aggregates (metric_id, granularity, ts, count, sum, sumsq, min, max, last, last_at)
      select m, ${g}, to_timestamp(${now / 1000} - s * ${g}), 1, s, s * s, s, s, s, to_timestamp(${now / 1000} - s * ${g})
      from unnest(array[${list}]) m, generate_series(0, ${n - 1}) s`);
  }
}
console.log(`reading: ${RESOURCES} metrics × (${HOURS} hourly + ${MINUTES} minute buckets) loaded in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);
const times = (ms: number[]) => ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!.toFixed(2);
for (const granularity of [3600, undefined]) {
  const ms: number[] = [];
  for (let i = 0; i < 200; i++) {
    const id = month[Math.floor(Math.random() * month.length)]!;
    const s = performance.now();
    const rows = await readMeasures(store.db, id, { start: now - 30 * 86_400_000, granularity, aggregation: 'mean' }, [60, 3600]);
    ms.push(performance.now() - s);
    if (rows.length < HOURS) throw new Error(`only ${rows.length} measures`);
  }
  console.log(`  one metric's month, ${granularity ? 'hourly' : 'every granularity'}: p50 ${times(ms)} ms`);
}
// Alarms: instances of one project, each with a cpu metric holding its last ten minutes.
const project = 'bench-project';
const watched: string[] = [];
for (let i = 0; i < ALARM_RESOURCES; i++) {
  const id = randomUUID();
  await store.db.insert(resources).values({ id, originalResourceId: id, type: 'instance', projectId: project, createdByUserId: 'u', createdByProjectId: project, attributes: { display_name: 'web', host: 'h', flavor_id: '1' } });
  const [metric] = await store.db.insert(metrics).values({ id: randomUUID(), name: 'cpu', resourceId: id, archivePolicyName: 'ceilometer-high-rate', createdByUserId: 'u', createdByProjectId: project }).returning();
  watched.push(metric!.id);
}
const tNow = Date.now();
await store.tx((tx) => addMeasures(tx, new Map(watched.map((id, i) => [id, Array.from({ length: 20 }, (_, k) => ({ t: tNow - (20 - k) * 30_000, v: k * 1e9 + i }))]))));
const rule = { metric: 'cpu', threshold: 5e8, comparison_operator: 'gt', aggregation_method: 'rate:mean', granularity: 60, evaluation_periods: 3, resource_type: 'instance', query: '{"=": {"display_name": "web"}}' };
const alarm = { id: randomUUID(), type: 'gnocchi_aggregation_by_resources_threshold', rule, state: 'insufficient data', projectId: project, userId: 'u' } as unknown as AlarmRow;
const evals: number[] = [];
for (let i = 0; i < 30; i++) {
  const s = performance.now();
  const v = await evaluate(store.db, alarm, tNow);
  evals.push(performance.now() - s);
  if (v.state !== 'alarm') throw new Error(`evaluated ${v.state}: ${v.reason}`);
}
console.log(`alarms: one evaluation across ${ALARM_RESOURCES} instances' cpu (rate:mean, 3 periods of 60 s): p50 ${times(evals)} ms`);
await store.close();
