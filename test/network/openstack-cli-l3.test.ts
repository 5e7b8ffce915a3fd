import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openstack, spawnNubo, type SpawnedNubo, cliAs } from '../helpers/cloud.ts';

// Routers and floating IPs with the real openstack CLI against `nubo up`: the seed workflow's L3
// half, as a project member does it on an external network the admin made.
let nubo: SpawnedNubo;
let demo: Record<string, string>;

const asAdmin = cliAs(() => nubo.env);
const asDemo = cliAs(() => demo);
const json = async (...args: string[]) => JSON.parse(await asDemo(...args, '-f', 'json'));
const fails = async (...args: string[]) => {
  const r = await openstack(demo, ...args);
  assert.notEqual(r.code, 0, `openstack ${args.join(' ')} should have failed`);
  return r.stderr;
};

before(async () => {
  nubo = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  await asAdmin('project', 'create', 'demo');
  await asAdmin('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
  await asAdmin('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
  demo = { ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' };
  await asAdmin('network', 'create', 'public-net', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  await asAdmin('subnet', 'create', '--network', 'public-net', '--subnet-range', '172.24.4.0/24', '--no-dhcp', '--gateway', '172.24.4.1', 'public-subnet');
});
after(() => nubo?.stop());

test('router and floating IP: create, gateway, interface, associate, list, release, delete', async () => {
  await asDemo('network', 'create', 'private-net');
  const subnet = await json('subnet', 'create', '--network', 'private-net', '--subnet-range', '192.168.10.0/24', 'private-subnet');
  const publicNet = JSON.parse(await asAdmin('network', 'show', 'public-net', '-f', 'json'));

  const created = await json('router', 'create', 'myrouter');
  assert.equal(created.name, 'myrouter');
  assert.equal(created.status, 'ACTIVE');
  await asDemo('router', 'set', 'myrouter', '--external-gateway', 'public-net');
  await asDemo('router', 'add', 'subnet', 'myrouter', 'private-subnet');
  assert.match(await fails('router', 'add', 'subnet', 'myrouter', 'private-subnet'), /Router already has a port on subnet/);

  const shown = await json('router', 'show', 'myrouter');
  assert.equal(shown.id, created.id);
  const gw = shown.external_gateway_info;
  assert.equal(gw.network_id, publicNet.id);
  assert.equal(gw.enable_snat, true);
  assert.match(gw.external_fixed_ips[0].ip_address, /^172\.24\.4\.\d+$/);
  assert.deepEqual(
    shown.interfaces_info.map((i: any) => [i.subnet_id, i.ip_address]),
    [[subnet.id, '192.168.10.1']],
  );

  const fip = await json('floating', 'ip', 'create', 'public-net');
  const address = fip.floating_ip_address;
  assert.match(address, /^172\.24\.4\.\d+$/);
  assert.equal(fip.port_id, null);
  // A port standing for a server's NIC.
  const p1 = await json('port', 'create', '--network', 'private-net', 'p1');
  await asDemo('floating', 'ip', 'set', '--port', 'p1', address);
  const associated = await json('floating', 'ip', 'show', address);
  assert.equal(associated.port_id, p1.id);
  assert.equal(associated.router_id, created.id);
  assert.equal(associated.fixed_ip_address, p1.fixed_ips[0].ip_address);

  const list = await json('floating', 'ip', 'list');
  assert.deepEqual(
    list.map((f: any) => [f['Floating IP Address'], f['Fixed IP Address'], f.Port, f['Floating Network']]),
    [[address, p1.fixed_ips[0].ip_address, p1.id, publicNet.id]],
  );
  assert.match(await fails('router', 'remove', 'subnet', 'myrouter', 'private-subnet'), /required by one or more floating IPs/);

  await asDemo('floating', 'ip', 'unset', '--port', address);
  assert.equal((await json('floating', 'ip', 'show', address)).port_id, null);
  await asDemo('router', 'remove', 'subnet', 'myrouter', 'private-subnet');
  assert.deepEqual((await json('router', 'show', 'myrouter')).interfaces_info, []);
  await asDemo('router', 'unset', '--external-gateway', 'myrouter');
  assert.equal((await json('router', 'show', 'myrouter')).external_gateway_info, null);

  await asDemo('floating', 'ip', 'delete', address);
  await asDemo('port', 'delete', 'p1');
  await asDemo('router', 'delete', 'myrouter');
  await asDemo('subnet', 'delete', 'private-subnet');
  await asDemo('network', 'delete', 'private-net');
  assert.deepEqual(await json('router', 'list'), []);
  assert.deepEqual(await json('floating', 'ip', 'list'), []);
  assert.match(await fails('router', 'show', 'myrouter'), /No Router found for myrouter/);
});

test('a floating IP needs an external network, and a router only takes one as its gateway', async () => {
  await asDemo('network', 'create', 'inside');
  await asDemo('subnet', 'create', '--network', 'inside', '--subnet-range', '10.0.5.0/24', 'inside-subnet');
  assert.match(await fails('floating', 'ip', 'create', 'inside'), /is not a valid external network/);
  await asDemo('router', 'create', 'r2');
  assert.match(await fails('router', 'set', 'r2', '--external-gateway', 'inside'), /is not an external network/);
  // Extra routes leave through a subnet the router is on.
  assert.match(await fails('router', 'set', 'r2', '--route', 'destination=10.9.0.0/24,gateway=10.0.9.1'), /the nexthop is not connected with router/);
  await asDemo('router', 'add', 'subnet', 'r2', 'inside-subnet');
  await asDemo('router', 'set', 'r2', '--route', 'destination=10.9.0.0/24,gateway=10.0.5.9');
  assert.deepEqual((await json('router', 'show', 'r2')).routes, [{ destination: '10.9.0.0/24', nexthop: '10.0.5.9' }]);
  await asDemo('router', 'unset', '--route', 'destination=10.9.0.0/24,gateway=10.0.5.9', 'r2');
  assert.deepEqual((await json('router', 'show', 'r2')).routes, []);
  await asDemo('router', 'remove', 'subnet', 'r2', 'inside-subnet');
  await asDemo('router', 'delete', 'r2');
});
