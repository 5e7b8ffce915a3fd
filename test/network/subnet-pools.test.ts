import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { makeProject } from '../image/helpers.ts';
import { SubnetPoolSchema } from '../../src/network/api/subnet-pools.ts';
import { AddressScopeSchema } from '../../src/network/api/address-scopes.ts';
import { parseCidr, overlaps } from '../../src/network/addresses.ts';
import { assertSchema } from '../helpers/schema.ts';

// Address scopes and subnet pools over HTTP: subnets allocated from a pool by prefix length, the
// default pool, bounds and quotas, and parallel allocations that never overlap.
let c: TestCloud;
let admin: string;
let member: string;
const call = (token: string, method: string, path: string, body?: unknown) => neutronOf(c, token).call(method, path, body);
const ok = (token: string, method: string, path: string, body?: unknown) => neutronOf(c, token).ok(method, path, body);

before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  member = (await makeProject(c, admin, 'pools')).token;
});
after(() => c?.stop());

test('address scopes and subnet pools are made, shown, listed, updated and deleted', async () => {
  const scope = await ok(admin, 'POST', '/address-scopes', { address_scope: { name: 'scope4', ip_version: 4, shared: true } });
  assertSchema(Type.Object({ address_scope: AddressScopeSchema }), scope);
  assertSchema(Type.Object({ address_scopes: Type.Array(AddressScopeSchema) }), await ok(member, 'GET', '/address-scopes'));
  const made = await ok(admin, 'POST', '/subnetpools', {
    subnetpool: { name: 'p4', prefixes: ['10.100.0.0/16'], default_prefixlen: '24', address_scope_id: scope.address_scope.id, shared: true },
  });
  assertSchema(Type.Object({ subnetpool: SubnetPoolSchema }), made);
  const pool = made.subnetpool;
  assert.deepEqual([pool.ip_version, pool.min_prefixlen, pool.default_prefixlen, pool.max_prefixlen], [4, 8, 24, 32]);
  assertSchema(Type.Object({ subnetpools: Type.Array(SubnetPoolSchema) }), await ok(member, 'GET', '/subnetpools'));
  assertSchema(Type.Object({ subnetpool: SubnetPoolSchema }), await ok(member, 'GET', `/subnetpools/${pool.id}`));
  // A member makes no shared or default pool.
  assert.equal((await call(member, 'POST', '/subnetpools', { subnetpool: { name: 'x', prefixes: ['10.7.0.0/16'], shared: true } })).status, 403);
  const mine = (await ok(member, 'POST', '/subnetpools', { subnetpool: { name: 'mine', prefixes: ['10.7.0.0/16', '10.7.1.0/24'] } })).subnetpool;
  assert.deepEqual(mine.prefixes, ['10.7.0.0/16']);
  const grown = (await ok(member, 'PUT', `/subnetpools/${mine.id}`, { subnetpool: { prefixes: ['10.7.0.0/16', '10.8.0.0/16'], name: 'grown' } })).subnetpool;
  assertSchema(SubnetPoolSchema, grown);
  assert.deepEqual(grown.prefixes, ['10.7.0.0/16', '10.8.0.0/16']);
  assert.equal((await call(member, 'PUT', `/subnetpools/${mine.id}`, { subnetpool: { prefixes: ['10.8.0.0/16'] } })).status, 400);
  const bounds = await call(member, 'POST', '/subnetpools', { subnetpool: { name: 'b', prefixes: ['10.9.0.0/16'], min_prefixlen: 24, default_prefixlen: 20 } });
  assert.equal(bounds.status, 400);
  assert.equal((await call(member, 'DELETE', `/subnetpools/${mine.id}`)).status, 204);
  assert.equal((await call(admin, 'DELETE', `/address-scopes/${scope.address_scope.id}`)).status, 409, 'a scope with pools stays');
});

test('subnets take the next free block of a pool; bounds, explicit cidrs and the pool in use', async () => {
  const pool = (await ok(admin, 'POST', '/subnetpools', { subnetpool: { name: 'alloc', prefixes: ['10.200.0.0/24'], shared: true, min_prefixlen: 24 } }))
    .subnetpool;
  assert.equal(pool.default_prefixlen, 24);
  await ok(admin, 'PUT', `/subnetpools/${pool.id}`, { subnetpool: { min_prefixlen: 25, max_prefixlen: 28, default_prefixlen: 26 } });
  const net = (await ok(member, 'POST', '/networks', { network: { name: 'from-pool' } })).network;
  const sub = (prefixlen?: number | string, cidr?: string) =>
    call(member, 'POST', '/subnets', {
      subnet: { network_id: net.id, ip_version: 4, subnetpool_id: pool.id, ...(prefixlen ? { prefixlen } : {}), ...(cidr ? { cidr } : {}) },
    });
  const first = await sub();
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.deepEqual([first.body.subnet.cidr, first.body.subnet.subnetpool_id], ['10.200.0.0/26', pool.id]);
  assert.equal((await sub('27')).body.subnet.cidr, '10.200.0.64/27');
  assert.equal((await sub(26)).body.subnet.cidr, '10.200.0.128/26');
  assert.equal((await sub(undefined, '10.200.0.96/28')).body.subnet.cidr, '10.200.0.96/28');
  assert.equal((await sub(undefined, '10.200.0.0/28')).status, 409, 'taken');
  assert.equal((await sub(24)).status, 400, 'shorter than min_prefixlen');
  assert.equal((await sub(26)).body.subnet.cidr, '10.200.0.192/26');
  const full = await sub(28);
  assert.equal(full.status, 201, 'the /28 left at .112');
  assert.equal(full.body.subnet.cidr, '10.200.0.112/28');
  assert.equal((await sub(28)).status, 409, 'the pool is used up');
  assert.equal((await call(admin, 'DELETE', `/subnetpools/${pool.id}`)).status, 409);
  // No cidr and no pool: 400.
  assert.equal((await call(member, 'POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4 } })).status, 400);
});

test('use_default_subnetpool takes the default pool; one default per IP version', async () => {
  const none = await call(member, 'POST', '/subnets', {
    subnet: { network_id: (await ok(member, 'POST', '/networks', { network: {} })).network.id, ip_version: 4, use_default_subnetpool: true },
  });
  assert.equal(none.status, 400);
  const pool = (
    await ok(admin, 'POST', '/subnetpools', {
      subnetpool: { name: 'default4', prefixes: ['10.250.0.0/16'], default_prefixlen: 24, is_default: true, shared: true },
    })
  ).subnetpool;
  assert.equal(pool.is_default, true);
  const second = await call(admin, 'POST', '/subnetpools', { subnetpool: { name: 'another', prefixes: ['10.251.0.0/16'], is_default: true } });
  assert.equal(second.status, 409);
  const net = (await ok(member, 'POST', '/networks', { network: {} })).network;
  const s = (await ok(member, 'POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4, use_default_subnetpool: true } })).subnet;
  assert.deepEqual([s.cidr, s.subnetpool_id], ['10.250.0.0/24', pool.id]);
  // A default pool that is not shared serves only those who may see it.
  const own6 = (await ok(admin, 'POST', '/subnetpools', { subnetpool: { name: 'admin6', prefixes: ['fd00:5::/48'], default_prefixlen: 64, is_default: true } }))
    .subnetpool;
  const v6 = { ip_version: 6, use_default_subnetpool: true };
  const refused = await call(member, 'POST', '/subnets', { subnet: { network_id: net.id, ...v6 } });
  assert.ok(refused.status >= 400 && refused.status < 500, `${refused.status} ${JSON.stringify(refused.body)}`);
  const adminNet = (await ok(admin, 'POST', '/networks', { network: {} })).network;
  assert.equal((await ok(admin, 'POST', '/subnets', { subnet: { network_id: adminNet.id, ...v6 } })).subnet.subnetpool_id, own6.id);
});

test('twenty parallel allocations from one pool never overlap', async () => {
  const pool = (await ok(admin, 'POST', '/subnetpools', { subnetpool: { name: 'race', prefixes: ['10.210.0.0/20'], default_prefixlen: 26, shared: true } }))
    .subnetpool;
  const nets = (await ok(member, 'POST', '/networks', { networks: Array.from({ length: 20 }, (_, i) => ({ name: `race-${i}` })) })).networks;
  const results = await Promise.all(
    nets.map((n: { id: string }) => call(member, 'POST', '/subnets', { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: pool.id, prefixlen: 26 } })),
  );
  for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
  const cidrs = results.map((r) => parseCidr(r.body.subnet.cidr)!);
  for (let i = 0; i < cidrs.length; i++) for (let j = i + 1; j < cidrs.length; j++) assert.ok(!overlaps(cidrs[i]!, cidrs[j]!), `${i} and ${j} overlap`);
  assert.equal(new Set(results.map((r) => r.body.subnet.cidr)).size, 20);
});
