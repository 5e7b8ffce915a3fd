import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';

// Routers and floating IPs through Neutron's API: gateways on external networks, interfaces by
// subnet and by port, extra routes, floating IP association through the one router that joins a
// subnet to the external network, Neutron's errors, and isolation between projects.
let c: TestCloud;
let adminToken: string;
let alice: { token: string; id: string };
let bob: { token: string; id: string };
let publicNet: string;
let publicSubnet: string;

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const call = (token: string, method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token, body });
const asAdmin = (method: string, path: string, body?: unknown) => call(adminToken, method, path, body);
const asAlice = (method: string, path: string, body?: unknown) => call(alice.token, method, path, body);
const asBob = (method: string, path: string, body?: unknown) => call(bob.token, method, path, body);

/** The body of a response that must have the given status. */
async function expect(res: Promise<{ status: number; body: any }>, status: number): Promise<any> {
  const r = await res;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

/** A Neutron error of the given status and type, whose message matches. */
async function refused(res: Promise<{ status: number; body: any }>, status: number, type: string, message?: RegExp): Promise<void> {
  const body = await expect(res, status);
  assert.equal(body.NeutronError.type, type, JSON.stringify(body));
  if (message) assert.match(body.NeutronError.message, message);
}

/** Neutron's plain BadRequest ("Bad router request: …"): status and message. */
async function badRequest(res: Promise<{ status: number; body: any }>, message: RegExp): Promise<void> {
  const body = await expect(res, 400);
  assert.match(body.NeutronError.message, message);
}

async function network(token: string, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await expect(call(token, 'POST', '/networks', { network: { name, ...extra } }), 201)).network.id;
}

async function subnet(token: string, networkId: string, cidr: string, extra: Record<string, unknown> = {}): Promise<any> {
  return (await expect(call(token, 'POST', '/subnets', { subnet: { network_id: networkId, cidr, ip_version: 4, ...extra } }), 201)).subnet;
}

async function port(token: string, networkId: string, name: string): Promise<any> {
  return (await expect(call(token, 'POST', '/ports', { port: { network_id: networkId, name } }), 201)).port;
}

const router = async (token: string, body: Record<string, unknown> = {}) => (await expect(call(token, 'POST', '/routers', { router: body }), 201)).router;
const addInterface = (token: string, id: string, body: Record<string, unknown>) => call(token, 'PUT', `/routers/${id}/add_router_interface`, body);
const removeInterface = (token: string, id: string, body: Record<string, unknown>) => call(token, 'PUT', `/routers/${id}/remove_router_interface`, body);
const setGateway = (token: string, id: string, info: unknown) => call(token, 'PUT', `/routers/${id}`, { router: { external_gateway_info: info } });
const portsOf = async (deviceId: string) => (await expect(asAdmin('GET', `/ports?device_id=${deviceId}`), 200)).ports;

before(async () => {
  c = await startTestCloud();
  adminToken = await c.adminToken();
  alice = await makeProject(c, adminToken, 'l3-alice');
  bob = await makeProject(c, adminToken, 'l3-bob');
  publicNet = await network(adminToken, 'public', { 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' });
  publicSubnet = (await subnet(adminToken, publicNet, '172.24.4.0/24', { enable_dhcp: false, gateway_ip: '172.24.4.1' })).id;
});
after(() => c?.stop());

test('a router is made, given a gateway on an external network, changed, and deleted with its gateway port', async () => {
  const r = await router(alice.token, { name: 'r1', description: 'edge' });
  assert.equal(r.name, 'r1');
  assert.equal(r.description, 'edge');
  assert.equal(r.project_id, alice.id);
  assert.equal(r.tenant_id, alice.id);
  assert.equal(r.status, 'ACTIVE');
  assert.equal(r.admin_state_up, true);
  assert.equal(r.external_gateway_info, null);
  assert.deepEqual(r.routes, []);
  assert.deepEqual(r.availability_zones, ['nova']);
  assert.deepEqual(r.availability_zone_hints, []);
  assert.equal(r.flavor_id, null);
  assert.deepEqual(r.tags, []);
  assert.equal(r.revision_number, 0);
  assert.match(r.created_at, TIME);
  assert.equal(r.distributed, undefined, 'distributed and ha are for the admin to see');
  const shown = (await expect(asAdmin('GET', `/routers/${r.id}`), 200)).router;
  assert.equal(shown.distributed, false);
  assert.equal(shown.ha, false);

  // Only an external network makes a gateway.
  const mine = await network(alice.token, 'not-external');
  await badRequest(setGateway(alice.token, r.id, { network_id: mine }), new RegExp(`^Bad router request: Network ${mine} is not an external network\\.$`));
  await refused(setGateway(alice.token, r.id, { network_id: '00000000-0000-0000-0000-000000000000' }), 404, 'NetworkNotFound');
  await refused(setGateway(alice.token, r.id, { network_id: publicNet, enable_snat: false }), 403, 'HTTPForbidden', /enable_snat/);

  const withGw = (await expect(setGateway(alice.token, r.id, { network_id: publicNet }), 200)).router;
  const gw = withGw.external_gateway_info;
  assert.equal(gw.network_id, publicNet);
  assert.equal(gw.enable_snat, true);
  assert.equal(gw.external_fixed_ips.length, 1);
  assert.equal(gw.external_fixed_ips[0].subnet_id, publicSubnet);
  assert.match(gw.external_fixed_ips[0].ip_address, /^172\.24\.4\.\d+$/);
  assert.notEqual(gw.external_fixed_ips[0].ip_address, '172.24.4.1');
  assert.equal(withGw.revision_number, 1);
  const [gwPort] = await portsOf(r.id);
  assert.equal(gwPort.device_owner, 'network:router_gateway');
  assert.equal(gwPort.project_id, '', 'the gateway port is nobody’s');
  assert.equal((await expect(asAlice('GET', `/ports/${gwPort.id}`), 404 as number)).NeutronError.type, 'PortNotFound');

  // The admin chooses SNAT and the address.
  const snatOff = (
    await expect(setGateway(adminToken, r.id, { network_id: publicNet, enable_snat: false, external_fixed_ips: [{ ip_address: '172.24.4.77' }] }), 200)
  ).router.external_gateway_info;
  assert.equal(snatOff.enable_snat, false);
  assert.deepEqual(snatOff.external_fixed_ips, [{ subnet_id: publicSubnet, ip_address: '172.24.4.77' }]);
  await badRequest(
    setGateway(adminToken, r.id, { network_id: publicNet, external_fixed_ips: [{ ip_address: '172.24.4.1' }] }),
    /is the same as the gateway IP/,
  );

  const renamed = (await expect(asAlice('PUT', `/routers/${r.id}`, { router: { name: 'r1b', admin_state_up: false } }), 200)).router;
  assert.equal(renamed.name, 'r1b');
  assert.equal(renamed.admin_state_up, false);
  assert.equal(renamed.external_gateway_info.network_id, publicNet, 'an update without the gateway keeps it');
  await expect(asAlice('PUT', `/routers/${r.id}`, { router: { bogus: 1 } }), 400);
  await expect(asAlice('PUT', `/routers/${r.id}`, { router: { name: 7 } }), 400);
  await expect(asAlice('POST', '/routers', { router: { routes: [] } }), 400);
  await expect(asAlice('POST', '/routers', { nope: {} }), 400);

  // `router unset --external-gateway` sends an empty object.
  assert.equal((await expect(setGateway(alice.token, r.id, {}), 200)).router.external_gateway_info, null);
  assert.deepEqual(await portsOf(r.id), []);
  await expect(setGateway(alice.token, r.id, { network_id: publicNet }), 200);
  const listed = (await expect(asAlice('GET', '/routers?name=r1b'), 200)).routers;
  assert.deepEqual(
    listed.map((x: any) => x.id),
    [r.id],
  );
  await expect(asAlice('DELETE', `/routers/${r.id}`), 204);
  await expect(asAlice('GET', `/routers/${r.id}`), 404);
  assert.deepEqual(await portsOf(r.id), [], 'the gateway port went with the router');
});

test('interfaces by subnet and by port; duplicates, overlaps and routes are checked', async () => {
  const netA = await network(alice.token, 'a');
  const subA = await subnet(alice.token, netA, '10.10.0.0/24');
  const netB = await network(alice.token, 'b');
  const subB = await subnet(alice.token, netB, '10.20.0.0/24');
  const netWide = await network(alice.token, 'wide');
  const subWide = await subnet(alice.token, netWide, '10.10.0.0/16');
  const netNoGw = await network(alice.token, 'no-gateway');
  const subNoGw = await subnet(alice.token, netNoGw, '10.30.0.0/24', { gateway_ip: null });
  const r = await router(alice.token, { name: 'r2' });

  const byName = await expect(addInterface(alice.token, r.id, { subnet_id: subA.id }), 200);
  assert.deepEqual(Object.keys(byName).sort(), ['id', 'network_id', 'port_id', 'project_id', 'subnet_id', 'subnet_ids', 'tenant_id']);
  assert.equal(byName.id, r.id);
  assert.equal(byName.subnet_id, subA.id);
  assert.deepEqual(byName.subnet_ids, [subA.id]);
  assert.equal(byName.network_id, netA);
  assert.equal(byName.project_id, alice.id);
  const leg = (await expect(asAlice('GET', `/ports/${byName.port_id}`), 200)).port;
  assert.equal(leg.device_owner, 'network:router_interface');
  assert.equal(leg.device_id, r.id);
  assert.deepEqual(leg.fixed_ips, [{ subnet_id: subA.id, ip_address: '10.10.0.1' }], 'the router is the subnet’s gateway');

  await badRequest(addInterface(alice.token, r.id, { subnet_id: subA.id }), new RegExp(`Router already has a port on subnet ${subA.id}`));
  await badRequest(
    addInterface(alice.token, r.id, { subnet_id: subWide.id }),
    new RegExp(`^Bad router request: Cidr 10\\.10\\.0\\.0/16 of subnet ${subWide.id} overlaps with cidr 10\\.10\\.0\\.0/24 of subnet ${subA.id}\\.$`),
  );
  await badRequest(addInterface(alice.token, r.id, { subnet_id: subNoGw.id }), /must have a gateway IP/);
  await badRequest(addInterface(alice.token, r.id, {}), /Either subnet_id or port_id must be specified/);
  await badRequest(addInterface(alice.token, r.id, { subnet_id: subA.id, port_id: byName.port_id }), /Cannot specify both/);
  await badRequest(addInterface(alice.token, r.id, { subnet_id: 'not-a-uuid' }), /is not a valid UUID/);
  await refused(addInterface(alice.token, r.id, { subnet_id: '00000000-0000-0000-0000-000000000000' }), 404, 'SubnetNotFound');

  // A port of the project's becomes the interface on its subnet, address and all.
  const p = await port(alice.token, netB, 'leg-b');
  const byPort = await expect(addInterface(alice.token, r.id, { port_id: p.id }), 200);
  assert.equal(byPort.port_id, p.id);
  assert.deepEqual(byPort.subnet_ids, [subB.id]);
  const taken = (await expect(asAlice('GET', `/ports/${p.id}`), 200)).port;
  assert.equal(taken.device_owner, 'network:router_interface');
  assert.equal(taken.device_id, r.id);
  const other = await router(alice.token, { name: 'r2-other' });
  await refused(addInterface(alice.token, other.id, { port_id: p.id }), 409, 'PortInUse');
  await expect(asAlice('DELETE', `/routers/${other.id}`), 204);

  await refused(asAlice('DELETE', `/routers/${r.id}`), 409, 'RouterInUse', new RegExp(`Router ${r.id} has ports still attached`));

  // Extra routes go through a subnet the router is on, and keep that subnet attached.
  const viaNowhere = { destination: '192.168.50.0/24', nexthop: '10.99.0.5' };
  await refused(asAlice('PUT', `/routers/${r.id}`, { router: { routes: [viaNowhere] } }), 400, 'InvalidRoutes', /the nexthop is not connected with router/);
  await refused(
    asAlice('PUT', `/routers/${r.id}`, { router: { routes: [{ destination: '192.168.50.0/24', nexthop: '10.10.0.1' }] } }),
    400,
    'InvalidRoutes',
    /used by router/,
  );
  await refused(
    asAlice('PUT', `/routers/${r.id}`, { router: { routes: [{ destination: 'nope', nexthop: '10.10.0.5' }] } }),
    400,
    'InvalidInput',
    /not a valid IP subnet/,
  );
  const route = { destination: '192.168.50.0/24', nexthop: '10.20.0.5' };
  assert.deepEqual((await expect(asAlice('PUT', `/routers/${r.id}`, { router: { routes: [route] } }), 200)).router.routes, [route]);
  await refused(removeInterface(alice.token, r.id, { subnet_id: subB.id }), 409, 'RouterInterfaceInUseByRoute');
  const more = { destination: '192.168.60.0/24', nexthop: '10.10.0.9' };
  assert.deepEqual((await expect(asAlice('PUT', `/routers/${r.id}/add_extraroutes`, { router: { routes: [more] } }), 200)).router.routes, [route, more]);
  assert.deepEqual((await expect(asAlice('PUT', `/routers/${r.id}/remove_extraroutes`, { router: { routes: [route, more] } }), 200)).router.routes, []);

  // Removing: by subnet, by port; then nothing is left to remove.
  const removed = await expect(removeInterface(alice.token, r.id, { subnet_id: subA.id }), 200);
  assert.equal(removed.port_id, byName.port_id);
  assert.equal(removed.subnet_id, subA.id);
  await expect(asAlice('GET', `/ports/${byName.port_id}`), 404);
  await refused(
    removeInterface(alice.token, r.id, { subnet_id: subA.id }),
    404,
    'RouterInterfaceNotFoundForSubnet',
    new RegExp(`^Router ${r.id} has no interface on subnet ${subA.id}$`),
  );
  await refused(removeInterface(alice.token, r.id, { port_id: p.id, subnet_id: subA.id }), 400, 'SubnetMismatchForPort');
  await expect(removeInterface(alice.token, r.id, { port_id: p.id }), 200);
  await refused(removeInterface(alice.token, r.id, { port_id: p.id }), 404, 'RouterInterfaceNotFound');
  await expect(asAlice('DELETE', `/routers/${r.id}`), 204);
});

/** A project's network behind a router with a gateway on the public network. */
async function routedNetwork(token: string, name: string, cidr: string) {
  const net = await network(token, name);
  const sub = await subnet(token, net, cidr);
  const r = await router(token, { name: `${name}-router`, external_gateway_info: { network_id: publicNet } });
  await expect(addInterface(token, r.id, { subnet_id: sub.id }), 200);
  return { net, sub, router: r };
}

async function settled(id: string, status: string): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const fip = (await expect(asAlice('GET', `/floatingips/${id}`), 200)).floatingip;
    if (fip.status === status) return fip;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`floating IP ${id} did not become ${status}`);
}

test('floating IPs are made on external networks, associated through the router, moved, released and deleted', async () => {
  const { net, sub, router: r } = await routedNetwork(alice.token, 'fip-net', '10.40.0.0/24');
  const mine = await network(alice.token, 'internal-only');
  await badRequest(
    asAlice('POST', '/floatingips', { floatingip: { floating_network_id: mine } }),
    new RegExp(`^Bad floatingip request: Network ${mine} is not a valid external network\\.$`),
  );
  await refused(asAlice('POST', '/floatingips', { floatingip: { floating_network_id: publicNet, floating_ip_address: '172.24.4.99' } }), 403, 'HTTPForbidden');

  const fip = (await expect(asAlice('POST', '/floatingips', { floatingip: { floating_network_id: publicNet, description: 'web' } }), 201)).floatingip;
  assert.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
  assert.equal(fip.floating_network_id, publicNet);
  assert.equal(fip.project_id, alice.id);
  assert.equal(fip.tenant_id, alice.id);
  assert.equal(fip.status, 'DOWN');
  assert.equal(fip.description, 'web');
  for (const k of ['router_id', 'port_id', 'fixed_ip_address', 'port_details', 'qos_policy_id']) assert.equal(fip[k], null, k);
  assert.equal(fip.dns_domain, '');
  assert.equal(fip.dns_name, '');
  assert.deepEqual(fip.port_forwardings, []);
  assert.match(fip.updated_at, TIME);
  const [own] = await portsOf(fip.id);
  assert.equal(own.device_owner, 'network:floatingip');
  assert.equal(own.project_id, '');
  assert.deepEqual(own.fixed_ips, [{ subnet_id: publicSubnet, ip_address: fip.floating_ip_address }]);

  // Associate with a port standing for a server's NIC.
  const vm = await port(alice.token, net, 'vm');
  const fixed = vm.fixed_ips[0].ip_address;
  const assoc = (await expect(asAlice('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } }), 200)).floatingip;
  assert.equal(assoc.port_id, vm.id);
  assert.equal(assoc.fixed_ip_address, fixed);
  assert.equal(assoc.router_id, r.id);
  assert.equal(assoc.description, 'web');
  assert.deepEqual(assoc.port_details, {
    name: 'vm',
    network_id: net,
    mac_address: vm.mac_address,
    admin_state_up: true,
    status: vm.status,
    device_id: '',
    device_owner: '',
  });
  await settled(fip.id, 'ACTIVE');
  assert.deepEqual(
    (await expect(asAlice('GET', `/floatingips?port_id=${vm.id}`), 200)).floatingips.map((f: any) => f.id),
    [fip.id],
  );

  // One floating IP per fixed IP; the router's legs stay while it needs them.
  const second = (await expect(asAlice('POST', '/floatingips', { floatingip: { floating_network_id: publicNet } }), 201)).floatingip;
  await refused(asAlice('PUT', `/floatingips/${second.id}`, { floatingip: { port_id: vm.id } }), 409, 'FloatingIPPortAlreadyAssociated');
  await refused(removeInterface(alice.token, r.id, { subnet_id: sub.id }), 409, 'RouterInterfaceInUseByFloatingIP');
  await refused(setGateway(alice.token, r.id, null), 409, 'RouterExternalGatewayInUseByFloatingIp');
  await badRequest(asAlice('PUT', `/floatingips/${second.id}`, { floatingip: { port_id: vm.id, fixed_ip_address: '10.40.0.250' } }), /does not have fixed ip/);
  await badRequest(asAlice('PUT', `/floatingips/${second.id}`, { floatingip: { fixed_ip_address: fixed } }), /without a port_id/);

  // Disassociate (`floating ip unset --port`), then the other one takes the port.
  const free = (await expect(asAlice('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: null } }), 200)).floatingip;
  assert.equal(free.port_id, null);
  assert.equal(free.router_id, null);
  assert.equal(free.fixed_ip_address, null);
  assert.equal(free.port_details, null);
  assert.equal(free.status, 'DOWN');
  await expect(asAlice('PUT', `/floatingips/${second.id}`, { floatingip: { port_id: vm.id, fixed_ip_address: fixed } }), 200);

  // Associated at creation; deleting the port lets go of the association.
  const vm2 = await port(alice.token, net, 'vm2');
  const atOnce = (await expect(asAlice('POST', '/floatingips', { floatingip: { floating_network_id: publicNet, port_id: vm2.id } }), 201)).floatingip;
  assert.equal(atOnce.router_id, r.id);
  assert.equal(atOnce.fixed_ip_address, vm2.fixed_ips[0].ip_address);
  await expect(asAlice('DELETE', `/ports/${vm2.id}`), 204);
  const orphan = (await expect(asAlice('GET', `/floatingips/${atOnce.id}`), 200)).floatingip;
  assert.deepEqual([orphan.port_id, orphan.router_id, orphan.fixed_ip_address, orphan.status], [null, null, null, 'DOWN']);

  // Deleting gives the address back.
  for (const id of [fip.id, second.id, atOnce.id]) await expect(asAlice('DELETE', `/floatingips/${id}`), 204);
  await expect(asAlice('GET', `/floatingips/${fip.id}`), 404);
  assert.deepEqual(await portsOf(fip.id), []);
  const again = (
    await expect(asAdmin('POST', '/floatingips', { floatingip: { floating_network_id: publicNet, floating_ip_address: fip.floating_ip_address } }), 201)
  ).floatingip;
  assert.equal(again.floating_ip_address, fip.floating_ip_address);
  await expect(asAdmin('DELETE', `/floatingips/${again.id}`), 204);
  await expect(removeInterface(alice.token, r.id, { subnet_id: sub.id }), 200);
  await expect(asAlice('DELETE', `/routers/${r.id}`), 204);
});

test('a port that no router joins to the external network gets no floating IP', async () => {
  const net = await network(alice.token, 'unrouted');
  const sub = await subnet(alice.token, net, '10.50.0.0/24');
  const p = await port(alice.token, net, 'lonely');
  const fip = (await expect(asAlice('POST', '/floatingips', { floatingip: { floating_network_id: publicNet } }), 201)).floatingip;
  await refused(
    asAlice('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: p.id } }),
    404,
    'ExternalGatewayForFloatingIPNotFound',
    new RegExp(`^External network ${publicNet} is not reachable from subnet ${sub.id}\\.  Therefore, cannot associate Port ${p.id} with a Floating IP\\.$`),
  );
  // A router on the subnet without a gateway does not do either.
  const r = await router(alice.token, { name: 'no-gateway' });
  await expect(addInterface(alice.token, r.id, { subnet_id: sub.id }), 200);
  await refused(asAlice('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: p.id } }), 404, 'ExternalGatewayForFloatingIPNotFound');
  await expect(setGateway(alice.token, r.id, { network_id: publicNet }), 200);
  assert.equal((await expect(asAlice('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: p.id } }), 200)).floatingip.router_id, r.id);
  await expect(asAlice('DELETE', `/floatingips/${fip.id}`), 204);
});

test('projects see and touch only their own routers and floating IPs; the admin sees all', async () => {
  const { net, sub, router: r } = await routedNetwork(alice.token, 'iso-net', '10.60.0.0/24');
  const vm = await port(alice.token, net, 'iso-vm');
  const fip = (await expect(asAlice('POST', '/floatingips', { floatingip: { floating_network_id: publicNet, port_id: vm.id } }), 201)).floatingip;

  await refused(asBob('GET', `/routers/${r.id}`), 404, 'RouterNotFound', new RegExp(`^Router ${r.id} could not be found$`));
  await refused(asBob('PUT', `/routers/${r.id}`, { router: { name: 'mine' } }), 404, 'RouterNotFound');
  await refused(asBob('DELETE', `/routers/${r.id}`), 404, 'RouterNotFound');
  await refused(addInterface(bob.token, r.id, { subnet_id: sub.id }), 404, 'RouterNotFound');
  await refused(removeInterface(bob.token, r.id, { subnet_id: sub.id }), 404, 'RouterNotFound');
  await refused(asBob('GET', `/floatingips/${fip.id}`), 404, 'FloatingIPNotFound', new RegExp(`^Floating IP ${fip.id} could not be found$`));
  await refused(asBob('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: null } }), 404, 'FloatingIPNotFound');
  await refused(asBob('DELETE', `/floatingips/${fip.id}`), 404, 'FloatingIPNotFound');
  assert.deepEqual((await expect(asBob('GET', '/routers'), 200)).routers, []);
  assert.deepEqual((await expect(asBob('GET', '/floatingips'), 200)).floatingips, []);

  // Bob's own router may not take Alice's subnet or port; his floating IP may not NAT to her port.
  const bobs = await router(bob.token, { name: 'bobs', external_gateway_info: { network_id: publicNet } });
  await refused(addInterface(bob.token, bobs.id, { subnet_id: sub.id }), 404, 'SubnetNotFound');
  await refused(addInterface(bob.token, bobs.id, { port_id: vm.id }), 404, 'PortNotFound');
  const bobFip = (await expect(asBob('POST', '/floatingips', { floatingip: { floating_network_id: publicNet } }), 201)).floatingip;
  await refused(asBob('PUT', `/floatingips/${bobFip.id}`, { floatingip: { port_id: vm.id } }), 404, 'PortNotFound');
  await expect(asBob('POST', '/routers', { router: { name: 'theirs', project_id: alice.id } }), 403);

  assert.ok((await expect(asAdmin('GET', '/routers'), 200)).routers.some((x: any) => x.id === r.id));
  assert.ok((await expect(asAdmin('GET', `/floatingips?project_id=${alice.id}`), 200)).floatingips.some((x: any) => x.id === fip.id));
  await expect(asAlice('PUT', `/floatingips/${fip.id}/tags/web`), 201);
  assert.deepEqual((await expect(asAlice('GET', `/floatingips/${fip.id}`), 200)).floatingip.tags, ['web']);
  await expect(asAlice('PUT', `/routers/${r.id}/tags`, { tags: ['edge', 'prod'] }), 200);
  assert.deepEqual(
    (await expect(asAlice('GET', `/routers?tags=edge`), 200)).routers.map((x: any) => x.id),
    [r.id],
  );
  await refused(asBob('PUT', `/routers/${r.id}/tags/x`), 404, 'RouterNotFound');
});
