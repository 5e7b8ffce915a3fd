import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';

// The block storage API's answers to bad input and its microversions, paging and quotas, in
// process (the openstack CLI's view is in openstack-cli.test.ts).
let c: TestCloud;
let token: string;
let project: string;
let otherToken: string;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>, as = token) =>
  c.request(method, `/volume/v3/${project}${path}`, { token: as, body, headers });

async function available(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const v = (await call('GET', `/volumes/${id}`)).body.volume;
    if (v.status !== 'creating' && v.status !== 'extending') return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`volume ${id} did not settle`);
}

before(async () => {
  c = await startTestCloud();
  token = await c.adminToken();
  project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
  const p = await c.request('POST', '/identity/v3/projects', { token, body: { project: { name: 'other' } } });
  const u = await c.request('POST', '/identity/v3/users', { token, body: { user: { name: 'other', password: 'pw', default_project_id: p.body.project.id } } });
  const role = (await c.request('GET', '/identity/v3/roles?name=member', { token })).body.roles[0].id;
  await c.request('PUT', `/identity/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${role}`, { token });
  otherToken = await c.login('other', 'pw', 'other');
});
after(() => c?.stop());

test('bad input is a 400 in Cinder’s error body, never a 500', async () => {
  const cases: [string, string, unknown][] = [
    ['POST', '/volumes', {}],
    ['POST', '/volumes', { volume: { size: 0 } }],
    ['POST', '/volumes', { volume: { size: 'abc' } }],
    ['POST', '/volumes', { volume: { size: 1.5 } }],
    ['POST', '/volumes', { volume: { size: 1, name: 'x'.repeat(256) } }],
    ['POST', '/volumes', { volume: { size: 1, metadata: { k: 1 } } }],
    ['POST', '/volumes', { volume: { size: 1, availability_zone: 'elsewhere' } }],
    ['POST', '/volumes', { volume: { size: 1, imageRef: 'no-such-image' } }],
    ['POST', '/volumes', { volume: { size: 1, snapshot_id: 'a', source_volid: 'b' } }],
    ['POST', '/snapshots', { snapshot: {} }],
    ['POST', '/types', { volume_type: { name: '' } }],
  ];
  for (const [method, path, body] of cases) {
    const res = await call(method, path, body);
    assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.badRequest.code, 400);
    assert.equal(typeof res.body.badRequest.message, 'string');
  }
  assert.equal((await call('POST', '/volumes', { volume: { size: 1, volume_type: 'nope' } })).status, 404);
  assert.equal((await call('GET', '/volumes/detail?sort=nope:asc')).status, 400);
  assert.equal((await call('GET', '/volumes/detail?marker=nope')).status, 400);
  assert.equal((await call('GET', '/volumes/no-such')).body.itemNotFound.code, 404);
  assert.equal((await call('POST', '/volumes/no-such/action', { 'os-extend': { new_size: 2 } })).status, 404);
  assert.equal((await call('POST', '/volumes/no-such/action', { 'os-frobnicate': {} })).status, 400);
});

test('versions: 3.0 by default, the header honoured and echoed, out of range refused', async () => {
  const root = await c.request('GET', '/volume/v3/');
  assert.equal(root.body.version.version, '3.44');
  const plain = await call('GET', '/volumes');
  assert.equal(plain.headers.get('openstack-api-version'), 'volume 3.0');
  const asked = await call('GET', '/volumes', undefined, { 'OpenStack-API-Version': 'volume 3.27' });
  assert.equal(asked.headers.get('openstack-api-version'), 'volume 3.27');
  assert.equal((await call('GET', '/volumes', undefined, { 'OpenStack-API-Version': 'volume 3.99' })).status, 406);
});

test('extend grows an available volume through extending; smaller or equal sizes are refused', async () => {
  const v = (await call('POST', '/volumes', { volume: { size: 1, name: 'grow' } })).body.volume;
  await available(v.id);
  assert.equal((await call('POST', `/volumes/${v.id}/action`, { 'os-extend': { new_size: 1 } })).status, 400);
  assert.equal((await call('POST', `/volumes/${v.id}/action`, { 'os-extend': { new_size: 3 } })).status, 202);
  const grown = await available(v.id);
  assert.equal(grown.status, 'available');
  assert.equal(grown.size, 3);
  assert.equal((await c.cloud.volumes.driver.size(v.id)), 3 * 2 ** 30);
});

test('paging by limit and marker with a next link, and the metadata filter', async () => {
  for (const name of ['pa', 'pb', 'pc']) await call('POST', '/volumes', { volume: { size: 1, name, metadata: { group: name === 'pb' ? 'b' : 'ac' } } });
  const first = await call('GET', '/volumes/detail?limit=2&sort=name:asc');
  assert.equal(first.body.volumes.length, 2);
  const next = new URL(first.body.volumes_links[0].href);
  const second = await c.request('GET', `${next.pathname}${next.search}`, { token });
  assert.ok(second.body.volumes.every((v: { name: string }) => !first.body.volumes.some((f: { name: string }) => f.name === v.name)));
  const filtered = await call('GET', `/volumes/detail?metadata=${encodeURIComponent("{'group': 'b'}")}`);
  assert.deepEqual(filtered.body.volumes.map((v: { name: string }) => v.name), ['pb']);
});

test('the volumes quota is a 413 VolumeLimitExceeded; another project reaches nothing of this one', async () => {
  const other = (await c.request('GET', '/identity/v3/projects?name=other', { token })).body.projects[0].id;
  assert.equal((await c.request('PUT', `/volume/v3/${project}/os-quota-sets/${other}`, { token, body: { quota_set: { volumes: 1 } } })).status, 200);
  const asOther = (method: string, path: string, body?: unknown) => c.request(method, `/volume/v3/${other}${path}`, { token: otherToken, body });
  assert.equal((await asOther('POST', '/volumes', { volume: { size: 1 } })).status, 202);
  const over = await asOther('POST', '/volumes', { volume: { size: 1 } });
  assert.equal(over.status, 413);
  assert.equal(over.body.overLimit.message, "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
  // Setting quotas is the admin's; a member reads its own project's only.
  assert.equal((await asOther('PUT', `/os-quota-sets/${other}`, { quota_set: { volumes: 5 } })).status, 403);
  assert.equal((await asOther('GET', `/os-quota-sets/${project}`)).status, 403);
  const usage = (await asOther('GET', `/os-quota-sets/${other}?usage=True`)).body.quota_set;
  assert.deepEqual(usage.volumes, { limit: 1, in_use: 1, reserved: 0, allocated: 0 });

  const mine = (await call('GET', '/volumes')).body.volumes[0].id;
  assert.equal((await asOther('GET', `/volumes/${mine}`)).status, 404);
  assert.equal((await asOther('DELETE', `/volumes/${mine}`)).status, 404);
  assert.equal((await asOther('POST', '/snapshots', { snapshot: { volume_id: mine } })).status, 400);
  assert.equal((await asOther('POST', '/volumes', { volume: { size: 1, source_volid: mine } })).status, 404);
  // Nor through the admin project's path.
  assert.equal((await c.request('GET', `/volume/v3/${project}/volumes`, { token: otherToken })).status, 403);
  assert.equal((await asOther('GET', '/volumes/detail?all_tenants=1')).body.volumes.length, 1);
});

test('types: the default exists and cannot go; a type in use cannot be deleted; members cannot manage types', async () => {
  const def = (await call('GET', '/types/default')).body.volume_type;
  assert.equal(def.name, '__DEFAULT__');
  assert.equal((await call('DELETE', `/types/${def.id}`)).status, 400);
  const t = (await call('POST', '/types', { volume_type: { name: 'gold', extra_specs: { volume_backend_name: 'file' } } })).body.volume_type;
  assert.deepEqual(t.extra_specs, { volume_backend_name: 'file' });
  assert.equal((await call('POST', '/types', { volume_type: { name: 'gold' } })).status, 409);
  const v = (await call('POST', '/volumes', { volume: { size: 1, volume_type: 'gold' } })).body.volume;
  assert.equal(v.volume_type, 'gold');
  assert.equal((await call('DELETE', `/types/${t.id}`)).status, 400);
  const other = (await c.request('GET', '/identity/v3/projects?name=other', { token })).body.projects[0].id;
  assert.equal((await c.request('POST', `/volume/v3/${other}/types`, { token: otherToken, body: { volume_type: { name: 'mine' } } })).status, 403);
});

test('an image whose bytes qemu-img cannot read leaves the volume in error with nothing on the backend, not creating forever', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const file = join(c.dataDir, 'source.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '1M']);
  const image = (await c.request('POST', '/image/v2/images', { token, body: { name: 'soon-broken', disk_format: 'qcow2', container_format: 'bare' } })).body.id;
  const up = await fetch(`${c.url}/image/v2/images/${image}/file`, { method: 'PUT', headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' }, body: readFileSync(file) });
  assert.equal(up.status, 204);
  // The stored bytes rot after the upload's checks.
  writeFileSync(join(c.dataDir, 'images', image), Buffer.alloc(4096, 0xff));
  const v = (await call('POST', '/volumes', { volume: { size: 1, imageRef: image } })).body.volume;
  const settled = await available(v.id);
  assert.equal(settled.status, 'error');
  assert.equal(await c.cloud.volumes.driver.size(v.id), undefined);
});
