import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// The server API and its state machine, on the fake driver: what the API promises whatever the
// hypervisor. The qemu driver's own test boots real guests.
let c: TestCloud;
let admin: ReturnType<typeof computeOf>;
let alice: ReturnType<typeof computeOf> & { project: string; token: string };
let bob: ReturnType<typeof computeOf>;
let image: string;
let tiny: string;

before(async () => {
  // Ports are wired in milliseconds here: a server that waits 10 s for one never gets it.
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const token = await c.adminToken();
  admin = computeOf(c, token);
  const a = await makeProject(c, token, 'alice');
  alice = { ...computeOf(c, a.token), project: a.id, token: a.token };
  bob = computeOf(c, (await makeProject(c, token, 'bob')).token);
  image = await rawImage(c, token);
  tiny = await admin.flavor('tiny', 128, 1);
});
after(() => c?.stop());

test('a server is built, listed, shown, stopped, started, rebooted and deleted', async () => {
  const id = await alice.create({ name: 'vm one', imageRef: image, flavorRef: tiny, metadata: { role: 'web' } });
  const s = await alice.settled(id, 'ACTIVE');
  assert.equal(s.name, 'vm one');
  assert.equal(s.tenant_id, alice.project);
  assert.equal(s['OS-EXT-STS:vm_state'], 'active');
  assert.equal(s['OS-EXT-STS:power_state'], 1);
  assert.deepEqual(s.metadata, { role: 'web' });
  assert.deepEqual(s.image.id, image);
  assert.deepEqual(s.flavor.id, tiny);
  assert.match(s['OS-SRV-USG:launched_at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], undefined, 'host details are for the admin');
  assert.ok((await admin.show(id))['OS-EXT-SRV-ATTR:host']);

  const list = await alice.call('GET', '/servers');
  assert.deepEqual(
    list.body.servers.map((x: any) => x.id),
    [id],
  );
  assert.equal((await alice.call('GET', '/servers/detail?name=^vm%20o')).body.servers.length, 1);
  assert.equal((await alice.call('GET', '/servers/detail?name=nomatch')).body.servers.length, 0);
  assert.equal((await alice.call('GET', '/servers/detail?status=SHUTOFF')).body.servers.length, 0);
  // Before microversion 2.38 an unknown status matches nothing, as in Nova.
  assert.equal((await alice.call('GET', '/servers/detail?status=BOGUS')).body.servers.length, 0);

  assert.equal((await alice.action(id, { 'os-start': null })).status, 409, 'an active server cannot start');
  assert.equal((await alice.action(id, { 'os-stop': null })).status, 202);
  const stopped = await alice.settled(id, 'SHUTOFF');
  assert.equal(stopped['OS-EXT-STS:power_state'], 4);
  assert.equal((await alice.action(id, { reboot: { type: 'SOFT' } })).status, 409, 'no soft reboot of a stopped server');
  assert.equal((await alice.action(id, { 'os-start': null })).status, 202);
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { reboot: { type: 'HARD' } })).status, 202);
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { pause: null })).status, 202);
  await alice.settled(id, 'PAUSED');
  assert.equal((await alice.action(id, { unpause: null })).status, 202);
  await alice.settled(id, 'ACTIVE');

  const console = await alice.action(id, { 'os-getConsoleOutput': { length: 5 } });
  assert.equal(console.status, 200);
  assert.equal(typeof console.body.output, 'string');

  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  await alice.gone(id);
  assert.equal((await alice.call('GET', `/servers/${id}`)).status, 404);
  assert.deepEqual(await c.cloud.compute.driver.list(), [], 'nothing left on the host');
});

test('server metadata: set, merge, replace, one key, delete', async () => {
  const id = await alice.create({ name: 'meta', imageRef: image, flavorRef: tiny });
  const base = `/servers/${id}/metadata`;
  assert.deepEqual((await alice.call('POST', base, { metadata: { a: '1', b: '2' } })).body.metadata, { a: '1', b: '2' });
  assert.deepEqual((await alice.call('PUT', `${base}/a`, { meta: { a: '9' } })).body.meta, { a: '9' });
  assert.deepEqual((await alice.call('GET', `${base}/a`)).body.meta, { a: '9' });
  assert.equal((await alice.call('PUT', `${base}/a`, { meta: { b: '9' } })).status, 400);
  assert.equal((await alice.call('DELETE', `${base}/b`)).status, 204);
  assert.equal((await alice.call('GET', `${base}/b`)).status, 404);
  assert.deepEqual((await alice.call('PUT', base, { metadata: { only: 'x' } })).body.metadata, { only: 'x' });
  assert.deepEqual((await alice.call('GET', base)).body.metadata, { only: 'x' });
  await alice.call('DELETE', `/servers/${id}`);
  await alice.gone(id);
});

test('projects are isolated; the admin lists all of them with all_tenants', async () => {
  const id = await alice.create({ name: 'private', imageRef: image, flavorRef: tiny });
  assert.equal((await bob.call('GET', `/servers/${id}`)).status, 404);
  assert.equal((await bob.call('DELETE', `/servers/${id}`)).status, 404);
  assert.equal((await bob.action(id, { 'os-stop': null })).status, 404);
  assert.deepEqual((await bob.call('GET', '/servers?all_tenants=1')).body.servers, [], 'all_tenants is the admin’s');
  assert.ok((await admin.call('GET', '/servers?all_tenants=1')).body.servers.some((s: any) => s.id === id));
  assert.ok(!(await admin.call('GET', '/servers')).body.servers.some((s: any) => s.id === id), 'without it, the admin’s own project');
  await alice.call('DELETE', `/servers/${id}`);
  await alice.gone(id);
});

test('bad requests get Nova’s 4xx and leave nothing behind', async () => {
  const big = await admin.flavor('big-disk', 128, 1);
  const needy = await rawImage(c, await c.adminToken(), 4096, { min_disk: 5, min_ram: 64 });
  const hungry = await rawImage(c, await c.adminToken(), 4096, { min_ram: 4096 });
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{ name: 'x', imageRef: '00000000-0000-0000-0000-000000000000', flavorRef: tiny }, 400, /Image .* could not be found/],
    [{ name: 'x', imageRef: image, flavorRef: 'nope' }, 400, /Flavor nope could not be found/],
    [{ name: 'x', imageRef: needy, flavorRef: big }, 400, /disk is too small/],
    [{ name: 'x', imageRef: hungry, flavorRef: tiny }, 400, /memory is too small/],
    [{ name: 'x', imageRef: image, flavorRef: tiny, key_name: 'nokey' }, 400, /Invalid key_name/],
    [{ name: 'x', imageRef: image, flavorRef: tiny, user_data: 'not base64!' }, 400, /user_data/],
    [{ name: 'x', imageRef: image, flavorRef: tiny, availability_zone: 'elsewhere' }, 400, /availability zone/],
    [{ imageRef: image, flavorRef: tiny }, 400, /name/],
    [{ name: '', imageRef: image, flavorRef: tiny }, 400, /name/],
    [{ name: 'x', imageRef: image, flavorRef: tiny, min_count: 3, max_count: 2 }, 400, /min_count/],
  ];
  for (const [server, status, message] of cases) {
    const res = await alice.call('POST', '/servers', { server });
    assert.equal(res.status, status, `${JSON.stringify(server)} → ${JSON.stringify(res.body)}`);
    assert.match(res.body.badRequest.message, message);
  }
  assert.equal((await alice.call('POST', '/servers', 'not json')).status, 400);
  assert.equal((await alice.action('00000000-0000-0000-0000-000000000000', { 'os-stop': null })).status, 404);
  assert.equal((await alice.call('GET', '/servers')).body.servers.length, 0);
});

test('no host fits: the server goes to ERROR with a "No valid host" fault, and deletes cleanly', async () => {
  const huge = await admin.flavor('huge', 128, 1 << 20);
  const id = await alice.create({ name: 'toobig', imageRef: image, flavorRef: huge });
  const s = await alice.until(id, (x) => x?.status === 'ERROR');
  assert.match(s.fault.message, /No valid host was found/);
  assert.equal(s.fault.code, 500);
  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  await alice.gone(id);
});

test('a server whose port is never wired goes to ERROR with Nova’s fault after vif_plugging_timeout, and deletes cleanly', async () => {
  const net = async (method: string, path: string, body?: unknown) => (await c.request(method, `/networking/v2.0${path}`, { token: alice.token, body })).body;
  const { network } = await net('POST', '/networks', { network: { name: 'unplugged' } });
  await net('POST', '/subnets', { subnet: { network_id: network.id, cidr: '10.9.0.0/24', ip_version: 4 } });
  const { port } = await net('POST', '/ports', { port: { network_id: network.id, admin_state_up: false } });
  const id = await alice.create({ name: 'unplugged', imageRef: image, flavorRef: tiny, networks: [{ port: port.id }] });
  assert.equal((await alice.show(id)).status, 'BUILD');
  const s = await alice.until(id, (x) => x?.status === 'ERROR', 30_000);
  assert.equal(s.fault.message, 'Virtual Interface creation failed');
  assert.equal(s.fault.code, 500);
  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  await alice.gone(id);
  const after = (await net('GET', `/ports/${port.id}`)).port;
  assert.equal(after.device_id, '', 'the port given to the server is released');
  await net('DELETE', `/ports/${port.id}`);
  await net('DELETE', `/networks/${network.id}`);
});

test('quota: parallel creates never pass the instance limit; 403 with Nova’s message', async () => {
  const q = await admin.call('PUT', `/os-quota-sets/${alice.project}`, { quota_set: { instances: 3 } });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  assert.equal(q.body.quota_set.instances, 3);
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => alice.call('POST', '/servers', { server: { name: `q${i}`, imageRef: image, flavorRef: tiny } })),
  );
  const accepted = results.filter((r) => r.status === 202);
  assert.equal(accepted.length, 3);
  for (const r of results.filter((r) => r.status !== 202)) {
    assert.equal(r.status, 403);
    assert.match(r.body.forbidden.message, /Quota exceeded for instances/);
  }
  const detail = await alice.call('GET', `/os-quota-sets/${alice.project}/detail`);
  assert.deepEqual(detail.body.quota_set.instances, { limit: 3, in_use: 3, reserved: 0 });
  assert.equal((await alice.call('PUT', `/os-quota-sets/${alice.project}`, { quota_set: { instances: 50 } })).status, 403);
  assert.equal((await admin.call('PUT', `/os-quota-sets/${alice.project}`, { quota_set: { bogus: 1 } })).status, 400);
  for (const r of accepted) await alice.call('DELETE', `/servers/${r.body.server.id}`);
  for (const r of accepted) await alice.gone(r.body.server.id);
  assert.equal((await admin.call('DELETE', `/os-quota-sets/${alice.project}`)).status, 202);
  assert.equal((await alice.call('GET', `/os-quota-sets/${alice.project}`)).body.quota_set.instances, 10);
});

test('delete while building, and min/max_count', async () => {
  const res = await alice.call('POST', '/servers', { server: { name: 'many', imageRef: image, flavorRef: tiny, min_count: 2, max_count: 2 } });
  assert.equal(res.status, 202);
  const list = (await alice.call('GET', '/servers')).body.servers.map((s: any) => s.name).sort();
  assert.deepEqual(list, ['many-1', 'many-2']);
  for (const s of (await alice.call('GET', '/servers')).body.servers) assert.equal((await alice.call('DELETE', `/servers/${s.id}`)).status, 204);
  for (const s of (await alice.call('GET', '/servers')).body.servers) await alice.gone(s.id);
  assert.deepEqual(await c.cloud.compute.driver.list(), []);
});
