import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminEnv, startTestCloud, type TestCloud, cliAs } from '../helpers/cloud.ts';
import { computeOf, rawImage } from './helpers.ts';

// The server actions old clients send to compute for what the network owns: a security group
// added to or taken from a server changes its ports' security groups (which the data plane's
// firewall is made from), seen by the real openstack CLI; a floating IP given by address.
let c: TestCloud;
let env: Record<string, string>;
let token: string;
before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  env = adminEnv(c.url, c.cloud.credentials!.password);
  token = await c.adminToken();
});
after(() => c?.stop());

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const net = (method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token, body });

test('openstack server add/remove security group changes the groups of the server and of its port', async () => {
  const image = await rawImage(c, token);
  await ok('flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'tiny');
  await ok('network', 'create', 'net');
  await ok('subnet', 'create', '--network', 'net', '--subnet-range', '10.20.0.0/24', 'sub');
  const web = await json('security group', 'create', 'web');
  const server = await json('server', 'create', '--flavor', 'tiny', '--image', image, '--network', 'net', '--wait', 'vm');
  const [port] = await json('port', 'list', '--server', server.id);
  const groupsOf = async () => (await json('port', 'show', port.ID)).security_group_ids as string[];
  assert.equal((await groupsOf()).includes(web.id), false);

  await ok('server', 'add', 'security', 'group', 'vm', 'web');
  assert.ok((await groupsOf()).includes(web.id), 'the port has the group');
  const shown = await json('server', 'show', 'vm');
  assert.deepEqual(shown.security_groups.map((g: { name: string }) => g.name).sort(), ['default', 'web']);
  // Adding it twice is Nova's 400.
  const again = await computeOf(c, token).action(server.id, { addSecurityGroup: { name: 'web' } });
  assert.equal(again.status, 400, JSON.stringify(again.body));
  assert.equal((await computeOf(c, token).action(server.id, { addSecurityGroup: { name: 'nope' } })).status, 404);

  await ok('server', 'remove', 'security', 'group', 'vm', 'web');
  assert.equal((await groupsOf()).includes(web.id), false, 'the group left the port');
  assert.deepEqual(
    (await json('server', 'show', 'vm')).security_groups.map((g: { name: string }) => g.name),
    ['default'],
  );
  assert.equal((await computeOf(c, token).action(server.id, { removeSecurityGroup: { name: 'web' } })).status, 400);
});

test('addFloatingIp and removeFloatingIp (before 2.44) associate a floating IP by its address', async () => {
  const ext = (await net('POST', '/networks', { network: { name: 'public', 'router:external': true } })).body.network;
  await net('POST', '/subnets', { subnet: { network_id: ext.id, cidr: '172.24.9.0/24', ip_version: 4 } });
  const router = (await net('POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: ext.id } } })).body.router;
  const [sub] = (await net('GET', '/subnets?name=sub')).body.subnets;
  assert.equal((await net('PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: sub.id })).status, 200);
  const fip = (await net('POST', '/floatingips', { floatingip: { floating_network_id: ext.id } })).body.floatingip;
  const server = await json('server', 'show', 'vm');
  const compute = computeOf(c, token);
  const add = await compute.action(server.id, { addFloatingIp: { address: fip.floating_ip_address } });
  assert.equal(add.status, 202, JSON.stringify(add.body));
  const [port] = await json('port', 'list', '--server', server.id);
  assert.equal((await net('GET', `/floatingips/${fip.id}`)).body.floatingip.port_id, port.ID);
  const addresses = (await compute.show(server.id)).addresses.net.map((a: any) => a['OS-EXT-IPS:type']);
  assert.deepEqual(addresses, ['fixed', 'floating']);
  const remove = await compute.action(server.id, { removeFloatingIp: { address: fip.floating_ip_address } });
  assert.equal(remove.status, 202, JSON.stringify(remove.body));
  assert.equal((await net('GET', `/floatingips/${fip.id}`)).body.floatingip.port_id, null);
  assert.equal((await compute.action(server.id, { removeFloatingIp: { address: fip.floating_ip_address } })).status, 409);
});

test("openstack server event list/show read the server's instance actions", async () => {
  const events = await json('server', 'event', 'list', 'vm');
  assert.deepEqual(
    events.map((e: any) => e.Action),
    ['create'],
  );
  const [create] = events;
  assert.match(create['Request ID'], /^req-/);
  const shown = await json('--os-compute-api-version', '2.51', 'server', 'event', 'show', 'vm', create['Request ID']);
  assert.equal(shown.action, 'create');
  assert.deepEqual(
    shown.events.map((e: any) => [e.event, e.result]),
    [['compute__do_build_and_run_instance', 'Success']],
  );
});
