import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnNubo, type SpawnedNubo, cliAs, cliFails } from '../helpers/cloud.ts';

// RBAC policies, subnet pools, address scopes, agents and availability zones with the real
// openstack CLI against `nubo up`: what it sends, and that it reads what Nubo answers.
let nubo: SpawnedNubo;
let demo: Record<string, string>;
let other: Record<string, string>;
before(async () => {
  nubo = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  for (const name of ['demo', 'other']) {
    await ok('project', 'create', name);
    await ok('user', 'create', '--project', name, '--password', 'pw', name);
    await ok('role', 'add', '--project', name, '--user', name, 'member');
  }
  demo = { ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' };
  other = { ...nubo.env, OS_USERNAME: 'other', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'other' };
});
after(() => nubo?.stop());

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const asDemo = cliAs(() => demo);
const demoJson = async (...args: string[]) => JSON.parse(await asDemo(...args, '-f', 'json'));

test('network rbac create shares a network with one project: it sees and uses it, another does not', async () => {
  const net = await json('network', 'create', 'rbac-net');
  await ok('subnet', 'create', '--network', 'rbac-net', '--subnet-range', '10.70.0.0/24', 'rbac-sub');
  const demoProject = (await json('project', 'show', 'demo')).id;
  const policy = await json('network', 'rbac', 'create', '--target-project', 'demo', '--action', 'access_as_shared', '--type', 'network', 'rbac-net');
  assert.deepEqual([policy.object_id, policy.target_project_id, policy.action], [net.id, demoProject, 'access_as_shared']);
  const listed = await json('network', 'rbac', 'list', '--long');
  assert.ok(listed.some((p: any) => p.ID === policy.id && p.Action === 'access_as_shared'));
  assert.equal((await json('network', 'rbac', 'show', policy.id)).object_id, net.id);

  assert.deepEqual(
    (await demoJson('network', 'list')).map((n: any) => n.Name),
    ['rbac-net'],
  );
  assert.deepEqual(
    (await demoJson('subnet', 'list')).map((s: any) => s.Name),
    ['rbac-sub'],
  );
  const port = await demoJson('port', 'create', '--network', net.id, 'demo-port');
  assert.equal(port.network_id, net.id);
  assert.deepEqual(JSON.parse(await cliAs(() => other)('network', 'list', '-f', 'json')), []);
  assert.match(await cliFails(other, 'network', 'show', net.id), /No Network found|could not be found/i);

  assert.match(await cliFails(nubo.env, 'network', 'rbac', 'delete', policy.id), /cannot be removed because other objects depend on it/);
  await asDemo('port', 'delete', 'demo-port');
  await ok('network', 'rbac', 'delete', policy.id);
  assert.deepEqual(await demoJson('network', 'list'), []);

  // access_as_external: the network becomes external, for demo only.
  const ext = await json('network', 'rbac', 'create', '--target-project', 'demo', '--action', 'access_as_external', '--type', 'network', 'rbac-net');
  assert.equal(ext.action, 'access_as_external');
  assert.equal((await demoJson('network', 'show', 'rbac-net'))['router:external'], true);
  assert.deepEqual(JSON.parse(await cliAs(() => other)('network', 'list', '--external', '-f', 'json')), []);
});

test('subnet pools and address scopes; a subnet from a pool by prefix length', async () => {
  const scope = await json('address', 'scope', 'create', '--ip-version', '4', '--share', 'scope-a');
  assert.equal(scope.shared, true);
  const pool = await json(
    'subnet',
    'pool',
    'create',
    '--pool-prefix',
    '10.80.0.0/16',
    '--default-prefix-length',
    '24',
    '--address-scope',
    'scope-a',
    '--share',
    'pool-a',
  );
  assert.deepEqual([pool.prefixes, pool.address_scope_id, pool.shared], [['10.80.0.0/16'], scope.id, true]);
  assert.ok((await json('subnet', 'pool', 'list')).some((p: any) => p.Name === 'pool-a'));
  assert.equal((await json('subnet', 'pool', 'show', 'pool-a')).default_prefixlen, 24);
  await ok('subnet', 'pool', 'set', '--pool-prefix', '10.81.0.0/16', 'pool-a');
  assert.deepEqual((await json('subnet', 'pool', 'show', 'pool-a')).prefixes, ['10.80.0.0/16', '10.81.0.0/16']);
  assert.ok((await json('address', 'scope', 'list')).some((s: any) => s.Name === 'scope-a'));

  await asDemo('network', 'create', 'pooled');
  const a = await demoJson('subnet', 'create', '--network', 'pooled', '--subnet-pool', 'pool-a', '--prefix-length', '26', 'pooled-a');
  assert.deepEqual([a.cidr, a.subnetpool_id], ['10.80.0.0/26', pool.id]);
  const b = await demoJson('subnet', 'create', '--network', 'pooled', '--subnet-pool', 'pool-a', '--prefix-length', '26', 'pooled-b');
  assert.equal(b.cidr, '10.80.0.64/26');
  const c = await demoJson('subnet', 'create', '--network', 'pooled', '--subnet-pool', 'pool-a', 'pooled-c');
  assert.equal(c.cidr, '10.80.1.0/24', 'the default prefix length');
  assert.match(await cliFails(nubo.env, 'subnet', 'pool', 'delete', 'pool-a'), /subnet pool|in use/i);
});

test('network agent list shows this host’s agents, alive; availability zone list --network', async () => {
  const agents = await json('network', 'agent', 'list');
  assert.deepEqual(agents.map((a: any) => a['Agent Type']).sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  for (const a of agents) {
    assert.equal(a.Alive, true);
    assert.equal(a.State, true);
    assert.equal(a.Binary, 'nubo-network-agent');
  }
  const dhcp = agents.find((a: any) => a['Agent Type'] === 'DHCP agent');
  assert.equal(dhcp['Availability Zone'], 'nova');
  const shown = await json('network', 'agent', 'show', dhcp.ID);
  assert.equal(shown.agent_type, 'DHCP agent');
  const zones = await json('availability', 'zone', 'list', '--network', '--long');
  assert.deepEqual(zones.map((z: any) => [z['Zone Name'], z['Zone Status'], z['Zone Resource']]).sort(), [
    ['nova', 'available', 'network'],
    ['nova', 'available', 'router'],
  ]);
  // A disabled DHCP agent leaves no zone available for networks.
  await ok('network', 'agent', 'set', '--disable', dhcp.ID);
  assert.equal((await json('network', 'agent', 'show', dhcp.ID)).admin_state_up, false);
  const after = await json('availability', 'zone', 'list', '--network', '--long');
  assert.deepEqual(after.find((z: any) => z['Zone Resource'] === 'network')['Zone Status'], 'not available');
  assert.match(await cliFails(demo, 'network', 'agent', 'list'), /403|not allowed|disallowed|Policy/i);
});
