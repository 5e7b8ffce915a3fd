import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { makeProject } from '../image/helpers.ts';

// Neutron's networks, subnets and ports over HTTP: isolation between projects, the admin's provider
// attributes, IPAM under concurrency, and the list helper's filters, fields and pages.
let c: TestCloud;
type Client = ReturnType<typeof clientOf>;
let admin: Client;
let alice: Client & { project: string };
let bob: Client & { project: string };

const clientOf = (token: string) => {
  const { call, ok } = neutronOf(c, token);
  return {
    call,
    ok,
    network: async (body: Record<string, unknown> = {}) => (await ok('POST', '/networks', { network: body })).network,
    subnet: async (body: Record<string, unknown>) => (await ok('POST', '/subnets', { subnet: { ip_version: 4, ...body } })).subnet,
    port: async (body: Record<string, unknown>) => (await ok('POST', '/ports', { port: body })).port,
  };
};

before(async () => {
  c = await startTestCloud();
  const token = await c.adminToken();
  admin = clientOf(token);
  const a = await makeProject(c, token, 'alice');
  alice = { ...clientOf(a.token), project: a.id };
  const b = await makeProject(c, token, 'bob');
  bob = { ...clientOf(b.token), project: b.id };
});
after(() => c?.stop());

test('a network shows Neutron’s fields; provider attributes are the admin’s to set and see', async () => {
  const n = await alice.network({ name: 'net-a', description: 'mine' });
  assert.equal(n.name, 'net-a');
  assert.equal(n.project_id, alice.project);
  assert.equal(n.tenant_id, alice.project);
  assert.equal(n.status, 'ACTIVE');
  assert.equal(n.mtu, 1450, 'VXLAN takes 50 bytes');
  assert.equal(n.shared, false);
  assert.equal(n['router:external'], false);
  assert.deepEqual(n.subnets, []);
  assert.deepEqual(n.availability_zones, ['nova']);
  assert.equal(n.revision_number, 0);
  assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal('provider:network_type' in n, false, 'members do not see provider attributes');

  const seen = (await admin.ok('GET', `/networks/${n.id}`)).network;
  assert.equal(seen['provider:network_type'], 'vxlan');
  assert.ok(seen['provider:segmentation_id'] >= 1);

  const forbidden = await alice.call('POST', '/networks', { network: { name: 'x', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' } });
  assert.equal(forbidden.status, 403);
  assert.equal((await alice.call('POST', '/networks', { network: { name: 'x', shared: true } })).status, 403);

  const flat = await admin.network({ name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' });
  assert.equal(flat.mtu, 1500);
  assert.equal(flat['provider:physical_network'], 'physnet1');
  const again = await admin.call('POST', '/networks', { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' } });
  assert.equal(again.status, 409);
  assert.equal(again.body.NeutronError.type, 'FlatNetworkInUse');
  const unknown = await admin.call('POST', '/networks', { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'nowhere' } });
  assert.equal(unknown.status, 400);
  assert.equal(
    (
      await admin.call('POST', '/networks', {
        network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 4095 },
      })
    ).status,
    400,
  );
  const vlan = await admin.network({ 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 100 });
  assert.equal(vlan['provider:segmentation_id'], 100);
  assert.equal(
    (
      await admin.call('POST', '/networks', {
        network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 100 },
      })
    ).status,
    409,
  );
  assert.equal((await admin.call('POST', '/networks', { network: { 'provider:network_type': 'gre' } })).status, 400);
  assert.equal((await alice.call('POST', '/networks', { network: { bogus: 1 } })).status, 400);
  assert.equal((await alice.call('POST', '/networks', { network: { mtu: 9000 } })).status, 400);

  const renamed = (await alice.ok('PUT', `/networks/${n.id}`, { network: { name: 'net-a2' } })).network;
  assert.equal(renamed.name, 'net-a2');
  assert.equal(renamed.revision_number, 1);
  await admin.ok('DELETE', `/networks/${vlan.id}`);
  await admin.ok('DELETE', `/networks/${flat.id}`);
  await alice.ok('DELETE', `/networks/${n.id}`);
});

test('projects are isolated: 404 for what another project owns; shared and external networks are seen', async () => {
  const mine = await alice.network({ name: 'private' });
  const sub = await alice.subnet({ network_id: mine.id, cidr: '10.9.0.0/24' });
  const port = await alice.port({ network_id: mine.id });
  for (const path of [`/networks/${mine.id}`, `/subnets/${sub.id}`, `/ports/${port.id}`]) {
    assert.equal((await bob.call('GET', path)).status, 404, path);
    assert.equal((await bob.call('DELETE', path)).status, 404, path);
  }
  assert.equal((await bob.call('PUT', `/networks/${mine.id}`, { network: { name: 'x' } })).status, 404);
  assert.equal((await bob.call('POST', '/ports', { port: { network_id: mine.id } })).status, 404);
  assert.equal((await bob.call('POST', '/subnets', { subnet: { network_id: mine.id, ip_version: 4, cidr: '10.10.0.0/24' } })).status, 404);
  for (const list of ['networks', 'subnets', 'ports']) {
    const ids = (await bob.ok('GET', `/${list}`))[list].map((x: any) => x.id);
    assert.ok(![mine.id, sub.id, port.id].some((id) => ids.includes(id)), list);
  }

  const shared = await admin.network({ name: 'shared', shared: true });
  const sharedSub = await admin.subnet({ network_id: shared.id, cidr: '10.11.0.0/24' });
  assert.ok((await bob.ok('GET', '/networks')).networks.some((n: any) => n.id === shared.id));
  assert.ok((await bob.ok('GET', '/subnets')).subnets.some((s: any) => s.id === sharedSub.id));
  assert.equal((await bob.call('PUT', `/networks/${shared.id}`, { network: { name: 'mine now' } })).status, 403);
  assert.equal((await bob.call('DELETE', `/networks/${shared.id}`)).status, 403);
  const bobs = await bob.port({ network_id: shared.id });
  assert.equal(bobs.project_id, bob.project);
  assert.equal(
    (await bob.call('POST', '/ports', { port: { network_id: shared.id, fixed_ips: [{ ip_address: '10.11.0.99' }] } })).status,
    403,
    'a chosen address on another project’s network is the admin’s',
  );
  // Nor may a port on another project's network pose as another: no address pairs, no port
  // security off.
  for (const port of [{ port_security_enabled: false, security_groups: [] }, { allowed_address_pairs: [{ ip_address: '10.11.0.1' }] }]) {
    assert.equal((await bob.call('POST', '/ports', { port: { network_id: shared.id, ...port } })).status, 403, JSON.stringify(port));
    assert.equal((await bob.call('PUT', `/ports/${bobs.id}`, { port })).status, 403, JSON.stringify(port));
  }
  // The owner of a shared network sees the ports others put on it, but may not change them.
  const alicesShared = await admin.network({ name: 'alice-shared', shared: true, project_id: alice.project });
  await admin.subnet({ network_id: alicesShared.id, cidr: '10.12.0.0/24' });
  const onAlices = await bob.port({ network_id: alicesShared.id });
  assert.equal((await alice.call('PUT', `/ports/${onAlices.id}`, { port: { name: 'taken' } })).status, 403);
  await bob.ok('DELETE', `/ports/${onAlices.id}`);
  await admin.ok('DELETE', `/networks/${alicesShared.id}`);
  assert.ok(!(await alice.ok('GET', '/ports')).ports.some((p: any) => p.id === bobs.id));
  assert.ok(
    (await admin.ok('GET', '/ports')).ports.some((p: any) => p.id === bobs.id),
    'the admin sees every project’s',
  );

  await bob.ok('DELETE', `/ports/${bobs.id}`);
  await admin.ok('DELETE', `/networks/${shared.id}`);
  await alice.ok('DELETE', `/ports/${port.id}`);
  await alice.ok('DELETE', `/networks/${mine.id}`);
});

test('subnets: defaults, normalized cidr, pools, gateway, overlap, and the DHCP port', async () => {
  const n = await alice.network({ name: 'subnets' });
  const s = await alice.subnet({ network_id: n.id, cidr: '192.168.10.7/24', name: 's1', dns_nameservers: ['8.8.8.8'] });
  assert.equal(s.cidr, '192.168.10.0/24');
  assert.equal(s.gateway_ip, '192.168.10.1');
  assert.deepEqual(s.allocation_pools, [{ start: '192.168.10.2', end: '192.168.10.254' }]);
  assert.equal(s.enable_dhcp, true);
  assert.deepEqual(s.dns_nameservers, ['8.8.8.8']);
  assert.equal(s.subnetpool_id, null);
  assert.deepEqual(s.service_types, []);
  const dhcp = (await admin.ok('GET', `/ports?network_id=${n.id}&device_owner=network:dhcp`)).ports;
  assert.equal(dhcp.length, 1);
  assert.deepEqual(dhcp[0].fixed_ips, [{ subnet_id: s.id, ip_address: '192.168.10.2' }]);
  assert.match(dhcp[0].device_id, new RegExp(`^dhcp[0-9a-f]+-${n.id}$`));
  assert.deepEqual((await alice.ok('GET', `/networks/${n.id}`)).network.subnets, [s.id]);

  const overlap = await alice.call('POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '192.168.10.128/25' } });
  assert.equal(overlap.status, 400);
  assert.match(overlap.body.NeutronError.message, /overlaps with another subnet/);

  const cases: [Record<string, unknown>, number][] = [
    [{ cidr: '10.0.0.0' }, 400],
    [{ cidr: 'nonsense' }, 400],
    [{ cidr: '10.0.0.0/24', ip_version: 6 }, 400],
    [{ cidr: '10.1.0.0/24', allocation_pools: [{ start: '10.1.0.10', end: '10.1.1.5' }] }, 400],
    [{ cidr: '10.1.0.0/24', allocation_pools: [{ start: '10.1.0.20', end: '10.1.0.10' }] }, 400],
    [
      {
        cidr: '10.1.0.0/24',
        allocation_pools: [
          { start: '10.1.0.10', end: '10.1.0.20' },
          { start: '10.1.0.15', end: '10.1.0.30' },
        ],
      },
      400,
    ],
    [{ cidr: '10.1.0.0/24', gateway_ip: '10.1.0.15', allocation_pools: [{ start: '10.1.0.10', end: '10.1.0.20' }] }, 409],
    [{ cidr: '10.1.0.0/24', dns_nameservers: ['x'] }, 400],
    [{ cidr: '10.1.0.0/24', ipv6_address_mode: 'slaac' }, 400],
  ];
  for (const [body, status] of cases) {
    const res = await alice.call('POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, ...body } });
    assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
  }

  const noGw = await alice.subnet({ network_id: n.id, cidr: '10.2.0.0/29', gateway_ip: null, enable_dhcp: false });
  assert.equal(noGw.gateway_ip, null);
  assert.deepEqual(noGw.allocation_pools, [{ start: '10.2.0.1', end: '10.2.0.6' }]);
  const v6 = await alice.subnet({ network_id: n.id, ip_version: 6, cidr: 'fd00:1::/64', ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' });
  assert.equal(v6.gateway_ip, 'fd00:1::1');
  const p = await alice.port({ network_id: n.id, port_security_enabled: false });
  assert.equal(p.fixed_ips.length, 2, 'one IPv4 address and the SLAAC one');
  const slaac = p.fixed_ips.find((f: any) => f.subnet_id === v6.id).ip_address;
  const mac = p.mac_address.split(':').map((x: string) => parseInt(x, 16));
  assert.equal(slaac.split(':').at(-1), ((mac[4] << 8) | mac[5]).toString(16));

  const upd = (await alice.ok('PUT', `/subnets/${s.id}`, { subnet: { name: 's1b', allocation_pools: [{ start: '192.168.10.100', end: '192.168.10.200' }] } }))
    .subnet;
  assert.equal(upd.name, 's1b');
  assert.equal(upd.revision_number, 1);
  const inUse = await alice.call('DELETE', `/subnets/${s.id}`);
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.NeutronError.type, 'SubnetInUse');
  await alice.ok('DELETE', `/ports/${p.id}`);
  await alice.ok('DELETE', `/subnets/${s.id}`);
  const left = (await admin.ok('GET', `/ports?network_id=${n.id}`)).ports;
  assert.deepEqual(
    left.map((x: any) => [x.id, x.fixed_ips.map((f: any) => f.subnet_id)]),
    [[dhcp[0].id, [v6.id]]],
    'the DHCP port keeps its address on the other DHCP subnet',
  );
  await alice.ok('DELETE', `/subnets/${v6.id}`);
  assert.deepEqual((await admin.ok('GET', `/ports?network_id=${n.id}`)).ports, [], 'the DHCP port went with its last DHCP subnet');
  await alice.ok('DELETE', `/networks/${n.id}`);
  assert.deepEqual((await alice.ok('GET', `/subnets?network_id=${n.id}`)).subnets, []);
});

test('IPAM: 40 parallel creates on a /26 never share an address; requested, used, outside, exhausted, released', async () => {
  const n = await alice.network({ name: 'ipam' });
  const s = await alice.subnet({ network_id: n.id, cidr: '10.20.0.0/26', enable_dhcp: false });
  const made = await Promise.all(Array.from({ length: 40 }, () => alice.call('POST', '/ports', { port: { network_id: n.id, port_security_enabled: false } })));
  assert.ok(made.every((r) => r.status === 201));
  const ips = made.map((r) => r.body.port.fixed_ips[0].ip_address);
  assert.equal(new Set(ips).size, 40);
  assert.ok(!ips.includes('10.20.0.1'), 'never the gateway');
  assert.equal(new Set(made.map((r) => r.body.port.mac_address)).size, 40);
  assert.ok(made.every((r) => /^fa:16:3e(:[0-9a-f]{2}){3}$/.test(r.body.port.mac_address)));

  const chosen = await alice.port({ network_id: n.id, port_security_enabled: false, fixed_ips: [{ subnet_id: s.id, ip_address: '10.20.0.62' }] });
  assert.deepEqual(chosen.fixed_ips, [{ subnet_id: s.id, ip_address: '10.20.0.62' }]);
  const used = await alice.call('POST', '/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '10.20.0.62' }] } });
  assert.equal(used.status, 409);
  assert.equal(used.body.NeutronError.type, 'IpAddressAlreadyAllocated');
  const outside = await alice.call('POST', '/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '10.20.1.5' }] } });
  assert.equal(outside.status, 400);
  assert.equal(outside.body.NeutronError.type, 'InvalidIpForSubnet');
  const broadcast = await alice.call('POST', '/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '10.20.0.63' }] } });
  assert.equal(broadcast.status, 400);
  assert.equal(
    (await alice.call('POST', '/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '172.16.0.1' }] } })).body.NeutronError.type,
    'InvalidIpForNetwork',
  );

  // .2–.62 is 61 addresses: 41 taken, 20 left.
  for (let i = 0; i < 20; i++) await alice.port({ network_id: n.id, port_security_enabled: false });
  const full = await alice.call('POST', '/ports', { port: { network_id: n.id, port_security_enabled: false } });
  assert.equal(full.status, 409);
  assert.equal(full.body.NeutronError.type, 'IpAddressGenerationFailure');
  assert.equal(full.body.NeutronError.message, `No more IP addresses available on network ${n.id}.`);

  await alice.ok('DELETE', `/ports/${made[0]!.body.port.id}`);
  const reused = await alice.port({ network_id: n.id, port_security_enabled: false });
  assert.equal(reused.fixed_ips[0].ip_address, ips[0], 'a deleted port’s address is free again');

  // fixed_ips on update: the old address is released, the new one taken.
  assert.equal(
    (await alice.call('PUT', `/ports/${chosen.id}`, { port: { fixed_ips: [{ subnet_id: s.id, ip_address: ips[1] }] } })).status,
    409,
    `${ips[1]} is another port's`,
  );
  await alice.ok('PUT', `/ports/${made[1]!.body.port.id}`, { port: { fixed_ips: [] } });
  const taken = (await alice.ok('PUT', `/ports/${chosen.id}`, { port: { fixed_ips: [{ subnet_id: s.id, ip_address: ips[1] }] } })).port;
  assert.deepEqual(taken.fixed_ips, [{ subnet_id: s.id, ip_address: ips[1] }]);
  const again = await alice.port({ network_id: n.id, port_security_enabled: false, fixed_ips: [{ ip_address: '10.20.0.62' }] });
  assert.equal(again.fixed_ips[0].ip_address, '10.20.0.62', 'released on update');

  const inUse = await alice.call('DELETE', `/networks/${n.id}`);
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.NeutronError.type, 'NetworkInUse');
  assert.equal(inUse.body.NeutronError.message, `Unable to complete operation on network ${n.id}. There are one or more ports still in use on the network.`);
  for (const p of (await alice.ok('GET', `/ports?network_id=${n.id}`)).ports) await alice.ok('DELETE', `/ports/${p.id}`);
  await alice.ok('DELETE', `/networks/${n.id}`);
});

test('ports: security groups, port security, address pairs, binding, service ports', async () => {
  const n = await alice.network({ name: 'ports' });
  await alice.subnet({ network_id: n.id, cidr: '10.30.0.0/24' });
  const p = await alice.port({ network_id: n.id, name: 'p' });
  assert.equal(p.security_groups.length, 1, 'the project’s default group');
  assert.equal(p.port_security_enabled, true);
  assert.equal(p.status, 'DOWN');
  assert.equal(p.admin_state_up, true);
  assert.equal('binding:host_id' in p, false, 'binding details are the admin’s');
  assert.deepEqual(p.dns_assignment[0].hostname, `host-${p.fixed_ips[0].ip_address.replaceAll('.', '-')}`);
  const off = await alice.call('PUT', `/ports/${p.id}`, { port: { port_security_enabled: false } });
  assert.equal(off.status, 409);
  assert.equal(off.body.NeutronError.type, 'PortSecurityPortHasSecurityGroup');
  const cleared = (await alice.ok('PUT', `/ports/${p.id}`, { port: { port_security_enabled: false, security_groups: [] } })).port;
  assert.deepEqual(cleared.security_groups, []);
  assert.equal(cleared.port_security_enabled, false);
  assert.equal((await alice.call('PUT', `/ports/${p.id}`, { port: { allowed_address_pairs: [{ ip_address: '10.30.0.200' }] } })).status, 409);
  const secure = (await alice.ok('PUT', `/ports/${p.id}`, { port: { port_security_enabled: true, allowed_address_pairs: [{ ip_address: '10.30.0.200' }] } }))
    .port;
  assert.deepEqual(secure.allowed_address_pairs, [{ ip_address: '10.30.0.200', mac_address: p.mac_address }]);
  assert.equal(
    (await alice.call('POST', '/ports', { port: { network_id: n.id, port_security_enabled: false, security_groups: [p.security_groups[0]] } })).status,
    400,
  );

  assert.equal((await alice.call('PUT', `/ports/${p.id}`, { port: { 'binding:host_id': 'h1' } })).status, 403);
  const bound = (await admin.ok('PUT', `/ports/${p.id}`, { port: { 'binding:host_id': 'h1' } })).port;
  assert.equal(bound['binding:host_id'], 'h1');
  assert.equal(bound['binding:vif_type'], 'tap');
  assert.equal((await alice.call('POST', '/ports', { port: { network_id: n.id, mac_address: 'fa:16:3e:00:00:01' } })).status, 403);
  const withMac = await admin.port({ network_id: n.id, mac_address: 'FA:16:3E:00:00:01', port_security_enabled: false });
  assert.equal(withMac.mac_address, 'fa:16:3e:00:00:01');
  assert.equal(
    (await admin.call('POST', '/ports', { port: { network_id: n.id, mac_address: 'fa:16:3e:00:00:01' } })).body.NeutronError.type,
    'MacAddressInUse',
  );
  assert.equal((await admin.call('POST', '/ports', { port: { network_id: n.id, mac_address: '01:00:00:00:00:01' } })).status, 400);

  const iface = await admin.port({ network_id: n.id, device_owner: 'network:router_interface', device_id: 'r1', project_id: alice.project });
  assert.deepEqual(iface.security_groups, [], 'service ports get no default group');
  const refused = await alice.call('DELETE', `/ports/${iface.id}`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.NeutronError.message, `Port ${iface.id} cannot be deleted directly via the port API: has device owner network:router_interface.`);
  for (const port of (await admin.ok('GET', `/ports?network_id=${n.id}`)).ports) {
    if (port.device_owner === 'network:router_interface')
      await c.cloud.store.tx(async (tx) => (await import('../../src/network/ports.ts')).deletePort(tx, port.id));
    else if (port.device_owner !== 'network:dhcp') await admin.ok('DELETE', `/ports/${port.id}`);
  }
  await alice.ok('DELETE', `/networks/${n.id}`);
});

test('lists: filters, fields, sorting and Neutron’s pages with links', async () => {
  const n = await alice.network({ name: 'listing' });
  await alice.subnet({ network_id: n.id, cidr: '10.40.0.0/24', enable_dhcp: false });
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await alice.port({ network_id: n.id, name: `p${i % 3}`, port_security_enabled: false, admin_state_up: i !== 3 }));
  const list = async (q: string) => (await alice.ok('GET', `/ports?network_id=${n.id}&${q}`)).ports;
  assert.equal((await list('name=p1')).length, 2);
  assert.equal((await list('name=p1&name=p2')).length, 4, 'repeated values: any of');
  assert.equal((await list('admin_state_up=False')).length, 1);
  assert.equal((await list('admin_state_up=true')).length, 6);
  const ip = made[4]!.fixed_ips[0].ip_address;
  assert.deepEqual(
    (await list(`fixed_ips=ip_address%3D${ip}`)).map((p: any) => p.id),
    [made[4]!.id],
  );
  assert.deepEqual(
    (await list(`fixed_ips=ip_address=${ip}&fixed_ips=subnet_id=${made[4]!.fixed_ips[0].subnet_id}`)).map((p: any) => p.id),
    [made[4]!.id],
  );
  assert.deepEqual(await list('fields=id&fields=name&name=p0&sort_key=name'), [
    ...made
      .filter((p) => p.name === 'p0')
      .map((p) => ({ id: p.id, name: p.name }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
  ]);
  const byName = await list('sort_key=name&sort_dir=desc');
  assert.deepEqual(
    byName.map((p: any) => p.name),
    ['p2', 'p2', 'p1', 'p1', 'p0', 'p0', 'p0'],
  );
  assert.equal((await alice.call('GET', '/ports?sort_key=nope')).status, 400);
  assert.equal((await alice.call('GET', '/ports?limit=x')).status, 400);

  // Pages of 3 by id, forwards then back from the last.
  const ids = made.map((p) => p.id).sort();
  const seen: string[] = [];
  let url = `/ports?network_id=${n.id}&limit=3`;
  let last: any;
  for (;;) {
    last = await alice.ok('GET', url);
    seen.push(...last.ports.map((p: any) => p.id));
    const next = last.ports_links.find((l: any) => l.rel === 'next');
    if (!next) break;
    url = next.href.slice(next.href.indexOf('/ports'));
  }
  assert.deepEqual(seen, ids);
  assert.ok(last.ports_links.some((l: any) => l.rel === 'previous'));
  const prev = last.ports_links.find((l: any) => l.rel === 'previous').href;
  const back = await alice.ok('GET', prev.slice(prev.indexOf('/ports')));
  assert.deepEqual(
    back.ports.map((p: any) => p.id),
    ids.slice(3, 6),
  );

  const nets = (await alice.ok('GET', '/networks?name=listing&fields=id&fields=subnets')).networks;
  assert.deepEqual(Object.keys(nets[0]).sort(), ['id', 'subnets']);
  assert.equal((await alice.ok('GET', '/networks?shared=true')).networks.filter((x: any) => x.id === n.id).length, 0);

  const tagged = await alice.network({ name: 'tagged' });
  assert.deepEqual((await alice.ok('PUT', `/networks/${tagged.id}/tags`, { tags: ['red', 'blue'] })).tags, ['red', 'blue']);
  assert.equal((await alice.call('PUT', `/networks/${tagged.id}/tags/green`)).status, 201);
  assert.equal((await alice.call('GET', `/networks/${tagged.id}/tags/pink`)).status, 404);
  assert.deepEqual(
    (await alice.ok('GET', '/networks?tags=red,green')).networks.map((x: any) => x.id),
    [tagged.id],
  );
  assert.equal((await alice.ok('GET', '/networks?tags-any=nope')).networks.length, 0);
  assert.equal((await bob.call('PUT', `/networks/${tagged.id}/tags`, { tags: [] })).status, 404);
  await alice.ok('DELETE', `/networks/${tagged.id}`);
  for (const p of made) await alice.ok('DELETE', `/ports/${p.id}`);
  await alice.ok('DELETE', `/networks/${n.id}`);
});

test('extensions: the aliases Nubo serves, one by one', async () => {
  const all = (await alice.ok('GET', '/extensions')).extensions;
  const aliases = all.map((e: any) => e.alias);
  for (const a of ['external-net', 'router', 'security-group', 'quotas', 'provider', 'port-security', 'binding', 'net-mtu', 'standard-attr-tag'])
    assert.ok(aliases.includes(a), a);
  assert.ok(!aliases.includes('dns-integration'));
  const one = (await alice.ok('GET', '/extensions/provider')).extension;
  assert.deepEqual(Object.keys(one).sort(), ['alias', 'description', 'links', 'name', 'updated']);
  assert.equal((await alice.call('GET', '/extensions/dvr')).status, 404);
});
