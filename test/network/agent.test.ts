import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { computeOf, rawImage } from '../compute/helpers.ts';
import type { FakeDataplane } from '../../src/network/dataplane/fake.ts';

// What the network agent asks of the data plane, read off the in-memory one: the specs it derives
// from the store for DHCP, ports, routers and the firewall; and the metadata service, which
// answers a server about itself only, by the network and address its proxy reports.
let c: TestCloud;
let token: string;
let dp: FakeDataplane;

before(async () => {
  c = await startTestCloud();
  token = await c.adminToken();
  dp = c.cloud.network.dataplane as FakeDataplane;
});
after(() => c?.stop());

const net = (method: string, path: string, body?: unknown) => neutronOf(c, token).ok(method, path, body);
const settle = () => c.cloud.network.agent!.idle();

/** A GET to the metadata service as a network's proxy makes it. */
function metadata(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: join(c.dataDir, 'metadata.sock'), path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('servers get ports wired on their host, DHCP leases, firewall rules with remote groups resolved, and router NAT', async () => {
  const compute = computeOf(c, token);
  const network = (await net('POST', '/networks', { network: { name: 'private-net' } })).network;
  const subnet = (await net('POST', '/subnets', { subnet: { network_id: network.id, cidr: '192.168.10.0/24', ip_version: 4, name: 'private-subnet' } })).subnet;
  const image = await rawImage(c, token, 4096);
  const flavor = await compute.flavor('agent', 64, 0);
  const a = await compute.create({ name: 'vm-a', imageRef: image, flavorRef: flavor, networks: [{ uuid: network.id }] });
  const b = await compute.create({ name: 'vm-b', imageRef: image, flavorRef: flavor, networks: [{ uuid: network.id, fixed_ip: '192.168.10.77' }] });
  await compute.settled(a, 'ACTIVE');
  const vb = await compute.settled(b, 'ACTIVE');
  assert.deepEqual(
    vb.addresses['private-net'].map((x: any) => [x.addr, x['OS-EXT-IPS:type']]),
    [['192.168.10.77', 'fixed']],
  );
  await settle();
  // The server list's ip filter is a regular expression over the servers' fixed addresses.
  const byIp = async (q: string) => (await compute.call('GET', `/servers?${q}`)).body.servers.map((s: any) => s.id).sort();
  assert.deepEqual(await byIp('ip=192.168.10.77'), [b]);
  assert.deepEqual(await byIp('ip=^192%5C.168%5C.10%5C.'), [a, b].sort());
  assert.deepEqual(await byIp('ip6=.'), []);
  assert.equal((await compute.call('GET', '/servers?ip=(')).status, 400);

  const ports = (await net('GET', `/ports?network_id=${network.id}`)).ports;
  const portOf = (server: string) => ports.find((p: any) => p.device_id === server);
  for (const s of [a, b]) {
    const p = portOf(s);
    assert.equal(p.device_owner, 'compute:nova');
    assert.equal(p['binding:host_id'], c.cloud.config.computeHost);
    assert.equal(p.status, 'ACTIVE');
    assert.ok(dp.ports.has(p.id), 'the agent wired the port');
  }

  const dhcp = dp.dhcp.get(network.id)!;
  assert.ok(dhcp, 'the network has a DHCP service');
  assert.deepEqual(
    dhcp.subnets.map((s) => s.cidr),
    ['192.168.10.0/24'],
  );
  const leases = new Map(dhcp.hosts.map((h) => [h.mac, h.ip]));
  assert.equal(leases.get(portOf(b).mac_address), '192.168.10.77');
  assert.equal(leases.get(portOf(a).mac_address), portOf(a).fixed_ips[0].ip_address);

  // The default group lets in what comes from its members: the rule names both servers' addresses.
  const fw = dp.firewall.find((p) => p.id === portOf(a).id)!;
  const fromGroup = fw.security!.rules.find((r) => r.direction === 'ingress' && r.ethertype === 'IPv4')!;
  assert.deepEqual([...fromGroup.remotes!].sort(), [`${portOf(a).fixed_ips[0].ip_address}/32`, '192.168.10.77/32'].sort());

  // A router with a gateway and a floating IP becomes one router spec with its NAT.
  const pub = (
    await net('POST', '/networks', {
      network: { name: 'public-net', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
    })
  ).network;
  await net('POST', '/subnets', { subnet: { network_id: pub.id, cidr: '172.24.4.0/24', ip_version: 4, enable_dhcp: false, gateway_ip: '172.24.4.1' } });
  const router = (await net('POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: pub.id } } })).router;
  await net('PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
  const fip = (await net('POST', '/floatingips', { floatingip: { floating_network_id: pub.id, port_id: portOf(b).id } })).floatingip;
  await settle();
  const spec = dp.routers.get(router.id)!;
  assert.deepEqual(
    spec.interfaces.map((i) => i.addresses),
    [['192.168.10.1/24']],
  );
  assert.deepEqual(spec.gateway!.nextHops, ['172.24.4.1']);
  assert.deepEqual(spec.floatingIps, [{ floatingIp: fip.floating_ip_address, fixedIp: '192.168.10.77' }]);
  assert.equal((await net('GET', `/floatingips/${fip.id}`)).floatingip.status, 'ACTIVE');
  const shown = await compute.show(b);
  assert.deepEqual(
    shown.addresses['private-net'].map((x: any) => x['OS-EXT-IPS:type']),
    ['fixed', 'floating'],
  );

  // The metadata service: each server is told about itself, by the address it asks from.
  const ask = (ip: string, path = '/openstack/latest/meta_data.json') => metadata(path, { 'x-nubo-network-id': network.id, 'x-forwarded-for': ip });
  assert.equal(JSON.parse((await ask('192.168.10.77')).body).uuid, b);
  assert.equal(JSON.parse((await ask(portOf(a).fixed_ips[0].ip_address)).body).name, 'vm-a');
  assert.equal((await ask('192.168.10.77', '/latest/meta-data/hostname')).body, 'vm-b');
  assert.equal((await ask('192.168.10.200')).status, 404, 'an address that is no server learns nothing');
  // A port of another project that names vm-b as its device is not vm-b.
  const other = (await c.request('GET', '/identity/v3/projects?name=service', { token })).body.projects[0]?.id ?? 'another-project';
  const foreign = (
    await net('POST', '/ports', {
      port: { network_id: network.id, project_id: other, device_owner: 'compute:nova', device_id: b, fixed_ips: [{ ip_address: '192.168.10.201' }] },
    })
  ).port;
  assert.equal((await ask('192.168.10.201')).status, 404, 'a port pointed at a server of another project');
  // Nor is it vm-b's NIC, address or network.
  assert.ok(!JSON.stringify((await compute.show(b)).addresses).includes('192.168.10.201'), "another project's port shows as vm-b's address");
  assert.deepEqual(await byIp('ip=192%5C.168%5C.10%5C.201'), []);
  assert.equal(JSON.parse((await ask('192.168.10.77', '/openstack/latest/network_data.json')).body).links.length, 1);
  assert.equal(
    (await metadata('/latest/meta-data/hostname', { 'x-nubo-network-id': pub.id, 'x-forwarded-for': '192.168.10.77' })).status,
    404,
    'the address on another network is not that server',
  );
  assert.equal((await metadata('/latest/meta-data/hostname', { 'x-nubo-network-id': network.id, 'x-forwarded-for': '10.0.0.1, 192.168.10.77' })).status, 400);

  // network_data.json: a link per NIC in order, DHCP where the subnet serves it, the address, routes
  // and DNS written where it does not.
  const fixed = (await net('POST', '/networks', { network: { name: 'static-net' } })).network;
  await net('POST', '/subnets', {
    subnet: {
      network_id: fixed.id,
      cidr: '10.40.0.0/24',
      ip_version: 4,
      enable_dhcp: false,
      gateway_ip: '10.40.0.1',
      dns_nameservers: ['10.40.0.53'],
      host_routes: [{ destination: '10.41.0.0/16', nexthop: '10.40.0.254' }],
    },
  });
  const vmC = await compute.create({
    name: 'vm-c',
    imageRef: image,
    flavorRef: flavor,
    networks: [
      { uuid: network.id, fixed_ip: '192.168.10.88' },
      { uuid: fixed.id, fixed_ip: '10.40.0.9' },
    ],
  });
  await compute.settled(vmC, 'ACTIVE');
  // Ports made in one request are the server's NICs in the order of their ids.
  const nics = (await net('GET', `/ports?device_id=${vmC}`)).ports.sort((x: any, y: any) => x.id.localeCompare(y.id));
  const tap = (p: any) => `tap${p.id.slice(0, 11)}`;
  const dns = [{ type: 'dns', address: '10.40.0.53' }];
  const expected = {
    links: nics.map((p: any) => ({
      id: tap(p),
      vif_id: p.id,
      type: 'tap',
      mtu: [network, fixed].find((n) => n.id === p.network_id).mtu,
      ethernet_mac_address: p.mac_address,
    })),
    networks: nics.map((p: any, i: number) =>
      p.network_id === network.id
        ? { id: `network${i}`, link: tap(p), network_id: network.id, type: 'ipv4_dhcp' }
        : {
            id: `network${i}`,
            link: tap(p),
            network_id: fixed.id,
            type: 'ipv4',
            ip_address: '10.40.0.9',
            netmask: '255.255.255.0',
            routes: [
              { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.40.0.1' },
              { network: '10.41.0.0', netmask: '255.255.0.0', gateway: '10.40.0.254' },
            ],
            services: dns,
          },
    ),
    services: dns,
  };
  assert.deepEqual(JSON.parse((await ask('192.168.10.88', '/openstack/latest/network_data.json')).body), expected);
  await compute.call('DELETE', `/servers/${vmC}`);
  await compute.gone(vmC);
  await net('DELETE', `/networks/${fixed.id}`);

  // Deleting a server deletes the ports made for it; the agent unwires them.
  await net('PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: null } });
  await compute.call('DELETE', `/servers/${a}`);
  await compute.gone(a);
  await settle();
  assert.equal((await c.request('GET', `/networking/v2.0/ports/${portOf(a).id}`, { token })).status, 404);
  assert.ok(!dp.ports.has(portOf(a).id));
  assert.ok(!dp.dhcp.get(network.id)!.hosts.some((h) => h.mac === portOf(a).mac_address), 'its DHCP lease is gone');
  // Deleting vm-b leaves the other project's port that names it alone.
  await compute.call('DELETE', `/servers/${b}`);
  await compute.gone(b);
  assert.equal((await c.request('GET', `/networking/v2.0/ports/${foreign.id}`, { token })).status, 200);
  await net('DELETE', `/ports/${foreign.id}`);
});

test('a server asks for no network it may not use, and several networks need one named', async () => {
  const compute = computeOf(c, token);
  const image = await rawImage(c, token, 4096);
  const flavor = await compute.flavor('agent2', 64, 0);
  const res = await compute.call('POST', '/servers', {
    server: { name: 'x', imageRef: image, flavorRef: flavor, networks: [{ uuid: '00000000-0000-0000-0000-000000000000' }] },
  });
  assert.equal(res.status, 400);
  assert.match(res.body.badRequest.message, /Network 0{8}-.* could not be found/);
  await net('POST', '/networks', { network: { name: 'other-net' } });
  const many = await compute.call('POST', '/servers', { server: { name: 'x', imageRef: image, flavorRef: flavor } });
  assert.equal(many.status, 409, JSON.stringify(many.body));
  assert.match(many.body.conflictingRequest.message, /Multiple possible networks found/);
});

test('a secured port goes ACTIVE, and so starts its guest, only once its rules are in place', async () => {
  const network = (await net('POST', '/networks', { network: { name: 'gated' } })).network;
  await net('POST', '/subnets', { subnet: { network_id: network.id, cidr: '10.31.0.0/24', ip_version: 4 } });
  await settle();
  let open!: () => void;
  const held = new Promise<void>((resolve) => (open = resolve));
  const apply = dp.applyFirewall.bind(dp);
  dp.applyFirewall = async (ports) => (await held, apply(ports));
  try {
    const { port } = await net('POST', '/ports', {
      port: { network_id: network.id, device_owner: 'compute:nova', 'binding:host_id': c.cloud.config.computeHost },
    });
    for (let i = 0; !dp.ports.has(port.id); i++) {
      assert.ok(i < 200, 'the port was never wired');
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal((await net('GET', `/ports/${port.id}`)).port.status, 'DOWN', 'ACTIVE before its rules were applied');
    open();
    await settle();
    assert.equal((await net('GET', `/ports/${port.id}`)).port.status, 'ACTIVE');
    assert.ok(await dp.isFiltered(port.id));
    await net('DELETE', `/ports/${port.id}`);
    await net('DELETE', `/networks/${network.id}`);
    await settle();
  } finally {
    open();
    dp.applyFirewall = apply;
  }
});
