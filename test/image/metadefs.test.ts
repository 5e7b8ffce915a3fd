import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema } from '../helpers/schema.ts';
import { makeProject } from './helpers.ts';

// Metadata definitions: the catalogue loaded at the first start, read and edited through the real
// glance CLI (python3-glanceclient validates every answer against the schemas it fetches), and
// every HTTP answer checked against the schema the API publishes.
let c: TestCloud;
let admin: string;
let member: { id: string; token: string };
before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  member = await makeProject(c, admin, 'metadef-reader');
});
after(async () => c?.stop());

async function glance(token: string, ...args: string[]) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const argv = ['--os-image-url', `${c.url}/image`, '--os-auth-token', token, ...args];
  try {
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', 'exec glance "$@" <&-', 'glance', ...argv], { env: clean, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const ok = async (token: string, ...args: string[]) => {
  const r = await glance(token, ...args);
  assert.equal(r.code, 0, `glance ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** A call whose answer must match the schema published under /v2/schemas/metadefs/<schema>. */
async function checked(token: string, method: string, path: string, status: number, schema?: string, body?: unknown) {
  const res = await c.request(method, `/image${path}`, { token, body });
  assert.equal(res.status, status, JSON.stringify(res.body));
  if (schema) {
    const doc = await c.request('GET', `/image/v2/schemas/metadefs/${schema}`, { token });
    assert.equal(doc.status, 200);
    assertSchema(doc.body, res.body, `${method} ${path}`);
  }
  return res.body;
}

test('the catalogue is loaded: hardware and OS properties for images, volumes and flavors', async () => {
  const list = await checked(member.token, 'GET', '/v2/metadefs/namespaces?resource_types=OS::Glance::Image', 200, 'namespaces');
  const names = list.namespaces.map((n: any) => n.namespace);
  for (const n of ['OS::Compute::GuestHardware', 'OS::OperatingSystem', 'OS::Compute::Quiesce']) assert.ok(names.includes(n), n);
  const hw = await checked(member.token, 'GET', '/v2/metadefs/namespaces/OS::Compute::GuestHardware', 200, 'namespace');
  for (const p of ['hw_disk_bus', 'hw_vif_model', 'hw_cdrom_bus', 'hw_machine_type', 'hw_rng_model', 'hw_qemu_guest_agent']) assert.ok(hw.properties[p], p);
  assert.equal(hw.visibility, 'public');
  assert.equal(hw.protected, true);

  // As a dashboard asks for a flavor: the properties under the flavor's prefix.
  const flavor = await checked(member.token, 'GET', '/v2/metadefs/namespaces/OS::Compute::CPUTopology?resource_type=OS::Nova::Flavor', 200, 'namespace');
  assert.ok(flavor.properties['hw:cpu_sockets']);
  const types = await checked(member.token, 'GET', '/v2/metadefs/resource_types', 200);
  for (const t of ['OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor'])
    assert.ok(
      types.resource_types.some((r: any) => r.name === t),
      t,
    );
  await checked(member.token, 'GET', '/v2/metadefs/namespaces/OS::OperatingSystem/properties', 200, 'properties');
  await checked(member.token, 'GET', '/v2/metadefs/namespaces/OS::OperatingSystem/properties/os_distro', 200, 'property');
  await checked(member.token, 'GET', '/v2/metadefs/namespaces/OS::OperatingSystem/resource_types', 200, 'resource_types');

  // glanceclient reads them as Horizon does, validating each against the published schema.
  const out = await ok(member.token, 'md-namespace-list', '--resource-types', 'OS::Glance::Image');
  assert.match(out, /OS::Compute::GuestHardware/);
  assert.match(await ok(member.token, 'md-namespace-show', 'OS::Compute::Watchdog', '--resource-type', 'OS::Glance::Image'), /hw_watchdog_action/);
  assert.match(await ok(member.token, 'md-property-list', 'OS::OperatingSystem'), /os_distro/);
});

test('the admin edits definitions; members read public and their own namespaces only; protected ones stay', async () => {
  await ok(admin, 'md-namespace-create', 'Nubo::Test', '--visibility', 'private', '--description', 'for tests');
  await ok(admin, 'md-resource-type-associate', 'Nubo::Test', '--name', 'OS::Glance::Image', '--prefix', 'test_');
  await ok(admin, 'md-property-create', 'Nubo::Test', '--name', 'speed', '--title', 'Speed', '--schema', '{"type": "integer", "minimum": 1}');
  await ok(admin, 'md-tag-create-multiple', 'Nubo::Test', '--names', 'fast,cheap');
  await ok(
    admin,
    'md-object-create',
    'Nubo::Test',
    '--name',
    'Limits',
    '--schema',
    '{"description": "limits", "properties": {"max": {"type": "integer", "title": "Max"}}, "required": ["max"]}',
  );
  const ns = await checked(admin, 'GET', '/v2/metadefs/namespaces/Nubo::Test?resource_type=OS::Glance::Image', 200, 'namespace');
  assert.deepEqual(Object.keys(ns.properties), ['test_speed']);
  assert.deepEqual(ns.tags, [{ name: 'cheap' }, { name: 'fast' }]);
  assert.equal(ns.objects[0].name, 'Limits');
  await checked(admin, 'GET', '/v2/metadefs/namespaces/Nubo::Test/objects', 200, 'objects');
  await checked(admin, 'GET', '/v2/metadefs/namespaces/Nubo::Test/objects/Limits', 200, 'object');
  await checked(admin, 'GET', '/v2/metadefs/namespaces/Nubo::Test/tags', 200, 'tags');
  await checked(admin, 'POST', '/v2/metadefs/namespaces/Nubo::Test/tags/quiet', 201, 'tag');

  // The bulk form replaces the tags, or adds to them when asked to append.
  const replaced = await c.request('POST', '/image/v2/metadefs/namespaces/Nubo::Test/tags', { token: admin, body: { tags: [{ name: 'a' }] } });
  assert.equal(replaced.status, 201);
  assert.deepEqual(replaced.body, { tags: [{ name: 'a' }] });
  const appended = await c.request('POST', '/image/v2/metadefs/namespaces/Nubo::Test/tags', {
    token: admin,
    body: { tags: [{ name: 'b' }] },
    headers: { 'x-openstack-append': 'true' },
  });
  assert.deepEqual(appended.body, { tags: [{ name: 'a' }, { name: 'b' }] });

  // Another project's private namespace is not there for a member, and writes are the admin's.
  await checked(member.token, 'GET', '/v2/metadefs/namespaces/Nubo::Test', 404);
  const listed = await c.request('GET', '/image/v2/metadefs/namespaces?limit=100', { token: member.token });
  assert.ok(!listed.body.namespaces.some((n: any) => n.namespace === 'Nubo::Test'));
  await checked(member.token, 'POST', '/v2/metadefs/namespaces', 403, undefined, { namespace: 'Mine' });
  const refused = await glance(member.token, 'md-namespace-show', 'Nubo::Test');
  assert.notEqual(refused.code, 0);
  assert.doesNotMatch(refused.stderr, /object has no attribute/);

  await checked(admin, 'POST', '/v2/metadefs/namespaces', 409, undefined, { namespace: 'Nubo::Test' });
  await checked(admin, 'DELETE', '/v2/metadefs/namespaces/OS::Compute::Quiesce', 403);
  await ok(admin, 'md-namespace-delete', 'Nubo::Test');
  await checked(admin, 'GET', '/v2/metadefs/namespaces/Nubo::Test', 404);
});

test('paging follows next links; glanceclient pages through them', async () => {
  const first = await checked(member.token, 'GET', '/v2/metadefs/namespaces?limit=2&sort_key=namespace&sort_dir=asc', 200, 'namespaces');
  assert.equal(first.namespaces.length, 2);
  const second = await checked(member.token, 'GET', first.next.replace(/^\/v2/, '/v2'), 200, 'namespaces');
  assert.ok(second.namespaces[0].namespace > first.namespaces[1].namespace);
  const all = await ok(member.token, 'md-namespace-list', '--page-size', '2');
  assert.equal((all.match(/OS::/g) ?? []).length, 5);
});
