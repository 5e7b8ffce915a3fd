import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { makeProject } from '../image/helpers.ts';
import { QosPolicySchema, QosRuleSchema } from '../../src/network/api/qos.ts';
import type { FakeDataplane } from '../../src/network/dataplane/fake.ts';
import { assertSchema } from '../helpers/schema.ts';
import { eventually } from '../helpers/netns.ts';

// QoS policies and extra DHCP options over HTTP, with the fake data plane: who may make, see and
// use a policy, Neutron's refusals, every answer held to its schema, and what the agent is asked
// to enforce (a port's own policy over its network's; each port's DHCP options).
let c: TestCloud;
let dp: FakeDataplane;
type Client = ReturnType<typeof neutronOf>;
let admin: Client;
let alice: Client & { project: string };
let bob: Client & { project: string };

const OnePolicy = Type.Object({ policy: QosPolicySchema }, { additionalProperties: false });
const Policies = Type.Object({ policies: Type.Array(QosPolicySchema) }, { additionalProperties: false });

before(async () => {
  c = await startTestCloud();
  dp = c.cloud.network.dataplane as FakeDataplane;
  const token = await c.adminToken();
  admin = neutronOf(c, token);
  const a = await makeProject(c, token, 'qalice');
  const b = await makeProject(c, token, 'qbob');
  alice = { ...neutronOf(c, a.token), project: a.id };
  bob = { ...neutronOf(c, b.token), project: b.id };
});
after(() => c?.stop());

test('QoS policies: made by the admin, seen by their project or by all when shared, used by networks and ports', async () => {
  assert.equal((await alice.call('POST', '/qos/policies', { policy: { name: 'mine' } })).status, 403);
  const shared = (await admin.ok('POST', '/qos/policies', { policy: { name: 'shared', shared: true, description: 'for all' } })).policy;
  assertSchema(QosPolicySchema, shared);
  const own = (await admin.ok('POST', '/qos/policies', { policy: { name: 'alice-default', project_id: alice.project, is_default: true } })).policy;
  assert.deepEqual([own.project_id, own.is_default, own.shared], [alice.project, true, false]);
  const second = await admin.call('POST', '/qos/policies', { policy: { name: 'again', project_id: alice.project, is_default: true } });
  assert.equal(second.status, 409);
  assert.match(second.body.NeutronError.message, /A default QoS policy exists for project/);

  const seen = async (who: Client) => {
    const body = await who.ok('GET', '/qos/policies');
    assertSchema(Policies, body);
    return body.policies.map((p: { id: string }) => p.id).sort();
  };
  assert.deepEqual(await seen(alice), [shared.id, own.id].sort());
  assert.deepEqual(await seen(bob), [shared.id]);
  assert.equal((await bob.call('GET', `/qos/policies/${own.id}`)).status, 404);
  assertSchema(OnePolicy, await alice.ok('GET', `/qos/policies/${own.id}`));

  // Rules, by type, as the API defines them.
  const path = `/qos/policies/${own.id}`;
  const bw = (await admin.ok('POST', `${path}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 10000 } })).bandwidth_limit_rule;
  assertSchema(QosRuleSchema, bw);
  assert.deepEqual([bw.max_burst_kbps, bw.direction], [0, 'egress']);
  assert.equal((await admin.call('POST', `${path}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 5 } })).status, 409);
  const inbound = (await admin.ok('POST', `${path}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 2000, max_burst_kbps: 100, direction: 'ingress' } }))
    .bandwidth_limit_rule;
  assert.equal((await admin.call('POST', `${path}/dscp_marking_rules`, { dscp_marking_rule: { dscp_mark: 7 } })).status, 400);
  assert.equal((await admin.call('POST', `${path}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: -1 } })).status, 400);
  assert.equal((await admin.call('POST', `${path}/minimum_bandwidth_rules`, { minimum_bandwidth_rule: {} })).status, 400);
  assertSchema(QosRuleSchema, (await admin.ok('POST', `${path}/dscp_marking_rules`, { dscp_marking_rule: { dscp_mark: 26 } })).dscp_marking_rule);
  assertSchema(QosRuleSchema, (await admin.ok('POST', `${path}/minimum_bandwidth_rules`, { minimum_bandwidth_rule: { min_kbps: 1000 } })).minimum_bandwidth_rule);
  assert.equal((await alice.call('POST', `${path}/dscp_marking_rules`, { dscp_marking_rule: { dscp_mark: 8 } })).status, 403);
  const updated = (await admin.ok('PUT', `${path}/bandwidth_limit_rules/${bw.id}`, { bandwidth_limit_rule: { max_kbps: 20000 } })).bandwidth_limit_rule;
  assert.equal(updated.max_kbps, 20000);
  assert.equal((await alice.ok('GET', `${path}/bandwidth_limit_rules`)).bandwidth_limit_rules.length, 2);
  assert.equal((await alice.ok('GET', path)).policy.rules.length, 4);
  const types = (await alice.ok('GET', '/qos/rule-types')).rule_types.map((t: { type: string }) => t.type);
  assert.deepEqual(types.sort(), ['bandwidth_limit', 'dscp_marking', 'minimum_bandwidth']);
  assert.equal((await alice.ok('GET', '/qos/rule-types/bandwidth_limit')).rule_type.drivers[0].supported_parameters.length, 3);
  assert.equal((await alice.call('GET', '/qos/rule-types/nope')).status, 404);
  assert.ok((await alice.ok('GET', '/extensions')).extensions.some((e: { alias: string }) => e.alias === 'qos'));

  // A new network of alice's takes her default policy; bob cannot use hers.
  const net = (await alice.ok('POST', '/networks', { network: { name: 'qnet' } })).network;
  assert.equal(net.qos_policy_id, own.id);
  assert.equal((await bob.call('POST', '/networks', { network: { name: 'b', qos_policy_id: own.id } })).status, 404);
  assert.equal((await bob.ok('POST', '/networks', { network: { name: 'b', qos_policy_id: shared.id } })).network.qos_policy_id, shared.id);
  await alice.ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.70.0.0/24', ip_version: 4 } });

  // What the agent enforces: the network's policy for a port without one, its own otherwise.
  const port = (await alice.ok('POST', '/ports', { port: { network_id: net.id, device_owner: 'compute:nova' } })).port;
  assert.deepEqual([port.qos_policy_id, port.qos_network_policy_id], [null, own.id]);
  await admin.ok('PUT', `/ports/${port.id}`, { port: { 'binding:host_id': c.cloud.config.computeHost } });
  await eventually('the port is wired with its network’s limits', async () => dp.ports.get(port.id)?.qos?.ingress?.maxKbps === 2000);
  assert.deepEqual(dp.ports.get(port.id)!.qos, { egress: { maxKbps: 20000, maxBurstKbps: 0 }, ingress: { maxKbps: 2000, maxBurstKbps: 100 } });
  await alice.ok('PUT', `/ports/${port.id}`, { port: { qos_policy_id: shared.id } });
  await eventually('the port’s own (empty) policy wins', async () => dp.ports.get(port.id)?.qos === undefined);
  await admin.ok('POST', `/qos/policies/${shared.id}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 3000 } });
  await eventually('a new rule reaches the ports that use the policy', async () => dp.ports.get(port.id)?.qos?.egress?.maxKbps === 3000);

  const inUse = await admin.call('DELETE', `/qos/policies/${shared.id}`);
  assert.equal(inUse.status, 409);
  assert.match(inUse.body.NeutronError.message, /is used by port/);
  await alice.ok('PUT', `/ports/${port.id}`, { port: { qos_policy_id: null } });
  await admin.ok('DELETE', `${path}/bandwidth_limit_rules/${inbound.id}`);
  await eventually('a deleted rule is lifted', async () => dp.ports.get(port.id)?.qos?.ingress === undefined);
  await alice.ok('PUT', `/networks/${net.id}`, { network: { qos_policy_id: null } });
  await eventually('no policy, no limits', async () => dp.ports.get(port.id)?.qos === undefined);
});

test('extra DHCP options: checked, merged by name on update, and given to the port’s DHCP host only', async () => {
  const net = (await alice.ok('POST', '/networks', { network: { name: 'dnet', qos_policy_id: null } })).network;
  await alice.ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.71.0.0/24', ip_version: 4 } });
  const bad = await alice.call('POST', '/ports', { port: { network_id: net.id, extra_dhcp_opts: [{ opt_name: 'not-an-option', opt_value: 'x' }] } });
  assert.equal(bad.status, 400);
  const newline = await alice.call('POST', '/ports', { port: { network_id: net.id, extra_dhcp_opts: [{ opt_name: 'domain-name', opt_value: 'a\nb' }] } });
  assert.equal(newline.status, 400);
  const opts = [
    { opt_name: 'domain-name', opt_value: 'one.example', ip_version: 4 },
    { opt_name: '42', opt_value: '10.71.0.9', ip_version: '4' },
  ];
  const port = (await alice.ok('POST', '/ports', { port: { network_id: net.id, extra_dhcp_opts: opts } })).port;
  const plain = (await alice.ok('POST', '/ports', { port: { network_id: net.id } })).port;
  assert.deepEqual(port.extra_dhcp_opts, [
    { opt_name: 'domain-name', opt_value: 'one.example', ip_version: 4 },
    { opt_name: '42', opt_value: '10.71.0.9', ip_version: 4 },
  ]);
  const changed = (
    await alice.ok('PUT', `/ports/${port.id}`, {
      port: { extra_dhcp_opts: [{ opt_name: 'domain-name', opt_value: 'two.example' }, { opt_name: '42', opt_value: null }] },
    })
  ).port;
  assert.deepEqual(changed.extra_dhcp_opts, [{ opt_name: 'domain-name', opt_value: 'two.example', ip_version: 4 }]);
  const hostOf = (mac: string) => dp.dhcp.get(net.id)?.hosts.find((h) => h.mac === mac);
  await eventually('the DHCP host of the port carries its option', async () => hostOf(port.mac_address)?.options?.[0]?.value === 'two.example');
  assert.deepEqual(hostOf(port.mac_address)!.options, [{ name: 'domain-name', value: 'two.example' }]);
  assert.equal(hostOf(plain.mac_address)!.options, undefined);
});
