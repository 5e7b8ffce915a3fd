import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { makeProject } from '../image/helpers.ts';
import { assertSchema } from '../helpers/schema.ts';
import { NetworkSchema, PortSchema, RouterSchema, SubnetSchema, many, single } from './core-schemas.ts';

// Neutron's bulk creates (all made or none), its `.json` URL suffix, and the nulls it accepts;
// each answer held to the shape Neutron's api-ref documents.
let c: TestCloud;
let token: string;
const call = (method: string, path: string, body?: unknown) => neutronOf(c, token).call(method, path, body);
const ok = (method: string, path: string, body?: unknown) => neutronOf(c, token).ok(method, path, body);
const SCHEMAS: Record<string, object> = { network: NetworkSchema, subnet: SubnetSchema, port: PortSchema, router: RouterSchema };
/** Fails unless the answer is the documented body of its resource: `{network}` or `{networks}`, say. */
function documented(answer: Record<string, unknown>, what: string): void {
  const [key] = Object.keys(answer);
  const plural = key!.endsWith('s');
  const schema = SCHEMAS[plural ? key!.slice(0, -1) : key!];
  assert.ok(schema, `${what}: no schema for ${key}`);
  assertSchema(plural ? many(key!, schema) : single(key!, schema), answer, what);
}
/** As ok, and the answer is checked against its documented schema. */
const checked = async (method: string, path: string, body?: unknown) => {
  const answer = await ok(method, path, body);
  documented(answer, `${method} ${path}`);
  return answer;
};

before(async () => {
  c = await startTestCloud();
  token = (await makeProject(c, await c.adminToken(), 'bulk')).token;
});
after(() => c?.stop());

test('networks, subnets and ports are made in bulk, in order', async () => {
  const nets = await call('POST', '/networks', { networks: [{ name: 'b1' }, { name: 'b2', admin_state_up: false }] });
  assert.equal(nets.status, 201);
  documented(nets.body, 'POST /networks (bulk)');
  assert.deepEqual(
    nets.body.networks.map((n: any) => [n.name, n.admin_state_up]),
    [
      ['b1', true],
      ['b2', false],
    ],
  );
  const [n1, n2] = nets.body.networks;
  const subs = await call('POST', '/subnets', {
    subnets: [
      { network_id: n1.id, ip_version: 4, cidr: '10.1.0.0/24', name: 's1' },
      { network_id: n2.id, ip_version: 4, cidr: '10.2.0.0/24', name: 's2' },
    ],
  });
  assert.equal(subs.status, 201);
  documented(subs.body, 'POST /subnets (bulk)');
  assert.deepEqual(
    subs.body.subnets.map((s: any) => [s.name, s.network_id, s.gateway_ip]),
    [
      ['s1', n1.id, '10.1.0.1'],
      ['s2', n2.id, '10.2.0.1'],
    ],
  );
  const ports = await call('POST', '/ports', {
    ports: [
      { network_id: n1.id, name: 'p1' },
      { network_id: n2.id, name: 'p2' },
    ],
  });
  assert.equal(ports.status, 201);
  documented(ports.body, 'POST /ports (bulk)');
  assert.deepEqual(
    ports.body.ports.map((p: any) => [p.name, p.network_id, p.fixed_ips.length]),
    [
      ['p1', n1.id, 1],
      ['p2', n2.id, 1],
    ],
  );
  // The admin is shown the provider and binding attributes too, in their documented types.
  const asAdmin = neutronOf(c, await c.adminToken());
  const adminNets = await asAdmin.ok('POST', '/networks', { networks: [{ name: 'a1' }, { name: 'a2' }] });
  documented(adminNets, 'POST /networks (bulk, admin)');
  const adminNet = adminNets.networks[0];
  await asAdmin.ok('POST', '/subnets', { subnet: { network_id: adminNet.id, ip_version: 4, cidr: '10.3.0.0/24' } });
  documented(await asAdmin.ok('POST', '/ports', { ports: [{ network_id: adminNet.id }, { network_id: adminNet.id }] }), 'POST /ports (bulk, admin)');
  // One body, one resource: still answered under the singular key.
  const one = await call('POST', '/networks', { network: { name: 'b3' } });
  assert.equal(one.status, 201);
  documented(one.body, 'POST /networks');
  assert.equal(one.body.network.name, 'b3');
});

test('a bulk create that fails part-way makes nothing', async () => {
  const before = (await ok('GET', '/networks')).networks.length;
  const bad = await call('POST', '/networks', { networks: [{ name: 'fine' }, { name: 'x'.repeat(300) }] });
  assert.equal(bad.status, 400);
  const net = (await ok('POST', '/networks', { network: { name: 'atomic' } })).network;
  await ok('POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.9.0.0/24' } });
  assert.equal((await ok('GET', '/networks')).networks.length, before + 1);
  // The second port asks for the address the first one takes: 409, and the first is undone.
  const clash = await call('POST', '/ports', {
    ports: [
      { network_id: net.id, name: 'first', fixed_ips: [{ ip_address: '10.9.0.50' }] },
      { network_id: net.id, name: 'second', fixed_ips: [{ ip_address: '10.9.0.50' }] },
    ],
  });
  assert.equal(clash.status, 409, JSON.stringify(clash.body));
  assert.equal(clash.body.NeutronError.type, 'IpAddressAlreadyAllocated');
  const left = (await ok('GET', `/ports?network_id=${net.id}&device_owner=`)).ports;
  assert.deepEqual(left, []);
  // Two subnets that overlap each other: neither is made.
  const overlap = await call('POST', '/subnets', {
    subnets: [
      { network_id: net.id, ip_version: 4, cidr: '10.10.0.0/24' },
      { network_id: net.id, ip_version: 4, cidr: '10.10.0.0/25' },
    ],
  });
  assert.equal(overlap.status, 400);
  assert.equal((await ok('GET', `/subnets?network_id=${net.id}`)).subnets.length, 1);
  const empty = await call('POST', '/networks', { networks: [] });
  assert.equal(empty.status, 400);
});

test('a body with both forms is refused, and an empty project id never makes a resource of no project', async () => {
  const net = (await ok('POST', '/networks', { network: { name: 'both-forms' } })).network;
  // Valid as {port}, but read as {ports} its items would go unvalidated (a non-boolean port security).
  const both = await call('POST', '/ports', { port: { network_id: net.id }, ports: [{ network_id: net.id, port_security_enabled: 0 }] });
  assert.equal(both.status, 400, JSON.stringify(both.body));
  assert.deepEqual((await ok('GET', `/ports?network_id=${net.id}`)).ports, []);
  for (const body of [{ ports: [{ network_id: net.id, project_id: '' }] }, { networks: [{ name: 'nobodys', project_id: '' }] }]) {
    const res = await call('POST', Object.keys(body)[0] === 'ports' ? '/ports' : '/networks', body);
    if (res.status < 300) assert.equal((res.body as any)[Object.keys(body)[0]!][0].project_id, net.project_id, 'a resource of no project');
  }
  assert.deepEqual((await ok('GET', `/ports?network_id=${net.id}`)).ports, []);
});

test('paths take a .json suffix', async () => {
  const net = (await checked('POST', '/networks.json', { network: { name: 'suffixed' } })).network;
  assert.equal((await checked('GET', `/networks/${net.id}.json`)).network.name, 'suffixed');
  assert.ok((await checked('GET', '/networks.json?name=suffixed')).networks.some((n: any) => n.id === net.id));
  assert.equal((await checked('PUT', `/networks/${net.id}.json`, { network: { name: 'renamed' } })).network.name, 'renamed');
  assert.ok(Array.isArray((await ok('GET', '/extensions.json')).extensions));
  assert.equal((await call('DELETE', `/networks/${net.id}.json`)).status, 204);
  assert.equal((await call('GET', `/networks/${net.id}`)).status, 404);
});

test('the nulls Neutron accepts: no routes, no nameservers, no host routes, no pools, no gateway', async () => {
  const net = (await ok('POST', '/networks', { network: { name: 'nulls' } })).network;
  const sub = (
    await checked('POST', '/subnets', {
      subnet: { network_id: net.id, ip_version: 4, cidr: '10.20.0.0/24', dns_nameservers: null, host_routes: null, gateway_ip: null },
    })
  ).subnet;
  assert.deepEqual([sub.dns_nameservers, sub.host_routes, sub.gateway_ip], [[], [], null]);
  assert.deepEqual(sub.allocation_pools, [{ start: '10.20.0.1', end: '10.20.0.254' }]);
  await checked('PUT', `/subnets/${sub.id}`, { subnet: { dns_nameservers: ['10.0.0.53'], host_routes: [{ destination: '10.30.0.0/24', nexthop: '10.20.0.9' }] } });
  const cleared = (await checked('PUT', `/subnets/${sub.id}`, { subnet: { dns_nameservers: null, host_routes: null, allocation_pools: null } })).subnet;
  assert.deepEqual([cleared.dns_nameservers, cleared.host_routes, cleared.allocation_pools], [[], [], []]);

  const router = (await checked('POST', '/routers', { router: { name: 'r' } })).router;
  await ok('PUT', `/routers/${router.id}/add_router_interface`, {
    subnet_id: (
      await ok('POST', '/subnets', { subnet: { network_id: (await ok('POST', '/networks', { network: {} })).network.id, ip_version: 4, cidr: '10.40.0.0/24' } })
    ).subnet.id,
  });
  const routed = (await checked('PUT', `/routers/${router.id}`, { router: { routes: [{ destination: '10.50.0.0/24', nexthop: '10.40.0.9' }] } })).router;
  assert.equal(routed.routes.length, 1);
  assert.deepEqual((await checked('PUT', `/routers/${router.id}`, { router: { routes: null } })).router.routes, []);

  // What Neutron refuses: a null name or description is not a string.
  assert.equal((await call('PUT', `/networks/${net.id}`, { network: { description: null } })).status, 400);
  assert.equal((await call('PUT', `/networks/${net.id}`, { network: { name: null } })).status, 400);
});
