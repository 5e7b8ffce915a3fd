import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { adminEnv, cliAs, openstack, startTestCloud, type TestCloud } from '../helpers/cloud.ts';

// The metric API through python3-gnocchiclient's `openstack metric …`: archive policies rolled up
// on write at measures of known times, retention, aggregates, and each project kept to its own.
let c: TestCloud;
let admin: Record<string, string>;
const env = (user: string) => ({ ...admin, OS_USERNAME: user, OS_PASSWORD: 'pw', OS_PROJECT_NAME: user });
const cli = (e: () => Record<string, string>) => {
  const run = cliAs(e);
  return Object.assign(run, { json: async (...args: string[]) => JSON.parse(await run(...args, '-f', 'json')) });
};
const asAdmin = cli(() => admin);
const asAlice = cli(() => env('alice'));
const asBob = cli(() => env('bob'));

before(async () => {
  c = await startTestCloud();
  admin = adminEnv(c.url, c.cloud.credentials!.password);
  for (const who of ['alice', 'bob']) {
    await asAdmin('project', 'create', who);
    await asAdmin('user', 'create', '--project', who, '--password', 'pw', who);
    await asAdmin('role', 'add', '--project', who, '--user', who, 'member');
  }
});
after(() => c?.stop());

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
type Row = { timestamp: string; granularity: number; value: number };
const rows = (measures: Row[], granularity: number) => measures.filter((m) => m.granularity === granularity).map((m) => [(new Date(m.timestamp).getTime() - T0) / 1000, m.value]);

test('the built-in policies are Gnocchi’s, and a policy of ours is rolled up per granularity on write', async () => {
  const policies = await asAdmin.json('metric', 'archive-policy', 'list');
  const medium = policies.find((p: { name: string }) => p.name === 'medium');
  assert.deepEqual(medium.definition, [
    { granularity: '0:01:00', points: 10080, timespan: '7 days, 0:00:00' },
    { granularity: '1:00:00', points: 8760, timespan: '365 days, 0:00:00' },
  ]);

  await asAdmin('metric', 'archive-policy', 'create', 'roll', '-d', 'granularity:60s,points:3', '-d', 'granularity:300s,timespan:600s',
    ...['-m', 'mean', '-m', 'max', '-m', 'min', '-m', 'count', '-m', 'last', '-m', 'rate:mean']);
  const shown = await asAdmin.json('metric', 'archive-policy', 'show', 'roll');
  assert.deepEqual(shown.definition, [
    { granularity: '0:01:00', points: 3, timespan: '0:03:00' },
    { granularity: '0:05:00', points: 2, timespan: '0:10:00' },
  ]);
  assert.deepEqual(shown.aggregation_methods, ['count', 'last', 'max', 'mean', 'min', 'rate:mean']);

  const metric = (await asAlice.json('metric', 'create', '--archive-policy-name', 'roll', 'load')).id as string;
  const add = (...points: [number, number][]) => asAlice('metric', 'measures', 'add', ...points.flatMap(([s, v]) => ['-m', `${at(s)}@${v}`]), metric);
  const show = (aggregation: string) => asAlice.json('metric', 'measures', 'show', '--aggregation', aggregation, '--utc', metric) as Promise<Row[]>;
  // 0 s: 1, 30 s: 3, 60 s: 5, 90 s: 11, in two batches, each out of order.
  await add([30, 3], [0, 1]);
  await add([90, 11], [60, 5]);
  const mean = await show('mean');
  assert.deepEqual(rows(mean, 60), [[0, 2], [60, 8]]);
  assert.deepEqual(rows(mean, 300), [[0, 5]]);
  // Coarsest granularity first, as Gnocchi lists them.
  assert.equal(mean[0]!.granularity, 300);
  assert.deepEqual(rows(await show('max'), 60), [[0, 3], [60, 11]]);
  assert.deepEqual(rows(await show('min'), 300), [[0, 1]]);
  assert.deepEqual(rows(await show('count'), 300), [[0, 4]]);
  assert.deepEqual(rows(await show('last'), 300), [[0, 11]]);
  const window = await asAlice.json('metric', 'measures', 'show', '--granularity', '60', '--start', at(45), '--stop', at(60), '--utc', metric);
  assert.deepEqual(rows(window, 60), [[0, 2]]);

  // 330 s: 2. Three one-minute buckets back from the newest are kept, two of five minutes.
  await add([330, 2]);
  const next = await show('mean');
  assert.deepEqual(rows(next, 60), [[300, 2]]);
  assert.deepEqual(rows(next, 300), [[0, 5], [300, 2]]);
  // The rate is between consecutive points in time order: 3-1, 5-3, 11-5, then 2-11.
  assert.deepEqual(rows(await show('rate:mean'), 300), [[0, 10 / 3], [300, -9]]);

  // A method the policy does not keep is Gnocchi's 404.
  const r = await openstack(env('alice'), 'metric', 'measures', 'show', '--aggregation', 'std', metric);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Aggregation method 'std' at granularity '' for metric .* does not exist/);

  // Twenty minutes later, only what fits in each timespan back from the newest point is kept.
  await add([1230, 4]);
  const later = await show('mean');
  assert.deepEqual(rows(later, 60), [[1200, 4]]);
  assert.deepEqual(rows(later, 300), [[1200, 4]]);
});

test('an archive policy rule gives a new metric its policy, longest pattern first; only admins write them', async () => {
  await asAdmin('metric', 'archive-policy-rule', 'create', '--archive-policy-name', 'low', '--metric-pattern', '*', 'all');
  await asAdmin('metric', 'archive-policy-rule', 'create', '--archive-policy-name', 'high', '--metric-pattern', 'disk.*', 'disks');
  assert.equal((await asAlice.json('metric', 'create', 'disk.io'))['archive_policy/name'], 'high');
  assert.equal((await asAlice.json('metric', 'create', 'other'))['archive_policy/name'], 'low');
  const denied = await openstack(env('alice'), 'metric', 'archive-policy', 'create', 'mine', '-d', 'granularity:1s,points:10');
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /403|Forbidden|not allowed|Policy/i);
  const inUse = await openstack(admin, 'metric', 'archive-policy', 'delete', 'high');
  assert.match(inUse.stderr, /Archive policy high is still in use/);
});

test('resources typed as Gnocchi’s, searched with its filter language; each project sees only its own', async () => {
  const server = '5a7f3c1e-0000-4000-8000-000000000001';
  const made = await asAlice.json('metric', 'resource', 'create', '--type', 'instance', server,
    ...['-a', 'host:h1', '-a', 'display_name:web', '-a', 'flavor_id:1', '-n', 'cpu:medium']);
  assert.equal(made.type, 'instance');
  assert.equal(made.display_name, 'web');
  await asBob('metric', 'resource', 'create', '--type', 'instance', '5a7f3c1e-0000-4000-8000-000000000002', '-a', 'host:h1', '-a', 'display_name:db', '-a', 'flavor_id:1', '-n', 'cpu:medium');
  const missing = await openstack(env('alice'), 'metric', 'resource', 'create', '--type', 'instance', '5a7f3c1e-0000-4000-8000-000000000003', '-a', 'host:h1');
  assert.match(missing.stderr, /required key not provided @ data\['(display_name|flavor_id)'\]/);

  const found = await asAlice.json('metric', 'resource', 'search', '--type', 'instance', 'display_name=web or display_name=db');
  assert.deepEqual(found.map((r: { id: string }) => r.id), [server]);
  const all = await asAdmin.json('metric', 'resource', 'search', '--type', 'instance', 'host=h1 and not display_name="nope"');
  assert.equal(all.length, 2);

  // Bob cannot see, read or write Alice's resource or its metric.
  for (const args of [['resource', 'show', server], ['measures', 'show', '--resource-id', server, 'cpu'], ['measures', 'add', '-m', `${at(0)}@1`, '--resource-id', server, 'cpu']]) {
    const r = await openstack(env('bob'), 'metric', ...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, /does not exist/);
  }
  const aliceMetric = (await asAlice.json('metric', 'show', '--resource-id', server, 'cpu')).id as string;
  assert.match((await openstack(env('bob'), 'metric', 'show', aliceMetric)).stderr, /does not exist/);
  assert.ok(!(await asBob.json('metric', 'list')).some((m: { id: string }) => m.id === aliceMetric));
  assert.ok((await asAdmin.json('metric', 'list')).some((m: { id: string }) => m.id === aliceMetric));

  // Aggregates across the resources a search finds: Bob's search never reaches Alice's.
  await asAlice('metric', 'measures', 'add', '-m', `${at(0)}@10`, '-m', `${at(60)}@40`, '--resource-id', server, 'cpu');
  await asBob('metric', 'measures', 'add', '-m', `${at(0)}@100`, '-m', `${at(60)}@100`, '--resource-id', '5a7f3c1e-0000-4000-8000-000000000002', 'cpu');
  const agg = (as: typeof asAdmin) =>
    as.json('metric', 'aggregates', '--resource-type', 'instance', '--granularity', '60', '(aggregate mean (metric cpu mean))', 'host=h1') as Promise<{ name: string; timestamp: string; value: number }[]>;
  assert.deepEqual((await agg(asAlice)).map((m) => m.value), [10, 40]);
  assert.deepEqual((await agg(asBob)).map((m) => m.value), [100, 100]);
  assert.deepEqual((await agg(asAdmin)).map((m) => m.value), [55, 70]);
  const each = await asAdmin.json('metric', 'aggregates', '--resource-type', 'instance', '--granularity', '60', '(metric cpu max)', 'host=h1');
  assert.ok(each.some((m: { name: string; value: number }) => m.name === `${server}/cpu/max` && m.value === 40), JSON.stringify(each));
  // medium keeps no rate: Gnocchi's 404 names the method and the granularity.
  const rate = await openstack(admin, 'metric', 'aggregates', '--resource-type', 'instance', '--granularity', '60', '(metric cpu rate:mean)', 'host=h1');
  assert.match(rate.stderr, /Aggregation method 'rate:mean' at granularity '60' for metric [0-9a-f-]+ does not exist/);
  const grouped = await asAdmin.json('metric', 'aggregates', '--resource-type', 'instance', '--granularity', '60', '--groupby', 'project_id', '(aggregate max (metric cpu mean))', 'host=h1');
  assert.equal(new Set(grouped.map((g: { group: string }) => g.group)).size, 2);
});

test('bad input gets Gnocchi’s errors', async () => {
  const token = await c.login('alice', 'pw', 'alice');
  const bad = await c.request('POST', '/metric/v1/search/resource/instance?filter=host%3D%3D', { token });
  assert.equal(bad.status, 400);
  assert.match(bad.body.description, /Invalid filter/);
  // Values the database could not cast are the caller's 400, and a text attribute compared with a
  // number matches nothing rather than failing the query.
  const search = (filter: unknown) => c.request('POST', '/metric/v1/search/resource/generic', { token, body: filter });
  const badTime = await search({ '>': { started_at: 'not a time' } });
  assert.equal(badTime.status, 400, JSON.stringify(badTime.body));
  assert.match(JSON.stringify(badTime.body), /not a timestamp for started_at/);
  assert.equal((await search({ '>=': { started_at: '2000-01-01' } })).status, 200);
  const byNumber = await c.request('POST', '/metric/v1/search/resource/instance', { token, body: { '>': { display_name: 5 } } });
  assert.equal(byNumber.status, 200, JSON.stringify(byNumber.body));
  assert.deepEqual(byNumber.body, []);
  const ops = await c.request('POST', '/metric/v1/aggregates', { token, body: { operations: '(aggregate mean' } });
  assert.equal(ops.status, 400);
  const type = await c.request('GET', '/metric/v1/resource/nothing', { token });
  assert.equal(type.status, 404);
  const measures = await c.request('POST', `/metric/v1/metric/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/measures`, { token, body: [{ timestamp: 'x', value: 1 }] });
  assert.equal(measures.status, 400);
  assert.equal((await c.request('GET', '/metrics', { token })).status, 403);
});

test('status, resource types and capabilities answer as gnocchiclient reads them', async () => {
  const status = await asAdmin.json('metric', 'status');
  assert.equal(status['storage/total number of measures to process'], 0);
  const types = await asAlice.json('metric', 'resource-type', 'list');
  assert.deepEqual(types.map((t: { name: string }) => t.name).sort(), ['generic', 'image', 'instance', 'instance_disk', 'instance_network_interface', 'network', 'volume']);
  const instance = await asAlice.json('metric', 'resource-type', 'show', 'instance');
  assert.match(instance['attributes/display_name'], /required=True/);
  const caps = await asAlice.json('metric', 'capabilities', 'list');
  assert.match(JSON.stringify(caps), /rate:mean/);
});

test('resample and fill, and the older /v1/aggregation API that openstack metric measures aggregation calls', async () => {
  await asAdmin('metric', 'archive-policy', 'create', 'seconds', '-d', 'granularity:1s,points:3600', ...['-m', 'mean', '-m', 'max', '-m', 'sum', '-m', 'count']);
  const made = async (name: string) => (await asAlice.json('metric', 'create', '--archive-policy-name', 'seconds', name)).id as string;
  const [a, b] = [await made('a'), await made('b')];
  const add = (metric: string, ...points: [number, number][]) => asAlice('metric', 'measures', 'add', ...points.flatMap(([s, v]) => ['-m', `${at(s)}@${v}`]), metric);
  // a: 1, 2, 3, 4 at 0-3 s and 10 at 5 s; b: 10, 20 at 0-1 s, nothing at 2 s, 40 at 3 s.
  await add(a, [0, 1], [1, 2], [2, 3], [3, 4], [5, 10]);
  await add(b, [0, 10], [1, 20], [3, 40]);

  // Resampled, each period is the method applied again to the values it holds.
  const resampled = (aggregation: string, period: string) =>
    asAlice.json('metric', 'measures', 'show', '--granularity', '1', '--aggregation', aggregation, '--resample', period, '--utc', a) as Promise<Row[]>;
  assert.deepEqual(rows(await resampled('mean', '2'), 2), [[0, 1.5], [2, 3.5], [4, 10]]);
  assert.deepEqual(rows(await resampled('max', '4'), 4), [[0, 4], [4, 10]]);
  const unsampled = await openstack(env('alice'), 'metric', 'measures', 'show', '--resample', '2', a);
  assert.notEqual(unsampled.code, 0);
  assert.match(unsampled.stderr, /A granularity must be specified to resample/);

  // The older API: the two means combined where both have a point, by the same method or another.
  const across = (...extra: string[]) => asAlice.json('metric', 'measures', 'aggregation', '-m', a, b, '--granularity', '1', '--utc', ...extra) as Promise<Row[]>;
  assert.deepEqual(rows(await across(), 1), [[0, 5.5], [1, 11], [3, 22]]);
  assert.deepEqual(rows(await across('--reaggregation', 'max'), 1), [[0, 10], [1, 20], [3, 40]]);
  // Filled with 0, every second either has counts.
  assert.deepEqual(rows(await across('--reaggregation', 'sum', '--fill', '0'), 1), [[0, 11], [1, 22], [2, 3], [3, 44], [5, 10]]);
  assert.deepEqual(rows(await across('--resample', '2', '--reaggregation', 'sum'), 2), [[0, 1.5 + 15], [2, 3.5 + 40]]);

  // By a search over resources, grouped: each resource's "t" metric.
  const [r1, r2] = [randomUUID(), randomUUID()];
  for (const [r, v] of [[r1, 5], [r2, 7]] as const) {
    await asAlice('metric', 'resource', 'create', '--type', 'generic', '-n', 't:seconds', r);
    await asAlice('metric', 'measures', 'add', '--resource-id', r, '-m', `${at(0)}@${v}`, 't');
  }
  const grouped = await asAlice.json('metric', 'measures', 'aggregation', '-m', 't', '--query', `id=${r1} or id=${r2}`, '--granularity', '1', '--reaggregation', 'sum', '--groupby', 'type', '--utc');
  assert.deepEqual(
    grouped.map((g: Row & { group: string }) => [g.group, g.value]),
    [['type: generic', 12]],
  );

  // /v1/aggregates: with fill null a gap leaves the result null; with dropna, the values present count.
  const token = await c.login('alice', 'pw', 'alice');
  const aggregates = async (fill: string) => {
    const r = await c.request('POST', `/metric/v1/aggregates?granularity=1&fill=${fill}`, { token, body: { operations: `(aggregate sum (metric (${a} mean) (${b} mean)))` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.measures.aggregated as [string, number, number | null][]).map(([ts, , v]) => [(Date.parse(ts) - T0) / 1000, v]);
  };
  assert.deepEqual(await aggregates('null'), [[0, 11], [1, 22], [2, null], [3, 44], [5, null]]);
  assert.deepEqual(await aggregates('dropna'), [[0, 11], [1, 22], [2, 3], [3, 44], [5, 10]]);
  const bad = await c.request('POST', '/metric/v1/aggregates?fill=some', { token, body: { operations: `(metric ${a} mean)` } });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.body), /fill must be a float, 'null' or 'dropna'/);
});
