import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// Resize, confirmResize and revertResize on the fake driver: the state machine and its statuses,
// Nova's 400s, 403s and 409s, the migration records and the instance actions. The guest test
// (resize-guest.test.ts) drives them on a real guest.
let c: TestCloud;
let admin: ReturnType<typeof computeOf>;
let alice: ReturnType<typeof computeOf>;
let aliceProject: string;
let aliceToken: string;
let image: string;
let small: string;
let big: string;
let smallDisk: string;

before(async () => {
  // A window of 8 s: the auto-confirm is seen within a test, the other tests are done before it.
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10, env: { NUBO_RESIZE_CONFIRM_WINDOW: '8' } });
  const token = await c.adminToken();
  admin = computeOf(c, token);
  const a = await makeProject(c, token, 'alice');
  alice = computeOf(c, a.token);
  aliceProject = a.id;
  aliceToken = a.token;
  image = await rawImage(c, token);
  small = await admin.flavor('rs.small', 128, 2, 1);
  big = await admin.flavor('rs.big', 256, 3, 2);
  smallDisk = await admin.flavor('rs.smalldisk', 512, 1, 1);
});
after(() => c?.stop());

async function migrationsOf(id: string, v = '2.80') {
  const res = await c.request('GET', `/compute/v2.1/os-migrations?instance_uuid=${id}`, {
    token: await c.adminToken(),
    headers: { 'openstack-api-version': `compute ${v}` },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.migrations;
}

test('resize: RESIZE, then VERIFY_RESIZE on the new flavor; confirm: ACTIVE, the old flavor forgotten; a migration record from pre-migrating to confirmed', async () => {
  const id = await alice.create({ name: 'grow', imageRef: image, flavorRef: small });
  await alice.settled(id, 'ACTIVE');
  const res = await alice.action(id, { resize: { flavorRef: big } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const during = await alice.show(id);
  if (during.status === 'RESIZE') assert.equal(during['OS-EXT-STS:task_state'], 'resize_migrating');
  const resized = await alice.settled(id, 'VERIFY_RESIZE');
  assert.equal(resized['OS-EXT-STS:vm_state'], 'resized');
  assert.equal(resized['OS-EXT-STS:power_state'], 1);
  assert.equal(resized.flavor.id, big);
  const embedded = (await c.request('GET', `/compute/v2.1/servers/${id}`, { token: await c.adminToken(), headers: { 'openstack-api-version': 'compute 2.47' } })).body.server.flavor;
  assert.equal(embedded.original_name, 'rs.big');
  assert.equal(embedded.ram, 256);
  assert.equal(embedded.vcpus, 2);

  const listed = (await alice.call('GET', '/servers/detail?status=VERIFY_RESIZE')).body.servers.map((x: { id: string }) => x.id);
  assert.deepEqual(listed, [id]);
  const [m] = await migrationsOf(id);
  assert.equal(m.status, 'finished');
  assert.equal(m.migration_type, 'resize');
  assert.equal(m.instance_uuid, id);
  assert.equal(m.project_id, aliceProject);
  assert.match(m.uuid, /^[0-9a-f-]{36}$/);
  assert.equal(m.source_compute, m.dest_compute);
  const old = await migrationsOf(id, '2.1');
  assert.equal(old[0].migration_type, undefined, 'migration_type from 2.23');
  assert.equal(old[0].uuid, undefined, 'uuid from 2.59');

  // Everything but confirm and revert waits.
  const stop = await alice.action(id, { 'os-stop': null });
  assert.equal(stop.status, 409);
  assert.equal(stop.body.conflictingRequest.message, `Cannot 'stop' instance ${id} while it is in vm_state resized`);
  assert.equal((await alice.action(id, { resize: { flavorRef: small } })).status, 409);

  const ok = await alice.action(id, { confirmResize: null });
  assert.equal(ok.status, 204);
  const again = await alice.action(id, { confirmResize: null });
  if (again.status !== 409) {
    assert.equal(again.status, 400, 'a confirm under way: nothing left to confirm');
    assert.equal(again.body.badRequest.message, 'Instance has not been resized.');
  }
  const active = await alice.settled(id, 'ACTIVE');
  assert.equal(active['OS-EXT-STS:vm_state'], 'active');
  assert.equal(active.flavor.id, big);
  const late = await alice.action(id, { revertResize: null });
  assert.equal(late.status, 409);
  assert.equal(late.body.conflictingRequest.message, `Cannot 'revertResize' instance ${id} while it is in vm_state active`);
  assert.equal((await migrationsOf(id))[0].status, 'confirmed');

  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: { action: string }) => a.action);
  assert.deepEqual(actions.slice(0, 2), ['confirmResize', 'resize']);
});

test('revert: REVERT_RESIZE or straight back to ACTIVE on the old flavor; a stopped server is resized and reverted stopped', async () => {
  const id = await alice.create({ name: 'back', imageRef: image, flavorRef: small });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { 'os-stop': null })).status, 202);
  await alice.settled(id, 'SHUTOFF');
  assert.equal((await alice.action(id, { resize: { flavorRef: `${c.url}/compute/v2.1/flavors/${big}` } })).status, 202);
  const resized = await alice.settled(id, 'VERIFY_RESIZE');
  assert.equal(resized['OS-EXT-STS:power_state'], 4, 'a stopped server stays stopped');
  assert.equal((await alice.action(id, { revertResize: {} })).status, 202);
  const back = await alice.settled(id, 'SHUTOFF');
  assert.equal(back['OS-EXT-STS:vm_state'], 'stopped');
  assert.equal(back.flavor.id, small);
  assert.equal((await migrationsOf(id))[0].status, 'reverted');
  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: { action: string }) => a.action);
  assert.deepEqual(actions.slice(0, 2), ['revertResize', 'resize']);
});

test("Nova's 400s: same flavor, unknown flavor, smaller disk, a bad body; 409 from a state that allows no resize, and for a confirm with none", async () => {
  const id = await alice.create({ name: 'bad', imageRef: image, flavorRef: small });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { pause: null })).status, 202);
  await alice.settled(id, 'PAUSED');
  const paused = await alice.action(id, { resize: { flavorRef: big } });
  assert.equal(paused.status, 409);
  assert.equal(paused.body.conflictingRequest.message, `Cannot 'resize' instance ${id} while it is in vm_state paused`);
  assert.equal((await alice.action(id, { unpause: null })).status, 202);
  await alice.settled(id, 'ACTIVE');
  const same = await alice.action(id, { resize: { flavorRef: small } });
  assert.equal(same.status, 400);
  assert.equal(same.body.badRequest.message, 'When resizing, instances must change flavor!');
  const unknown = await alice.action(id, { resize: { flavorRef: 'nope' } });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.badRequest.message, 'Unable to locate requested flavor.');
  const down = await alice.action(id, { resize: { flavorRef: smallDisk } });
  assert.equal(down.status, 400);
  assert.match(down.body.badRequest.message, /^Server disk was unable to be resized because: /);
  assert.equal((await alice.action(id, { resize: {} })).status, 400);
  const confirm = await alice.action(id, { confirmResize: null });
  assert.equal(confirm.status, 409);
  assert.equal(confirm.body.conflictingRequest.message, `Cannot 'confirmResize' instance ${id} while it is in vm_state active`);
  assert.equal((await alice.show(id)).flavor.id, small);
  assert.deepEqual(await migrationsOf(id), []);
});

test('quota: a resize that would pass the cores or RAM limit is refused with 403; a smaller one is not checked', async () => {
  const id = await alice.create({ name: 'quota', imageRef: image, flavorRef: small });
  await alice.settled(id, 'ACTIVE');
  const token = await c.adminToken();
  const usedRam = (await c.request('GET', `/compute/v2.1/os-quota-sets/${aliceProject}/detail`, { token })).body.quota_set.ram.in_use as number;
  // Room for what runs, not for 128 MiB more.
  const set = await c.request('PUT', `/compute/v2.1/os-quota-sets/${aliceProject}`, { token, body: { quota_set: { ram: usedRam + 64 } } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const over = await alice.action(id, { resize: { flavorRef: big } });
  assert.equal(over.status, 403);
  assert.match(over.body.forbidden.message, /^Quota exceeded for ram: Requested 128, but already used \d+ of \d+ ram/);
  assert.equal((await alice.show(id)).status, 'ACTIVE');
  await c.request('PUT', `/compute/v2.1/os-quota-sets/${aliceProject}`, { token, body: { quota_set: { ram: 51200 } } });
});

test('resize_confirm_window: a resize left in VERIFY_RESIZE is confirmed by itself once the window has passed', async () => {
  const id = await alice.create({ name: 'auto', imageRef: image, flavorRef: small });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { resize: { flavorRef: big } })).status, 202);
  await alice.settled(id, 'VERIFY_RESIZE');
  const active = await alice.settled(id, 'ACTIVE', 25_000);
  assert.equal(active.flavor.id, big);
  assert.equal((await migrationsOf(id))[0].status, 'confirmed');
});

test('os-migrations is the admin\'s, filtered by status and paged from 2.59', async () => {
  assert.equal((await c.request('GET', '/compute/v2.1/os-migrations', { token: aliceToken })).status, 403);
  const token = await c.adminToken();
  const list = async (q: string, v = '2.59') =>
    (await c.request('GET', `/compute/v2.1/os-migrations${q}`, { token, headers: { 'openstack-api-version': `compute ${v}` } })).body.migrations as { uuid: string; status: string }[];
  const all = await list('');
  assert.ok(all.length >= 3);
  assert.ok((await list('?status=reverted')).every((m) => m.status === 'reverted'));
  const [first] = await list('?limit=1');
  assert.equal(first!.uuid, all[0]!.uuid);
  const next = await list(`?limit=1&marker=${first!.uuid}`);
  assert.equal(next[0]!.uuid, all[1]!.uuid);
});
