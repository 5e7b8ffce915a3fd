import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { makeProject } from '../image/helpers.ts';
import { RbacPolicySchema } from '../../src/network/api/rbac-policies.ts';
import { assertSchema } from '../helpers/schema.ts';

// RBAC policies over HTTP: a network shared with one project is seen and used by it and by no
// other; a grant in use is not taken back; external access likewise; shared derives from grants.
let c: TestCloud;
type Client = ReturnType<typeof clientOf>;
let admin: Client;
let alice: Client & { project: string };
let bob: Client & { project: string };
let carol: Client & { project: string };

const clientOf = (token: string) => {
  const { call, ok } = neutronOf(c, token);
  return { call, ok };
};
const One = Type.Object({ rbac_policy: RbacPolicySchema }, { additionalProperties: false });
const Many = Type.Object({ rbac_policies: Type.Array(RbacPolicySchema) }, { additionalProperties: false });

before(async () => {
  c = await startTestCloud();
  const token = await c.adminToken();
  admin = clientOf(token);
  for (const name of ['alice', 'bob', 'carol']) {
    const p = await makeProject(c, token, name);
    const client = { ...clientOf(p.token), project: p.id };
    if (name === 'alice') alice = client;
    else if (name === 'bob') bob = client;
    else carol = client;
  }
});
after(() => c?.stop());

const names = async (who: Client, path: string, key: string) => ((await who.ok('GET', path))[key] as { id: string }[]).map((x) => x.id);

test('a network shared with one project is seen and used by it, and invisible to another', async () => {
  const net = (await alice.ok('POST', '/networks', { network: { name: 'team' } })).network;
  const sub = (await alice.ok('POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.60.0.0/24' } })).subnet;
  assert.deepEqual(await names(bob, '/networks', 'networks'), []);

  const made = await alice.call('POST', '/rbac-policies', {
    rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: bob.project },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assertSchema(One, made.body);
  const policy = made.body.rbac_policy;
  assert.deepEqual([policy.project_id, policy.object_id, policy.target_tenant], [alice.project, net.id, bob.project]);
  assertSchema(One, await alice.ok('GET', `/rbac-policies/${policy.id}`));
  assertSchema(Many, await alice.ok('GET', '/rbac-policies'));
  assertSchema(Many, await admin.ok('GET', `/rbac-policies?object_id=${net.id}`));
  // The policy is its owner's (and the admin's) to see, not its target's.
  assert.deepEqual(await names(bob, '/rbac-policies', 'rbac_policies'), []);
  assert.equal((await carol.call('GET', `/rbac-policies/${policy.id}`)).status, 404);

  // shared is true for the project it is shared with; for the owner it is not shared with all.
  const seen = (await bob.ok('GET', '/networks')).networks;
  assert.deepEqual(
    seen.map((n: any) => [n.id, n.shared]),
    [[net.id, true]],
  );
  assert.equal((await alice.ok('GET', `/networks/${net.id}`)).network.shared, false);
  assert.deepEqual(await names(bob, '/subnets', 'subnets'), [sub.id]);
  assert.equal((await bob.ok('GET', `/subnets/${sub.id}`)).subnet.network_id, net.id);
  const port = (await bob.ok('POST', '/ports', { port: { network_id: net.id, name: 'bobs' } })).port;
  assert.equal(port.project_id, bob.project);
  // Alice sees bob's port on her network; bob does not see her DHCP port.
  assert.ok((await names(alice, `/ports?network_id=${net.id}`, 'ports')).includes(port.id));
  assert.deepEqual(await names(bob, `/ports?network_id=${net.id}`, 'ports'), [port.id]);

  // Carol: not listed, 404 for the network, its subnet and a port on it.
  assert.deepEqual(await names(carol, '/networks', 'networks'), []);
  assert.deepEqual(await names(carol, '/subnets', 'subnets'), []);
  assert.equal((await carol.call('GET', `/networks/${net.id}`)).status, 404);
  assert.equal((await carol.call('GET', `/subnets/${sub.id}`)).status, 404);
  assert.equal((await carol.call('POST', '/ports', { port: { network_id: net.id } })).status, 404);

  // The same grant twice: 409. Sharing with every project is the admin's.
  const twice = await alice.call('POST', '/rbac-policies', {
    rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: bob.project },
  });
  assert.equal(twice.status, 409);
  assert.equal(twice.body.NeutronError.type, 'DuplicateRbacPolicy');
  const wildcard = await alice.call('POST', '/rbac-policies', {
    rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: '*' },
  });
  assert.equal(wildcard.status, 403);
  // Bob may not share alice's network further.
  const further = await bob.call('POST', '/rbac-policies', {
    rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: carol.project },
  });
  assert.equal(further.status, 403);

  // In use by bob's port: neither deleted nor moved to carol; free once the port goes.
  const inUse = await alice.call('DELETE', `/rbac-policies/${policy.id}`);
  assert.equal(inUse.status, 409, JSON.stringify(inUse.body));
  assert.equal(inUse.body.NeutronError.type, 'RbacPolicyInUse');
  assert.equal((await alice.call('PUT', `/rbac-policies/${policy.id}`, { rbac_policy: { target_tenant: carol.project } })).status, 409);
  await bob.ok('DELETE', `/ports/${port.id}`);
  const moved = (await alice.ok('PUT', `/rbac-policies/${policy.id}`, { rbac_policy: { target_tenant: carol.project } })).rbac_policy;
  assertSchema(RbacPolicySchema, moved);
  assert.deepEqual(await names(bob, '/networks', 'networks'), []);
  assert.deepEqual(await names(carol, '/networks', 'networks'), [net.id]);
  assert.equal((await alice.call('DELETE', `/rbac-policies/${policy.id}`)).status, 204);
  assert.deepEqual(await names(carol, '/networks', 'networks'), []);
  assert.equal((await alice.call('GET', `/rbac-policies/${policy.id}`)).status, 404);
});

test('shared: true is a grant to every project, and unsharing a network in use is refused', async () => {
  const net = (await admin.ok('POST', '/networks', { network: { name: 'everyone', shared: true } })).network;
  assert.equal(net.shared, true);
  const grants = (await admin.ok('GET', `/rbac-policies?object_id=${net.id}`)).rbac_policies;
  assert.deepEqual(
    grants.map((g: any) => [g.action, g.target_tenant]),
    [['access_as_shared', '*']],
  );
  await admin.ok('POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.61.0.0/24' } });
  assert.equal((await carol.ok('GET', `/networks/${net.id}`)).network.shared, true);
  const port = (await carol.ok('POST', '/ports', { port: { network_id: net.id } })).port;
  const refused = await admin.call('PUT', `/networks/${net.id}`, { network: { shared: false } });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.NeutronError.type, 'InvalidSharedSetting');
  assert.equal((await admin.call('DELETE', `/rbac-policies/${grants[0].id}`)).status, 409);
  // A grant to carol herself keeps her port's access: then the wildcard may go.
  await admin.ok('POST', '/rbac-policies', {
    rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: carol.project },
  });
  assert.equal((await admin.ok('PUT', `/networks/${net.id}`, { network: { shared: false } })).network.shared, false);
  assert.deepEqual(await names(bob, '/networks', 'networks'), []);
  assert.equal((await carol.ok('GET', `/networks/${net.id}`)).network.shared, true);
  await carol.ok('DELETE', `/ports/${port.id}`);
});

test('access_as_external makes the network external to the target project only', async () => {
  const net = (await admin.ok('POST', '/networks', { network: { name: 'uplink' } })).network;
  assert.equal(net['router:external'], false);
  const sub = (await admin.ok('POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '172.30.0.0/24', enable_dhcp: false } })).subnet;
  const policy = (
    await admin.ok('POST', '/rbac-policies', {
      rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_external', target_tenant: bob.project },
    })
  ).rbac_policy;
  assertSchema(RbacPolicySchema, policy);
  const seen = (await bob.ok('GET', `/networks/${net.id}`)).network;
  assert.deepEqual([seen['router:external'], seen.shared], [true, false]);
  // Its subnets are seen as Neutron shows them, by the projects it is external to.
  assert.deepEqual(await names(bob, `/subnets?network_id=${net.id}`, 'subnets'), [sub.id]);
  assert.equal((await carol.call('GET', `/networks/${net.id}`)).status, 404);
  assert.equal((await carol.call('GET', `/subnets/${sub.id}`)).status, 404);
  // External is not shared: bob cannot put a port of his own on it.
  assert.equal((await bob.call('POST', '/ports', { port: { network_id: net.id } })).status, 403);
  // Bob's router uses it as its gateway: the grant is in use.
  const router = (await bob.ok('POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: net.id } } })).router;
  const inUse = await admin.call('DELETE', `/rbac-policies/${policy.id}`);
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.NeutronError.type, 'RbacPolicyInUse');
  await bob.ok('DELETE', `/routers/${router.id}`);
  assert.equal((await admin.call('DELETE', `/rbac-policies/${policy.id}`)).status, 204);
  assert.equal((await bob.call('GET', `/networks/${net.id}`)).status, 404);
});
