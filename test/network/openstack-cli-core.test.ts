import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnNubo, type SpawnedNubo, cliAs, cliFails } from '../helpers/cloud.ts';

// Networks, subnets and ports with the real openstack CLI against `nubo up`: what it sends, and
// that it reads what Nubo answers.
let nubo: SpawnedNubo;
let demo: Record<string, string>;
before(async () => {
  nubo = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  await ok('project', 'create', 'demo');
  await ok('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
  await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
  demo = { ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' };
});
after(() => nubo?.stop());

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const asDemo = cliAs(() => demo);

test('network and subnet create, list, show; the external flat network with its pool', async () => {
  const priv = await json('network', 'create', 'private-net');
  assert.equal(priv.name, 'private-net');
  assert.equal(priv.mtu, 1450);
  assert.equal(priv['provider:network_type'], 'vxlan');
  const sub = await json('subnet', 'create', '--network', 'private-net', '--subnet-range', '192.168.10.0/24', 'private-subnet');
  assert.equal(sub.cidr, '192.168.10.0/24');
  assert.equal(sub.gateway_ip, '192.168.10.1');
  assert.equal(sub.network_id, priv.id);

  const pub = await json('network', 'create', 'public-net', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  assert.equal(pub['router:external'], true);
  assert.equal(pub['provider:physical_network'], 'physnet1');
  const pubSub = await json(
    'subnet',
    'create',
    '--network',
    'public-net',
    '--subnet-range',
    '172.24.4.0/24',
    '--no-dhcp',
    '--gateway',
    '172.24.4.1',
    '--allocation-pool',
    'start=172.24.4.10,end=172.24.4.200',
    'public-subnet',
  );
  assert.equal(pubSub.enable_dhcp, false);
  assert.deepEqual(pubSub.allocation_pools, [{ start: '172.24.4.10', end: '172.24.4.200' }]);

  const list = await json('network', 'list');
  assert.deepEqual(list.map((n: any) => n.Name).sort(), ['private-net', 'public-net']);
  assert.deepEqual(list.find((n: any) => n.Name === 'private-net').Subnets, [sub.id]);
  const long = await json('network', 'list', '--long');
  const pubRow = long.find((n: any) => n.Name === 'public-net');
  assert.equal(pubRow['Network Type'], 'flat');
  assert.equal(pubRow['Router Type'], true);
  assert.deepEqual(
    (await json('network', 'list', '--external')).map((n: any) => n.Name),
    ['public-net'],
  );
  const subnets = await json('subnet', 'list', '--long');
  assert.deepEqual(subnets.map((s: any) => [s.Name, s.Subnet, s.DHCP]).sort(), [
    ['private-subnet', '192.168.10.0/24', true],
    ['public-subnet', '172.24.4.0/24', false],
  ]);
  assert.equal((await json('network', 'show', 'private-net')).id, priv.id);
  assert.equal((await json('subnet', 'show', 'private-subnet')).id, sub.id);

  // demo sees the external network, not the admin's private one.
  const seen = JSON.parse(await asDemo('network', 'list', '-f', 'json')).map((n: any) => n.Name);
  assert.deepEqual(seen, ['public-net']);
  assert.match(await cliFails(demo, 'network', 'show', 'private-net'), /No Network found|could not be found/i);
});

test('port create with a fixed IP, list --long, show, delete; a network in use is not deleted', async () => {
  const p1 = await json('port', 'create', '--network', 'private-net', 'p1', '--fixed-ip', 'subnet=private-subnet,ip-address=192.168.10.50');
  assert.equal(p1.name, 'p1');
  const subnetId = (await json('subnet', 'show', 'private-subnet')).id;
  assert.deepEqual(p1.fixed_ips, [{ subnet_id: subnetId, ip_address: '192.168.10.50' }]);
  assert.match(p1.mac_address, /^fa:16:3e/);
  assert.equal(p1.security_group_ids.length, 1);

  const taken = await cliFails(nubo.env, 'port', 'create', '--network', 'private-net', 'p2', '--fixed-ip', 'ip-address=192.168.10.50');
  assert.match(taken, /already allocated/);

  const long = await json('port', 'list', '--long');
  const row = long.find((p: any) => p.Name === 'p1');
  assert.deepEqual(row['Fixed IP Addresses'], [{ subnet_id: subnetId, ip_address: '192.168.10.50' }]);
  assert.equal(row.Status, 'DOWN');
  assert.ok(
    long.some((p: any) => p['Device Owner'] === 'network:dhcp'),
    'the DHCP port of private-subnet',
  );
  const filtered = await json('port', 'list', '--fixed-ip', 'ip-address=192.168.10.50');
  assert.deepEqual(
    filtered.map((p: any) => p.ID),
    [p1.id],
  );
  const shown = await json('port', 'show', 'p1');
  assert.equal(shown.id, p1.id);
  assert.equal(shown.binding_vif_type, 'unbound');

  const inUse = await cliFails(nubo.env, 'network', 'delete', 'private-net');
  assert.match(inUse, /There are one or more ports still in use on the network/);

  await ok('port', 'delete', 'p1');
  assert.match(await cliFails(nubo.env, 'port', 'show', 'p1'), /No Port found|could not be found/i);
  await ok('subnet', 'delete', 'private-subnet');
  await ok('network', 'delete', 'private-net');
  await ok('network', 'delete', 'public-net');
  assert.deepEqual(await json('network', 'list'), []);
  assert.deepEqual(await json('port', 'list'), []);
});
