import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject, imagesOf } from '../image/helpers.ts';
import { assertSchema, nullable, obj, str } from '../helpers/schema.ts';
import { computeOf, rawImage } from './helpers.ts';

// Nova's deprecated proxies as old clients call them: /images, os-security-groups(-rules),
// os-floating-ips, os-floating-ip-pools, os-networks and os-tenant-networks, each served at 2.1
// through the image and network services' own rules, and 404 from 2.36 as in Nova.
let c: TestCloud;
let adminToken: string;
let alice: { token: string; project: string };
let bob: { token: string; project: string };
let image: string;
let tiny: string;

const call = (who: { token: string }, method: string, path: string, body?: unknown, version = '2.1') =>
  c.request(method, `/compute/v2.1${path}`, { token: who.token, body, headers: { 'openstack-api-version': `compute ${version}` } });
const net = (who: { token: string }, method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token: who.token, body });

const link = obj({ rel: str, href: str }, ['rel', 'href'], true);
const ImageDetail = obj(
  {
    id: str,
    name: nullable(str),
    minRam: { type: 'integer' },
    minDisk: { type: 'integer' },
    metadata: { type: 'object', additionalProperties: str },
    created: str,
    updated: str,
    status: { enum: ['ACTIVE', 'SAVING', 'DELETED', 'ERROR', 'UNKNOWN'] },
    progress: { type: 'integer' },
    'OS-EXT-IMG-SIZE:size': { type: 'integer' },
    links: { type: 'array', items: link },
    server: obj({ id: str, links: { type: 'array', items: link } }),
  },
  ['id', 'name', 'minRam', 'minDisk', 'metadata', 'created', 'updated', 'status', 'progress', 'OS-EXT-IMG-SIZE:size', 'links'],
);
const Rule = obj({
  id: str,
  parent_group_id: str,
  ip_protocol: nullable(str),
  from_port: nullable({ type: 'integer' }),
  to_port: nullable({ type: 'integer' }),
  group: { type: 'object' },
  ip_range: { type: 'object' },
});
const Group = obj({ id: str, name: str, description: str, tenant_id: str, rules: { type: 'array', items: Rule } });
const FloatingIp = obj({ id: str, ip: str, pool: nullable(str), fixed_ip: nullable(str), instance_id: nullable(str) });

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  adminToken = await c.adminToken();
  const a = await makeProject(c, adminToken, 'alice');
  alice = { token: a.token, project: a.id };
  const b = await makeProject(c, adminToken, 'bob');
  bob = { token: b.token, project: b.id };
  image = await rawImage(c, adminToken, 1 << 20, { min_ram: 64 });
  tiny = await computeOf(c, adminToken).flavor('tiny', 128, 1);
});
after(() => c?.stop());

test('/images: list, detail and show as Nova shaped them, through the image service’s visibility; 404 from 2.36', async () => {
  const own = await rawImage(c, alice.token, 1024, { visibility: 'private', name: 'mine', hw_disk_bus: 'virtio' } as Record<string, unknown>);
  const list = await call(alice, 'GET', '/images');
  assert.equal(list.status, 200);
  assertSchema(obj({ images: { type: 'array', items: obj({ id: str, name: nullable(str), links: { type: 'array', items: link } }) } }), list.body);
  assert.deepEqual(list.body.images.map((i: { id: string }) => i.id).sort(), [image, own].sort());
  const detail = await call(alice, 'GET', '/images/detail');
  assertSchema(obj({ images: { type: 'array', items: ImageDetail } }), detail.body);
  const shown = (await call(alice, 'GET', `/images/${own}`)).body.image;
  assertSchema(ImageDetail, shown);
  assert.equal(shown.status, 'ACTIVE');
  assert.equal(shown.progress, 100);
  assert.equal(shown['OS-EXT-IMG-SIZE:size'], 1024);
  assert.deepEqual(shown.metadata, { hw_disk_bus: 'virtio' });
  assert.equal((await call(alice, 'GET', '/images/detail?minRam=64')).body.images.length, 1, 'minRam filters');
  assert.equal((await call(alice, 'GET', '/images?name=mine')).body.images.length, 1);
  assert.equal((await call(bob, 'GET', `/images/${own}`)).status, 404, 'another project’s private image is not found');
  assert.deepEqual(
    (await call(bob, 'GET', '/images')).body.images.map((i: { id: string }) => i.id),
    [image],
  );
  for (const path of ['/images', '/images/detail', `/images/${own}`, `/images/${own}/metadata`]) {
    assert.equal((await call(alice, 'GET', path, undefined, '2.36')).status, 404, `${path} at 2.36`);
    assert.equal((await call(alice, 'GET', path, undefined, '2.35')).status, 200, `${path} at 2.35`);
  }
});

test('/images metadata: get, set, update, replace and delete keys; only the owner changes them; delete', async () => {
  const id = await rawImage(c, alice.token, 512, { visibility: 'private' });
  const base = `/images/${id}/metadata`;
  assert.deepEqual((await call(alice, 'GET', base)).body, { metadata: {} });
  const posted = await call(alice, 'POST', base, { metadata: { a: '1', b: '2' } });
  assert.equal(posted.status, 200, JSON.stringify(posted.body));
  assert.deepEqual(posted.body, { metadata: { a: '1', b: '2' } });
  assert.deepEqual((await call(alice, 'PUT', `${base}/a`, { meta: { a: 'one' } })).body, { meta: { a: 'one' } });
  assert.equal((await call(alice, 'PUT', `${base}/a`, { meta: { b: 'x' } })).status, 400, 'body and URI mismatch');
  assert.deepEqual((await call(alice, 'GET', `${base}/a`)).body, { meta: { a: 'one' } });
  assert.deepEqual((await call(alice, 'PUT', base, { metadata: { c: '3' } })).body, { metadata: { c: '3' } });
  assert.equal((await call(alice, 'DELETE', `${base}/c`)).status, 204);
  assert.equal((await call(alice, 'GET', `${base}/c`)).status, 404);
  // The image service sees the same properties.
  const glance = await imagesOf(c, alice.token).show(id);
  assert.equal(glance.body.c, undefined);
  assert.equal((await call(alice, 'POST', `/images/${image}/metadata`, { metadata: { x: 'y' } })).status, 403, 'a public image of another project');
  assert.equal((await call(alice, 'DELETE', `/images/${image}`)).status, 403);
  assert.equal((await call(alice, 'DELETE', `/images/${id}`)).status, 204);
  assert.equal((await imagesOf(c, alice.token).show(id)).status, 404);
});

test('os-security-groups and os-security-group-rules over the network service; a server’s groups at every version', async () => {
  const listed = await call(alice, 'GET', '/os-security-groups');
  assert.equal(listed.status, 200);
  assertSchema(obj({ security_groups: { type: 'array', items: Group } }), listed.body);
  const made = await call(alice, 'POST', '/os-security-groups', { security_group: { name: 'web', description: 'web servers' } });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assertSchema(obj({ security_group: Group }), made.body);
  const gid = made.body.security_group.id;
  assert.deepEqual(made.body.security_group.rules, [], 'Neutron’s egress rules are not Nova’s');
  const rule = await call(alice, 'POST', '/os-security-group-rules', {
    security_group_rule: { parent_group_id: gid, ip_protocol: 'tcp', from_port: 80, to_port: 80, cidr: '10.0.0.0/8' },
  });
  assert.equal(rule.status, 200, JSON.stringify(rule.body));
  assertSchema(obj({ security_group_rule: Rule }), rule.body);
  assert.deepEqual(rule.body.security_group_rule.ip_range, { cidr: '10.0.0.0/8' });
  const icmp = await call(alice, 'POST', '/os-security-group-rules', {
    security_group_rule: { parent_group_id: gid, ip_protocol: 'icmp', from_port: -1, to_port: -1, group_id: gid },
  });
  assert.equal(icmp.status, 200, JSON.stringify(icmp.body));
  assert.deepEqual(icmp.body.security_group_rule.group, { name: 'web', tenant_id: alice.project });
  assert.equal(icmp.body.security_group_rule.from_port, -1);
  const neutron = (await net(alice, 'GET', `/security-groups/${gid}`)).body.security_group;
  const tcp = neutron.security_group_rules.find((r: { protocol: string }) => r.protocol === 'tcp');
  assert.equal(tcp.port_range_min, 80);
  assert.equal(tcp.direction, 'ingress');
  assert.equal(
    (await call(alice, 'POST', '/os-security-group-rules', { security_group_rule: { parent_group_id: gid, ip_protocol: 'tcp', from_port: 0, to_port: 99999 } }))
      .status,
    400,
  );
  const shown = await call(alice, 'GET', `/os-security-groups/${gid}`);
  assert.equal(shown.body.security_group.rules.length, 2);
  const renamed = await call(alice, 'PUT', `/os-security-groups/${gid}`, { security_group: { name: 'www', description: 'd' } });
  assert.equal(renamed.body.security_group.name, 'www');
  assert.equal((await call(bob, 'GET', `/os-security-groups/${gid}`)).status, 404);
  assert.equal((await call(alice, 'DELETE', `/os-security-group-rules/${rule.body.security_group_rule.id}`)).status, 202);
  assert.equal((await call(alice, 'GET', '/os-security-groups', undefined, '2.36')).status, 404);
  assert.equal((await call(alice, 'POST', '/os-security-groups', { security_group: { name: 'x', description: '' } }, '2.36')).status, 404);

  // A server's groups (not a proxy).
  const n = (await net(alice, 'POST', '/networks', { network: { name: 'sg-net' } })).body.network;
  await net(alice, 'POST', '/subnets', { subnet: { network_id: n.id, cidr: '10.4.0.0/24', ip_version: 4 } });
  const s = await call(alice, 'POST', '/servers', {
    server: { name: 'sg', imageRef: image, flavorRef: tiny, networks: [{ uuid: n.id }], security_groups: [{ name: 'www' }] },
  });
  assert.equal(s.status, 202, JSON.stringify(s.body));
  const groups = await call(alice, 'GET', `/servers/${s.body.server.id}/os-security-groups`, undefined, '2.93');
  assert.equal(groups.status, 200);
  assertSchema(obj({ security_groups: { type: 'array', items: Group } }), groups.body);
  assert.deepEqual(
    groups.body.security_groups.map((g: { name: string }) => g.name),
    ['www'],
  );
  assert.equal((await call(alice, 'DELETE', `/servers/${s.body.server.id}`)).status, 204);
});

test('os-floating-ips and os-floating-ip-pools: allocate from the pool, list, show, release; 404 from 2.36', async () => {
  const ext = await net({ token: adminToken }, 'POST', '/networks', {
    network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
  });
  assert.equal(ext.status, 201, JSON.stringify(ext.body));
  await net({ token: adminToken }, 'POST', '/subnets', { subnet: { network_id: ext.body.network.id, cidr: '172.30.0.0/24', ip_version: 4 } });
  const pools = await call(alice, 'GET', '/os-floating-ip-pools');
  assert.deepEqual(pools.body, { floating_ip_pools: [{ name: 'public' }] });
  const allocated = await call(alice, 'POST', '/os-floating-ips', { pool: 'public' });
  assert.equal(allocated.status, 200, JSON.stringify(allocated.body));
  assertSchema(obj({ floating_ip: FloatingIp }), allocated.body);
  const f = allocated.body.floating_ip;
  assert.equal(f.pool, 'public');
  assert.equal(f.instance_id, null);
  assert.equal((await call(alice, 'POST', '/os-floating-ips', null)).status, 200, 'the only pool when none is named');
  assert.equal((await call(alice, 'POST', '/os-floating-ips', { pool: 'nowhere' })).status, 404);
  const list = await call(alice, 'GET', '/os-floating-ips');
  assertSchema(obj({ floating_ips: { type: 'array', items: FloatingIp } }), list.body);
  assert.equal(list.body.floating_ips.length, 2);
  assert.equal((await call(bob, 'GET', '/os-floating-ips')).body.floating_ips.length, 0);
  assert.deepEqual((await call(alice, 'GET', `/os-floating-ips/${f.id}`)).body.floating_ip, f);
  assert.equal((await call(bob, 'GET', `/os-floating-ips/${f.id}`)).status, 404);
  assert.equal((await net(alice, 'GET', `/floatingips/${f.id}`)).body.floatingip.floating_ip_address, f.ip);
  assert.equal((await call(alice, 'DELETE', `/os-floating-ips/${f.id}`)).status, 202);
  assert.equal((await call(alice, 'GET', `/os-floating-ips/${f.id}`)).status, 404);
  for (const path of ['/os-floating-ips', '/os-floating-ip-pools']) assert.equal((await call(alice, 'GET', path, undefined, '2.36')).status, 404);
});

test('os-networks and os-tenant-networks: the networks the project may use, read only; 404 from 2.36', async () => {
  const n = (await net(alice, 'POST', '/networks', { network: { name: 'tenant-net' } })).body.network;
  const nets = await call(alice, 'GET', '/os-networks');
  assert.equal(nets.status, 200);
  const mineListed = nets.body.networks.find((x: { id: string }) => x.id === n.id);
  assert.equal(mineListed.label, 'tenant-net');
  assert.equal(mineListed.cidr, null);
  assert.equal(mineListed.project_id, undefined, 'admin fields only for the admin');
  assert.ok(!nets.body.networks.some((x: { label: string }) => x.label === 'public'), 'an external network is not the project’s to use');
  assert.equal((await call(alice, 'GET', `/os-networks/${n.id}`)).body.network.id, n.id);
  assert.equal((await call(bob, 'GET', `/os-networks/${n.id}`)).status, 404);
  const tenant = await call(alice, 'GET', '/os-tenant-networks');
  assertSchema(obj({ networks: { type: 'array', items: obj({ id: str, label: str, cidr: str }) } }), tenant.body);
  assert.ok(tenant.body.networks.some((x: { id: string }) => x.id === n.id));
  assert.equal((await call(alice, 'GET', `/os-tenant-networks/${n.id}`)).body.network.label, 'tenant-net');
  for (const path of ['/os-networks', '/os-tenant-networks']) assert.equal((await call(alice, 'GET', path, undefined, '2.36')).status, 404);
});
