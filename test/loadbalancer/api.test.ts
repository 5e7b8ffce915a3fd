import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminEnv, cliAs, cliFails, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { makeProject } from '../image/helpers.ts';

// Octavia's API where no packet is needed (the load balancers kept in memory): quotas through
// `openstack loadbalancer quota …` and their 403, and L7 policies' and rules' validation,
// positions and statuses.
let c: TestCloud;
let env: Record<string, string>;
let admin: string;
let carol: { id: string; token: string };

before(async () => {
  c = await startTestCloud();
  env = adminEnv(c.url, c.cloud.credentials!.password);
  admin = await c.adminToken();
  carol = await makeProject(c, admin, 'lb-carol');
});
after(async () => {
  await c?.stop();
});

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const lbApi = (token: string, method: string, path: string, body?: unknown) => c.request(method, `/load-balancer/v2.0/lbaas${path}`, { token, body });

/** A subnet of carol's for her load balancers' VIPs. */
async function carolSubnet(): Promise<string> {
  const net = await c.request('POST', '/networking/v2.0/networks', { token: carol.token, body: { network: { name: 'carol-net' } } });
  const sub = await c.request('POST', '/networking/v2.0/subnets', {
    token: carol.token,
    body: { subnet: { network_id: net.body.network.id, cidr: '10.20.0.0/24', ip_version: 4 } },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  return sub.body.subnet.id;
}

const active = (token: string, lbId: string) =>
  eventually(
    `load balancer ${lbId} ACTIVE`,
    async () => (await lbApi(token, 'GET', `/loadbalancers/${lbId}`)).body.loadbalancer.provisioning_status === 'ACTIVE',
  );

test('quotas: defaults, set and show by an admin, enforced with 403, read by the project itself, reset', async () => {
  const defaults = await json('loadbalancer', 'quota', 'defaults', 'show');
  assert.deepEqual([defaults.load_balancer, defaults.listener, defaults.member, defaults.l7policy], [-1, -1, -1, -1]);

  await ok('loadbalancer', 'quota', 'set', '--loadbalancer', '1', '--listener', '1', '--l7policy', '0', 'lb-carol');
  const shown = await json('loadbalancer', 'quota', 'show', 'lb-carol');
  assert.deepEqual([shown.load_balancer, shown.listener, shown.l7policy, shown.pool], [1, 1, 0, -1]);
  const listed = await json('loadbalancer', 'quota', 'list');
  assert.deepEqual(
    listed.map((q: { project_id: string }) => q.project_id),
    [carol.id],
  );

  const subnet = await carolSubnet();
  const first = await lbApi(carol.token, 'POST', '/loadbalancers', { loadbalancer: { vip_subnet_id: subnet, name: 'one' } });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const second = await lbApi(carol.token, 'POST', '/loadbalancers', { loadbalancer: { vip_subnet_id: subnet, name: 'two' } });
  assert.equal(second.status, 403);
  assert.equal(second.body.faultstring, 'Quota has been met for resources: Load Balancer');
  // The refused create took no VIP port.
  const ports = await c.request('GET', '/networking/v2.0/ports?device_owner=Octavia', { token: carol.token });
  assert.equal(ports.body.ports.length, 1);

  const lb = first.body.loadbalancer.id;
  await active(carol.token, lb);
  const l1 = await lbApi(carol.token, 'POST', '/listeners', { listener: { loadbalancer_id: lb, protocol: 'HTTP', protocol_port: 80 } });
  assert.equal(l1.status, 201);
  await active(carol.token, lb);
  const l2 = await lbApi(carol.token, 'POST', '/listeners', { listener: { loadbalancer_id: lb, protocol: 'HTTP', protocol_port: 81 } });
  assert.equal(l2.status, 403);
  assert.match(l2.body.faultstring, /Listener/);
  const policy = await lbApi(carol.token, 'POST', '/l7policies', { l7policy: { listener_id: l1.body.listener.id, action: 'REJECT' } });
  assert.equal(policy.status, 403);

  // A project reads its own quotas, not another's, and sets none.
  assert.equal((await lbApi(carol.token, 'GET', `/quotas/${carol.id}`)).body.quota.load_balancer, 1);
  assert.equal((await lbApi(carol.token, 'GET', '/quotas/some-other-project')).status, 403);
  assert.equal((await lbApi(carol.token, 'PUT', `/quotas/${carol.id}`, { quota: { load_balancer: 10 } })).status, 403);
  assert.equal((await lbApi(admin, 'PUT', `/quotas/${carol.id}`, { quota: { load_balancer: -2 } })).status, 400);
  assert.equal((await lbApi(admin, 'PUT', `/quotas/${carol.id}`, { quota: { bogus: 1 } })).status, 400);

  await ok('loadbalancer', 'quota', 'reset', 'lb-carol');
  assert.equal((await json('loadbalancer', 'quota', 'show', 'lb-carol')).load_balancer, -1);
  await active(carol.token, lb);
  assert.equal((await lbApi(carol.token, 'POST', '/listeners', { listener: { loadbalancer_id: lb, protocol: 'HTTP', protocol_port: 81 } })).status, 201);
  await active(carol.token, lb);
  assert.equal((await lbApi(carol.token, 'DELETE', `/loadbalancers/${lb}?cascade=true`)).status, 204);
});

test('L7 policies: Octavia’s validation, positions kept dense, statuses through the policy, cascade with the listener', async () => {
  await ok('network', 'create', 'l7-net');
  await ok('subnet', 'create', '--network', 'l7-net', '--subnet-range', '10.30.0.0/24', 'l7-subnet');
  await ok('loadbalancer', 'create', '--name', 'l7lb', '--vip-subnet-id', 'l7-subnet', '--wait');
  await ok('loadbalancer', 'listener', 'create', '--name', 'web', '--protocol', 'HTTP', '--protocol-port', '80', '--wait', 'l7lb');
  await ok('loadbalancer', 'listener', 'create', '--name', 'raw', '--protocol', 'TCP', '--protocol-port', '22', '--wait', 'l7lb');
  await ok('loadbalancer', 'pool', 'create', '--name', 'api', '--lb-algorithm', 'ROUND_ROBIN', '--loadbalancer', 'l7lb', '--protocol', 'HTTP', '--wait');
  await ok('loadbalancer', 'pool', 'create', '--name', 'tcp', '--lb-algorithm', 'ROUND_ROBIN', '--loadbalancer', 'l7lb', '--protocol', 'TCP', '--wait');
  const fails = (...args: string[]) => cliFails(env, 'loadbalancer', ...args);
  // octaviaclient sends the connection limit as a string; a number written so is taken, words are not.
  await ok('loadbalancer', 'listener', 'set', '--connection-limit', '100', '--wait', 'raw');
  assert.equal((await json('loadbalancer', 'listener', 'show', 'raw')).connection_limit, 100);
  const raw = (await json('loadbalancer', 'listener', 'show', 'raw')).id;
  assert.equal((await lbApi(admin, 'PUT', `/listeners/${raw}`, { listener: { connection_limit: 'many' } })).status, 400);
  // A protocol Octavia knows but HAProxy here does not serve is the provider's 501, saying why; an
  // unknown one is a 400.
  assert.match(await fails('listener', 'create', '--protocol', 'TERMINATED_HTTPS', '--protocol-port', '443', 'l7lb'), /Provider 'nubo' does not support a requested option: protocol TERMINATED_HTTPS \(its certificate would come from a key manager/);
  const lbId = (await json('loadbalancer', 'show', 'l7lb')).id;
  const udp = await lbApi(admin, 'POST', '/pools', { pool: { loadbalancer_id: lbId, protocol: 'UDP', lb_algorithm: 'ROUND_ROBIN' } });
  assert.equal(udp.status, 501);
  assert.match(udp.body.faultstring, /protocol UDP \(HAProxy balances TCP only\)/);
  assert.equal((await lbApi(admin, 'POST', '/listeners', { listener: { loadbalancer_id: lbId, protocol: 'GOPHER', protocol_port: 70 } })).status, 400);

  assert.match(await fails('l7policy', 'create', '--action', 'REJECT', 'raw'), /only valid on HTTP listeners/);
  assert.match(await fails('l7policy', 'create', '--action', 'REDIRECT_TO_POOL', '--redirect-pool', 'tcp', 'web'), /pool protocol 'TCP'/);
  assert.match(await fails('l7policy', 'create', '--action', 'REDIRECT_TO_URL', '--redirect-url', 'not a url', 'web'), /valid URL|redirect-url/i);
  const bad = await lbApi(admin, 'POST', '/l7policies', {
    l7policy: { listener_id: (await json('loadbalancer', 'listener', 'show', 'web')).id, action: 'REDIRECT_TO_POOL' },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.faultstring, /valid pool must be specified/);

  const a = await json('loadbalancer', 'l7policy', 'create', '--name', 'a', '--action', 'REDIRECT_TO_POOL', '--redirect-pool', 'api', '--wait', 'web');
  await ok('loadbalancer', 'l7policy', 'create', '--name', 'b', '--action', 'REJECT', '--wait', 'web');
  const first = await json(
    'loadbalancer',
    'l7policy',
    'create',
    '--name',
    'first',
    '--action',
    'REDIRECT_PREFIX',
    '--redirect-prefix',
    'https://example.com',
    '--redirect-http-code',
    '308',
    '--position',
    '1',
    '--wait',
    'web',
  );
  assert.equal(first.redirect_http_code, 308);
  const order = async () => (await json('loadbalancer', 'l7policy', 'list')).map((p: { name: string; position: number }) => `${p.position}:${p.name}`);
  assert.deepEqual(await order(), ['1:first', '2:a', '3:b']);
  await ok('loadbalancer', 'l7policy', 'set', '--position', '3', '--wait', 'first');
  assert.deepEqual(await order(), ['1:a', '2:b', '3:first']);
  assert.equal((await json('loadbalancer', 'l7policy', 'show', 'a')).redirect_pool_id, (await json('loadbalancer', 'pool', 'show', 'api')).id);

  // Rules: each type's needs; a new one is PENDING_CREATE until the agent applied it.
  const rule = (policy: string, body: object) => lbApi(admin, 'POST', `/l7policies/${policy}/rules`, { rule: body });
  assert.match((await rule(a.id, { type: 'HEADER', compare_type: 'EQUAL_TO', value: 'x' })).body.faultstring, /needs a key/);
  assert.match((await rule(a.id, { type: 'PATH', compare_type: 'REGEX', value: '([' })).body.faultstring, /not a valid regular expression/);
  assert.match((await rule(a.id, { type: 'FILE_TYPE', compare_type: 'STARTS_WITH', value: 'js' })).body.faultstring, /EQUAL_TO or REGEX/);
  assert.match((await rule(a.id, { type: 'PATH', compare_type: 'EQUAL_TO', value: "/a'b" })).body.faultstring, /quotes/);
  assert.equal((await rule(a.id, { type: 'PATH', compare_type: 'SOMETIMES', value: '/a' })).status, 400);
  const made = await rule(a.id, { type: 'COOKIE', compare_type: 'CONTAINS', key: 'beta', value: 'on', invert: true });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual([made.body.rule.key, made.body.rule.invert, made.body.rule.provisioning_status], ['beta', true, 'PENDING_CREATE']);
  await eventually('the policy ACTIVE again', async () => (await json('loadbalancer', 'l7policy', 'show', 'a')).provisioning_status === 'ACTIVE');
  assert.equal((await json('loadbalancer', 'l7rule', 'show', a.id, made.body.rule.id)).provisioning_status, 'ACTIVE');
  await ok('loadbalancer', 'l7rule', 'set', '--value', 'yes', a.id, made.body.rule.id);
  await eventually('the rule changed', async () => (await json('loadbalancer', 'l7rule', 'show', a.id, made.body.rule.id)).provisioning_status === 'ACTIVE');
  assert.equal((await json('loadbalancer', 'l7rule', 'list', a.id))[0].value, 'yes');
  const listener = (await lbApi(admin, 'GET', `/listeners/${a.listener_id}`)).body.listener;
  assert.deepEqual(
    listener.l7policies.map((p: { id: string }) => p.id),
    [a.id, (await json('loadbalancer', 'l7policy', 'show', 'b')).id, first.id],
  );

  // Another project sees none of it.
  assert.equal((await lbApi(carol.token, 'GET', `/l7policies/${a.id}`)).status, 404);
  assert.deepEqual((await lbApi(carol.token, 'GET', '/l7policies')).body.l7policies, []);

  // The pool a policy sends to cannot go; the listener takes its policies and rules with it.
  assert.match(await fails('pool', 'delete', 'api'), /in use by L7 policy/);
  await ok('loadbalancer', 'listener', 'delete', '--wait', 'web');
  assert.deepEqual(await json('loadbalancer', 'l7policy', 'list'), []);
  assert.equal((await lbApi(admin, 'GET', `/l7policies/${a.id}/rules/${made.body.rule.id}`)).status, 404);
  await ok('loadbalancer', 'delete', '--cascade', '--wait', 'l7lb');
});
