import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminEnv, cliAs, cliFails, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { openstackMessage } from '../helpers/error-format.ts';

// Aodh's threshold alarms through python3-aodhclient's `openstack alarm …`: evaluated every second
// by the controller from the metric store's roll-ups, their actions a webhook served by this test
// on loopback, and each project kept to its own alarms.
let c: TestCloud;
let admin: Record<string, string>;
let hook: Server;
let hookUrl: string;
const calls: { path: string; body: any }[] = [];
const env = (user: string) => ({ ...admin, OS_USERNAME: user, OS_PASSWORD: 'pw', OS_PROJECT_NAME: user });
const cli = (e: () => Record<string, string>) => {
  const run = cliAs(e);
  return Object.assign(run, { json: async (...args: string[]) => JSON.parse(await run(...args, '-f', 'json')) });
};
const asAdmin = cli(() => admin);
const asAlice = cli(() => env('alice'));
const asBob = cli(() => env('bob'));
const server = '7b1e2c3d-0000-4000-8000-00000000a1a1';

before(async () => {
  c = await startTestCloud({ env: { NUBO_ALARM_EVALUATION_INTERVAL: '1' } });
  admin = adminEnv(c.url, c.cloud.credentials!.password);
  for (const who of ['alice', 'bob']) {
    await asAdmin('project', 'create', who);
    await asAdmin('user', 'create', '--project', who, '--password', 'pw', who);
    await asAdmin('role', 'add', '--project', who, '--user', who, 'member');
  }
  hook = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      calls.push({ path: req.url!, body: JSON.parse(text) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  await asAlice('metric', 'resource', 'create', '--type', 'instance', server, '-a', 'host:h1', '-a', 'display_name:web', '-a', 'flavor_id:1', '-n', 'cpu:ceilometer-high-rate');
});
after(async () => {
  await c?.stop();
  hook?.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
const stateOf = async (id: string, as = asAlice) => (await as.json('alarm', 'state', 'get', id)).state as string;
const addCpu = (...points: [number, number][]) =>
  asAlice('metric', 'measures', 'add', ...points.flatMap(([t, v]) => ['-m', `${new Date(t).toISOString()}@${v}`]), '--resource-id', server, 'cpu');

let hot: string;

test('an alarm over the instances a query finds goes ok, then alarm, as measures cross its threshold, and calls its webhooks with Aodh’s body', async () => {
  const created = await asAlice.json('alarm', 'create', '--name', 'hot', '--type', 'gnocchi_aggregation_by_resources_threshold',
    ...['--metric', 'cpu', '--threshold', '5000000000', '--comparison-operator', 'gt', '--aggregation-method', 'rate:mean'],
    ...['--granularity', '60', '--evaluation-periods', '1', '--resource-type', 'instance', '--query', JSON.stringify({ '=': { display_name: 'web' } })],
    ...['--alarm-action', `${hookUrl}/alarm`, '--ok-action', `${hookUrl}/ok`]);
  hot = created.alarm_id;
  assert.equal(created.state, 'insufficient data');
  assert.equal(created.aggregation_method, 'rate:mean');
  assert.equal(created.threshold, 5e9);
  assert.deepEqual(created.alarm_actions, [`${hookUrl}/alarm`]);

  // A counter rising by 1 s of CPU within a minute: under the threshold.
  const now = Date.now();
  await addCpu([now - 65_000, 0], [now - 64_000, 1e9]);
  await until('ok', async () => ((await stateOf(hot)) === 'ok' ? true : undefined));
  const ok = await until('the ok webhook', async () => calls.find((x) => x.path === '/ok'));
  assert.deepEqual(ok.body, {
    alarm_id: hot,
    alarm_name: 'hot',
    severity: 'low',
    previous: 'insufficient data',
    current: 'ok',
    reason: 'Transition to ok due to 1 samples inside threshold, most recent: 1000000000',
    reason_data: { type: 'threshold', disposition: 'inside', count: 1, most_recent: 1e9 },
  });

  // Then 100 s of CPU in the minute of now: over it.
  await addCpu([Date.now(), 1e9 + 1e11]);
  await until('alarm', async () => ((await stateOf(hot)) === 'alarm' ? true : undefined));
  const fired = await until('the alarm webhook', async () => calls.find((x) => x.path === '/alarm'));
  assert.equal(fired.body.previous, 'ok');
  assert.equal(fired.body.current, 'alarm');
  assert.match(fired.body.reason, /^Transition to alarm due to 1 samples outside threshold, most recent: 100000000000$/);
  assert.deepEqual(fired.body.reason_data, { type: 'threshold', disposition: 'outside', count: 1, most_recent: 1e11 });

  // Without repeat_actions a state that stays calls nothing more; with it, every evaluation does.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(calls.filter((x) => x.path === '/alarm').length, 1);
  await asAlice('alarm', 'update', '--repeat-actions', 'True', hot);
  await until('repeated actions', async () => (calls.filter((x) => x.path === '/alarm').length >= 3 ? true : undefined));
  await asAlice('alarm', 'update', '--repeat-actions', 'False', hot);

  const history = await asAlice.json('alarm-history', 'show', hot);
  const transitions = history.filter((h: { type: string }) => h.type === 'state transition').map((h: { detail: string }) => JSON.parse(h.detail).state);
  assert.deepEqual(transitions, ['alarm', 'ok']);
  assert.ok(history.some((h: { type: string }) => h.type === 'creation'));
  assert.ok(history.some((h: { type: string; detail: string }) => h.type === 'rule change' && JSON.parse(h.detail).repeat_actions === true));
});

test('an alarm on one resource; list, show by name, update, state set and get, delete', async () => {
  const one = await asAlice.json('alarm', 'create', '--name', 'idle', '--type', 'gnocchi_resources_threshold', '--metric', 'cpu', '--resource-id', server,
    ...['--resource-type', 'instance', '--aggregation-method', 'rate:mean', '--threshold', '1000', '--comparison-operator', 'lt', '--granularity', '60', '--severity', 'critical']);
  // The newest minute rose by 1e11 ns: not idle.
  await until('ok', async () => ((await stateOf(one.alarm_id)) === 'ok' ? true : undefined));
  const listed = await asAlice.json('alarm', 'list');
  assert.deepEqual(listed.map((a: { name: string }) => a.name).sort(), ['hot', 'idle']);
  assert.deepEqual(
    (await asAlice.json('alarm', 'list', '--filter', 'severity=critical')).map((a: { alarm_id: string }) => a.alarm_id),
    [one.alarm_id],
  );
  const shown = await asAlice.json('alarm', 'show', 'idle');
  assert.equal(shown.alarm_id, one.alarm_id);
  assert.equal(shown.resource_id, server);

  // Over 1e12 it is idle: the evaluator follows the new rule.
  const updated = await asAlice.json('alarm', 'update', '--threshold', '1000000000000', one.alarm_id);
  assert.equal(updated.threshold, 1e12);
  assert.equal(updated.severity, 'critical');
  await until('alarm', async () => ((await stateOf(one.alarm_id)) === 'alarm' ? true : undefined));

  await asAlice('alarm', 'update', '--enabled', 'False', one.alarm_id);
  assert.equal((await asAlice.json('alarm', 'state', 'set', '--state', 'ok', one.alarm_id)).state, 'ok');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await stateOf(one.alarm_id), 'ok', 'a disabled alarm is not evaluated');
  await asAlice('alarm', 'delete', 'idle');
  assert.match(await cliFails(env('alice'), 'alarm', 'show', one.alarm_id), /not found/);
});

test('each project sees and changes only its own alarms; an admin sees all', async () => {
  assert.deepEqual(await asBob.json('alarm', 'list'), []);
  assert.match(await cliFails(env('bob'), 'alarm', 'show', hot), /not found/);
  assert.match(await cliFails(env('bob'), 'alarm', 'delete', hot), /not found/);
  assert.match(await cliFails(env('bob'), 'alarm', 'state', 'set', '--state', 'ok', hot), /not found/);
  assert.match(await cliFails(env('bob'), 'alarm-history', 'show', hot), /not found/);
  assert.ok((await asAdmin.json('alarm', 'list')).some((a: { alarm_id: string }) => a.alarm_id === hot));
  // Bob's alarm cannot watch Alice's resource, nor be made in her project.
  const alice = (await asAdmin.json('project', 'show', 'alice')).id;
  const rule = ['--metric', 'cpu', '--resource-type', 'instance', '--aggregation-method', 'mean', '--threshold', '1'];
  assert.match(await cliFails(env('bob'), 'alarm', 'create', '--name', 'spy', '--type', 'gnocchi_resources_threshold', '--resource-id', server, ...rule), /does not exist/);
  assert.match(await cliFails(env('bob'), 'alarm', 'create', '--name', 'spy', '--type', 'gnocchi_resources_threshold', '--resource-id', server, '--project-id', alice, ...rule), /Not authorized/);
  // Bob's query-based alarm finds none of Alice's instances: insufficient data, whatever her load.
  const blind = await asBob.json('alarm', 'create', '--name', 'blind', '--type', 'gnocchi_aggregation_by_resources_threshold', '--query', '{"=": {"display_name": "web"}}', ...rule);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await stateOf(blind.alarm_id, asBob), 'insufficient data');
  assert.match((await asBob.json('alarm', 'show', blind.alarm_id)).state_reason, /datapoints are unknown/);
});

test('bad input gets Aodh’s 4xx errors', async () => {
  const token = await c.login('alice', 'pw', 'alice');
  const good = { name: 'x', type: 'gnocchi_resources_threshold', gnocchi_resources_threshold_rule: { metric: 'cpu', resource_id: server, resource_type: 'instance', aggregation_method: 'mean', threshold: 1 } };
  const rule = good.gnocchi_resources_threshold_rule;
  const cases: [unknown, number, RegExp][] = [
    [{}, 400, /type must be one of/],
    [{ ...good, type: 'threshold' }, 400, /type must be one of/],
    [{ ...good, gnocchi_resources_threshold_rule: undefined }, 400, /gnocchi_resources_threshold_rule is required/],
    [{ ...good, gnocchi_resources_threshold_rule: { ...rule, threshold: 'hot' } }, 400, /threshold must be a number/],
    [{ ...good, gnocchi_resources_threshold_rule: { ...rule, comparison_operator: 'gte' } }, 400, /comparison_operator must be one of/],
    [{ ...good, gnocchi_resources_threshold_rule: { ...rule, aggregation_method: 'median' } }, 400, /aggregation_method median/],
    [{ ...good, gnocchi_resources_threshold_rule: { ...rule, granularity: -60 } }, 400, /granularity must be a positive integer/],
    [{ ...good, gnocchi_resources_threshold_rule: { ...rule, resource_type: 'nothing' } }, 400, /Resource type nothing does not exist/],
    [{ ...good, type: 'gnocchi_aggregation_by_resources_threshold', gnocchi_aggregation_by_resources_threshold_rule: { ...rule, query: '{"=": ' } }, 400, /filter/i],
    [{ ...good, alarm_actions: ['file:///etc/passwd'] }, 400, /Unsupported action/],
    [{ ...good, severity: 'dire' }, 400, /severity must be one of/],
    [{ ...good, name: 'hot' }, 409, /Alarm with name='hot' exists/],
  ];
  for (const [body, status, message] of cases) {
    const r = await c.request('POST', '/alarming/v2/alarms', { token, body });
    assert.equal(r.status, status, JSON.stringify(body));
    const said = openstackMessage('alarming', r.body);
    assert.match(said ?? '', message, JSON.stringify(r.body));
  }
  const state = await c.request('PUT', `/alarming/v2/alarms/${hot}/state`, { token, body: 'burning' });
  assert.equal(state.status, 400);
  assert.match(openstackMessage('alarming', state.body) ?? '', /state must be one of/);
  assert.equal((await c.request('GET', '/alarming/v2/alarms/nope', { token })).status, 404);
  const q = await c.request('GET', '/alarming/v2/alarms?q.field=colour&q.op=eq&q.value=red', { token });
  assert.equal(q.status, 400);
  assert.match(openstackMessage('alarming', q.body) ?? '', /Unknown query field colour/);
});
