import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { rawImage } from './helpers.ts';

// The changes between compute microversions one by one, and where Nova is lenient, on the fake driver.
let c: TestCloud;
let adminToken: string;
let alice: string;
let image: string;
let tiny: string;

const call = (token: string, method: string, path: string, body?: unknown, version?: string) =>
  c.request(method, `/compute/v2.1${path}`, { token, body, headers: version ? { 'openstack-api-version': `compute ${version}` } : {} });

async function server(version: string, extra: Record<string, unknown> = {}) {
  const res = await call(alice, 'POST', '/servers', { server: { name: 'vm', imageRef: image, flavorRef: tiny, networks: 'none', ...extra } }, version);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const id = res.body.server.id as string;
  for (;;) {
    const s = (await call(alice, 'GET', `/servers/${id}`, undefined, version)).body.server;
    if (s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  adminToken = await c.adminToken();
  alice = (await makeProject(c, adminToken, 'alice')).token;
  image = await rawImage(c, adminToken);
  tiny = (await call(adminToken, 'POST', '/flavors', { flavor: { name: 'tiny', ram: 128, disk: 1, vcpus: 1, id: 7 } })).body.flavor.id;
});
after(() => c?.stop());

test('versions: latest is 2.93; above it 406, malformed 400, in Nova’s words', async () => {
  const latest = await call(alice, 'GET', '/flavors', undefined, 'latest');
  assert.equal(latest.headers.get('openstack-api-version'), 'compute 2.93');
  const legacy = await c.request('GET', '/compute/v2.1/flavors', { token: alice, headers: { 'x-openstack-nova-api-version': '2.47' } });
  assert.equal(legacy.headers.get('x-openstack-nova-api-version'), '2.47');
  const none = await call(alice, 'GET', '/flavors');
  assert.equal(none.headers.get('openstack-api-version'), 'compute 2.1');
  const above = await call(alice, 'GET', '/flavors', undefined, '2.94');
  assert.equal(above.status, 406);
  assert.deepEqual(above.body, { computeFault: { code: 406, message: 'Version 2.94 is not supported by the API. Minimum is 2.1 and maximum is 2.93.' } });
  for (const bad of ['2.01', 'two', '2']) {
    const res = await call(alice, 'GET', '/flavors', undefined, bad);
    assert.equal(res.status, 400, bad);
    assert.equal(res.body.badRequest.message, `API Version String ${bad} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  const doc = await c.request('GET', '/compute/');
  assert.equal(doc.body.versions[0].version, '2.93');
  assert.equal(doc.body.versions[0].min_version, '2.1');
});

test('servers: networks required from 2.37; description, tags and hostname from their versions; status filter; lock with reason', async () => {
  const missing = await call(alice, 'POST', '/servers', { server: { name: 'x', imageRef: image, flavorRef: tiny } }, '2.37');
  assert.equal(missing.status, 400);
  assert.match(missing.body.badRequest.message, /'networks' is a required property/);
  const early = await call(alice, 'POST', '/servers', { server: { name: 'x', imageRef: image, flavorRef: tiny, networks: 'auto' } }, '2.36');
  assert.equal(early.status, 400);
  for (const [field, value, since] of [
    ['description', 'd', '2.19'],
    ['tags', ['t'], '2.52'],
    ['hostname', 'host-a', '2.90'],
  ] as const) {
    const [major, minor] = since.split('.').map(Number);
    const res = await call(
      alice,
      'POST',
      '/servers',
      { server: { name: 'x', imageRef: image, flavorRef: tiny, networks: 'none', [field]: value } },
      `${major}.${minor! - 1}`,
    );
    assert.equal(res.status, 400, `${field} before ${since}`);
    assert.match(res.body.badRequest.message, new RegExp(`'${field}' was unexpected`));
  }
  assert.equal(
    (await call(alice, 'POST', '/servers', { server: { name: 'x', imageRef: image, flavorRef: tiny, networks: 'none', hostname: 'a', max_count: 2 } }, '2.90'))
      .status,
    400,
  );
  const personality = await call(
    alice,
    'POST',
    '/servers',
    { server: { name: 'x', imageRef: image, flavorRef: tiny, networks: 'none', personality: [] } },
    '2.57',
  );
  assert.match(personality.body.badRequest.message, /'personality' was unexpected/, 'file injection went at 2.57');

  const s = await server('2.93', { description: 'web', tags: ['blue', 'prod'], hostname: 'web-1', trusted_image_certificates: ['cert-1'] });
  assert.equal(s.description, 'web');
  assert.deepEqual(s.tags, ['blue', 'prod']);
  assert.equal(s['OS-EXT-SRV-ATTR:hostname'], 'web-1', 'shown to members from 2.90');
  assert.deepEqual(s.trusted_image_certificates, ['cert-1']);
  assert.deepEqual(s.server_groups, []);
  assert.equal(s.flavor.original_name, 'tiny');
  assert.equal(s.locked, false);
  assert.equal(s.locked_reason, null);
  const at289 = (await call(alice, 'GET', `/servers/${s.id}`, undefined, '2.89')).body.server;
  assert.equal(at289['OS-EXT-SRV-ATTR:hostname'], undefined, 'an admin-only field before 2.90');

  const updated = await call(alice, 'PUT', `/servers/${s.id}`, { server: { description: null, hostname: 'web-2' } }, '2.93');
  assert.equal(updated.body.server.description, null);
  assert.equal(updated.body.server['OS-EXT-SRV-ATTR:hostname'], 'web-2');
  assert.equal(updated.body.server['OS-EXT-STS:vm_state'], 'active', 'the full server from 2.75');
  const narrow = await call(alice, 'PUT', `/servers/${s.id}`, { server: { name: 'vm' } }, '2.74');
  assert.equal(narrow.body.server['OS-EXT-STS:vm_state'], undefined, 'before 2.75 PUT answers with fewer fields');

  // Tags: the routes and the list filters.
  const tag = (method: string, path = '', body?: unknown) => call(alice, method, `/servers/${s.id}/tags${path}`, body, '2.26');
  assert.equal((await tag('PUT', '/green')).status, 201);
  assert.equal((await tag('PUT', '/green')).status, 204);
  assert.equal((await tag('GET', '/green')).status, 204);
  assert.equal((await tag('GET', '/nope')).status, 404);
  assert.equal((await tag('DELETE', '/green')).status, 204);
  assert.equal((await tag('PUT', '', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).status, 400);
  const names = async (query: string, version = '2.26') => (await call(alice, 'GET', `/servers?${query}`, undefined, version)).body.servers.length;
  assert.equal(await names('tags=blue,prod'), 1);
  assert.equal(await names('tags=blue,other'), 0);
  assert.equal(await names('tags-any=other,prod'), 1);
  assert.equal(await names('not-tags=blue'), 0);
  assert.equal(await names('not-tags-any=other'), 1);

  // An unknown status: nothing before 2.38, a 400 from then on.
  assert.equal(await names('status=BOGUS', '2.37'), 0);
  assert.equal((await call(alice, 'GET', '/servers?status=BOGUS', undefined, '2.38')).status, 400);
  // Unknown query parameters: ignored before 2.75, refused from then on.
  assert.equal((await call(alice, 'GET', '/servers?bogus=1', undefined, '2.74')).status, 200);
  assert.equal((await call(alice, 'GET', '/servers?bogus=1', undefined, '2.75')).status, 400);

  // Lock with a reason (2.73): the member's actions are refused, the admin's are not.
  assert.equal((await call(alice, 'POST', `/servers/${s.id}/action`, { lock: { locked_reason: 'maintenance' } }, '2.73')).status, 202);
  const locked = (await call(alice, 'GET', `/servers/${s.id}`, undefined, '2.73')).body.server;
  assert.deepEqual([locked.locked, locked.locked_reason], [true, 'maintenance']);
  assert.equal(await names('locked=true', '2.73'), 1);
  const refused = await call(alice, 'POST', `/servers/${s.id}/action`, { 'os-stop': null });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.conflictingRequest.message, `Instance ${s.id} is locked`);
  assert.equal((await call(alice, 'DELETE', `/servers/${s.id}`)).status, 409);
  assert.equal((await call(alice, 'POST', `/servers/${s.id}/action`, { unlock: null })).status, 202);
  assert.equal((await call(alice, 'GET', `/servers/${s.id}`, undefined, '2.73')).body.server.locked_reason, null);
  assert.equal((await call(alice, 'DELETE', `/servers/${s.id}`)).status, 204);
});

test('lenient where Nova is: repeated sort keys, power actions with {}, unknown actions named', async () => {
  const a = await server('2.93', { description: 'b' });
  const b = await server('2.93', { description: 'a' });
  // Horizon's instance list repeats sort_key and sort_dir.
  const sorted = await call(alice, 'GET', '/servers/detail?sort_key=display_description&sort_dir=asc&sort_key=uuid&sort_dir=asc&limit=1');
  assert.equal(sorted.status, 200, JSON.stringify(sorted.body));
  assert.deepEqual(
    sorted.body.servers.map((x: any) => x.id),
    [b.id],
  );
  const next = await call(alice, 'GET', `/servers/detail?sort_key=display_description&sort_dir=asc&sort_key=uuid&sort_dir=asc&marker=${b.id}`);
  assert.deepEqual(
    next.body.servers.map((x: any) => x.id),
    [a.id],
  );
  assert.equal((await call(alice, 'GET', '/servers?sort_dir=asc&sort_dir=desc&sort_key=uuid')).status, 400, 'more directions than keys');
  assert.equal((await call(alice, 'GET', '/servers?name=x&name=vm')).body.servers.length, 2, 'the last of a repeated filter counts');

  assert.equal((await call(alice, 'POST', `/servers/${a.id}/action`, { 'os-stop': {} })).status, 202);
  const unknown = await call(alice, 'POST', `/servers/${a.id}/action`, { 'os-hibernate': {} });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.badRequest.message, /^There is no such action: os-hibernate\. The actions served are: os-stop, os-start, .*reboot/);
  assert.equal((await call(alice, 'POST', `/servers/${a.id}/action`, { 'os-stop': {}, 'os-start': {} })).status, 400);
  for (const id of [a.id, b.id]) assert.equal((await call(alice, 'DELETE', `/servers/${id}`)).status, 204);
});

test('flavors: ids as numbers, strings or null, is_public as text; description (2.55), extra_specs (2.61), swap 0 (2.75)', async () => {
  const create = (flavor: Record<string, unknown>, version?: string) =>
    call(adminToken, 'POST', '/flavors', { flavor: { ram: 64, disk: 0, vcpus: 1, ...flavor } }, version);
  assert.equal(tiny, '7', 'an integer id becomes its text');
  const auto = await create({ name: 'auto', id: null, 'os-flavor-access:is_public': 'false' });
  assert.equal(auto.status, 200, JSON.stringify(auto.body));
  assert.match(auto.body.flavor.id, /^[0-9a-f-]{36}$/);
  assert.equal(auto.body.flavor['os-flavor-access:is_public'], false);
  assert.equal((await create({ name: 'bad', 'os-flavor-access:is_public': 'maybe' })).status, 400);
  assert.equal((await create({ name: 'digits', ram: '64', vcpus: '1', disk: '0' })).status, 200, 'counts as digit strings');
  assert.equal((await create({ name: 'early', description: 'x' }, '2.54')).status, 400);
  const described = await create({ name: 'described', description: 'for tests' }, '2.55');
  assert.equal(described.body.flavor.description, 'for tests');
  assert.equal(described.body.flavor.swap, '', 'an empty string before 2.75');
  const shown = (await call(alice, 'GET', `/flavors/${tiny}`, undefined, '2.75')).body.flavor;
  assert.equal(shown.swap, 0);
  assert.deepEqual(shown.extra_specs, {});
  const summary = (await call(alice, 'GET', '/flavors', undefined, '2.55')).body.flavors.find((f: any) => f.name === 'described');
  assert.equal(summary.description, 'for tests');
  assert.equal((await call(alice, 'PUT', `/flavors/${tiny}`, { flavor: { description: 'x' } }, '2.55')).status, 403, 'the admin’s');
});

test('key pairs: type from 2.2, x509 import, another user’s for the admin from 2.10, import only from 2.92', async () => {
  const generated = await call(alice, 'POST', '/os-keypairs', { keypair: { name: 'gen' } }, '2.91');
  assert.equal(generated.status, 201);
  assert.equal(generated.body.keypair.type, 'ssh');
  assert.match(generated.body.keypair.private_key, /PRIVATE KEY/);
  const refused = await call(alice, 'POST', '/os-keypairs', { keypair: { name: 'gen2' } }, '2.92');
  assert.equal(refused.status, 400);
  assert.match(refused.body.badRequest.message, /'public_key' is a required property/);
  assert.equal((await call(alice, 'POST', '/os-keypairs', { keypair: { name: 't', type: 'ssh' } }, '2.1')).status, 400, 'type came with 2.2');
  const me = (await call(alice, 'GET', '/os-keypairs/gen', undefined, '2.10')).body.keypair.user_id;
  const theirs = await call(adminToken, 'GET', `/os-keypairs?user_id=${me}`, undefined, '2.10');
  assert.deepEqual(
    theirs.body.keypairs.map((k: any) => k.keypair.name),
    ['gen'],
  );
  assert.equal((await call(alice, 'GET', `/os-keypairs?user_id=someone-else`, undefined, '2.10')).status, 403);
  assert.equal((await call(alice, 'DELETE', '/os-keypairs/gen', undefined, '2.2')).status, 204);

  const cert = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=nubo-test', '-days', '1'], {
    encoding: 'utf8',
  });
  const x509 = await call(alice, 'POST', '/os-keypairs', { keypair: { name: 'cert', type: 'x509', public_key: cert } }, '2.2');
  assert.equal(x509.status, 201, JSON.stringify(x509.body));
  assert.equal(x509.body.keypair.type, 'x509');
  assert.equal(x509.body.keypair.fingerprint, new X509Certificate(cert).fingerprint.toLowerCase());
});
