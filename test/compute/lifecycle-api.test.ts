import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// The lifecycle actions that change the guest (suspend/resume, …) on the fake driver: their
// states, statuses and Nova's 409s for a state that does not allow them. lifecycle.test.ts drives
// them on a real guest.
let c: TestCloud;
let admin: ReturnType<typeof computeOf>;
let alice: ReturnType<typeof computeOf> & { token: string };
let image: string;
let tiny: string;

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const token = await c.adminToken();
  admin = computeOf(c, token);
  const a = await makeProject(c, token, 'alice');
  alice = { ...computeOf(c, a.token), token: a.token };
  image = await rawImage(c, token);
  tiny = await admin.flavor('tiny', 128, 1);
});
after(() => c?.stop());

test('suspend and resume: SUSPENDED with power state 4 in between, and the guest resumed rather than booted', async () => {
  const id = await alice.create({ name: 'sus', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  const early = await alice.action(id, { resume: null });
  assert.equal(early.status, 409);
  assert.equal(early.body.conflictingRequest.message, `Cannot 'resume' instance ${id} while it is in vm_state active`);

  assert.equal((await alice.action(id, { suspend: {} })).status, 202);
  const suspended = await alice.settled(id, 'SUSPENDED');
  assert.equal(suspended['OS-EXT-STS:vm_state'], 'suspended');
  assert.equal(suspended['OS-EXT-STS:power_state'], 4);
  assert.deepEqual(
    (await alice.call('GET', '/servers/detail?status=SUSPENDED')).body.servers.map((s: { id: string }) => s.id),
    [id],
  );
  const again = await alice.action(id, { suspend: null });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Cannot 'suspend' instance ${id} while it is in vm_state suspended`);
  assert.equal((await alice.action(id, { 'os-stop': null })).status, 409, 'a suspended server is resumed, not stopped');
  assert.equal((await alice.action(id, { pause: null })).status, 409);

  assert.equal((await alice.action(id, { resume: null })).status, 202);
  const resumed = await alice.settled(id, 'ACTIVE');
  assert.equal(resumed['OS-EXT-STS:power_state'], 1);
  const log = (await alice.action(id, { 'os-getConsoleOutput': {} })).body.output as string;
  assert.deepEqual(
    log.split('\n').filter(Boolean).map((l) => l.split(': ').at(-1)),
    ['booted', 'suspended', 'resumed'],
  );
});

test('a suspended server: no soft reboot, and a hard reboot boots it afresh', async () => {
  const id = await alice.create({ name: 'sus2', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { suspend: null })).status, 202);
  await alice.settled(id, 'SUSPENDED');
  assert.equal((await alice.action(id, { reboot: { type: 'SOFT' } })).status, 409, 'no soft reboot of a suspended server');
  assert.equal((await alice.action(id, { reboot: { type: 'HARD' } })).status, 202);
  await alice.settled(id, 'ACTIVE');
  const log = (await alice.action(id, { 'os-getConsoleOutput': {} })).body.output as string;
  assert.deepEqual(
    log.split('\n').filter(Boolean).map((l) => l.split(': ').at(-1)),
    ['booted', 'suspended', 'booted'],
  );
});

test('shelve: the disk into "<name>-shelved", then offloaded at once (host freed); unshelve builds it again with its addresses and deletes the image', async () => {
  const id = await alice.create({ name: 'shelf', imageRef: image, flavorRef: tiny });
  const before = await alice.settled(id, 'ACTIVE');
  const early = await alice.action(id, { unshelve: null });
  assert.equal(early.status, 409);
  assert.equal(early.body.conflictingRequest.message, `Cannot 'unshelve' instance ${id} while it is in vm_state active`);

  assert.equal((await alice.action(id, { shelve: null })).status, 202);
  const shelved = await alice.settled(id, 'SHELVED_OFFLOADED');
  assert.equal(shelved['OS-EXT-STS:vm_state'], 'shelved_offloaded');
  assert.equal(shelved['OS-EXT-STS:power_state'], 0);
  assert.equal((await admin.show(id))['OS-EXT-SRV-ATTR:host'], null, 'the host is freed');
  assert.deepEqual(shelved.addresses, before.addresses);
  const images = (await c.request('GET', '/image/v2/images?name=shelf-shelved', { token: alice.token })).body.images;
  assert.equal(images.length, 1);
  assert.equal(images[0].status, 'active');
  assert.equal(images[0].instance_uuid, id);
  const again = await alice.action(id, { shelve: null });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Cannot 'shelve' instance ${id} while it is in vm_state shelved_offloaded`);
  assert.equal((await alice.action(id, { 'os-start': null })).status, 409);
  assert.equal((await alice.action(id, { unshelve: { availability_zone: 'elsewhere' } })).status, 400);

  assert.equal((await alice.action(id, { unshelve: null })).status, 202);
  const back = await alice.settled(id, 'ACTIVE');
  assert.deepEqual(back.addresses, before.addresses);
  assert.equal(back.image.id, image, 'the server still names the image it was made from');
  assert.ok((await admin.show(id))['OS-EXT-SRV-ATTR:host']);
  assert.equal((await c.request('GET', `/image/v2/images/${images[0].id}`, { token: alice.token })).status, 404, 'the shelved image is deleted');
  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((x: { action: string }) => x.action);
  assert.deepEqual(actions.filter((x: string) => x.includes('shelve')).sort(), ['shelve', 'unshelve'], 'both recorded as instance actions');
});

test('a server shelved while stopped; shelveOffload of a server not shelved is a 409', async () => {
  const id = await alice.create({ name: 'shelf2', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  const off = await alice.action(id, { shelveOffload: null });
  assert.equal(off.status, 409);
  assert.equal(off.body.conflictingRequest.message, `Cannot 'shelveOffload' instance ${id} while it is in vm_state active`);
  assert.equal((await alice.action(id, { 'os-stop': null })).status, 202);
  await alice.settled(id, 'SHUTOFF');
  assert.equal((await alice.action(id, { shelve: {} })).status, 202);
  await alice.settled(id, 'SHELVED_OFFLOADED');
  assert.equal((await alice.action(id, { unshelve: { availability_zone: null } })).status, 202);
  await alice.settled(id, 'ACTIVE');
});

test('deleting a shelved-offloaded server deletes its shelved image with it, as Nova does', async () => {
  const id = await alice.create({ name: 'shelf3', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { shelve: null })).status, 202);
  await alice.settled(id, 'SHELVED_OFFLOADED');
  const [shelvedImage] = (await c.request('GET', '/image/v2/images?name=shelf3-shelved', { token: alice.token })).body.images;
  assert.equal(shelvedImage.status, 'active');
  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  await alice.gone(id);
  const left = async () => (await c.request('GET', `/image/v2/images/${shelvedImage.id}`, { token: alice.token })).status;
  for (let i = 0; i < 50 && (await left()) !== 404; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await left(), 404, 'the shelved image went with the server');
});

test('as Nova allows: a suspended server is shelved (and unshelved to ACTIVE); a server in ERROR is rebuilt to ACTIVE', async () => {
  const id = await alice.create({ name: 'sus-shelf', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { suspend: null })).status, 202);
  await alice.settled(id, 'SUSPENDED');
  assert.equal((await alice.action(id, { shelve: null })).status, 202);
  await alice.settled(id, 'SHELVED_OFFLOADED');
  assert.equal((await alice.action(id, { unshelve: null })).status, 202);
  await alice.settled(id, 'ACTIVE');

  assert.equal((await admin.action(id, { 'os-resetState': { state: 'error' } })).status, 202);
  assert.equal((await alice.show(id)).status, 'ERROR');
  const res = await alice.action(id, { rebuild: { imageRef: image } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.server.status, 'REBUILD');
  assert.equal(res.body.server['OS-EXT-STS:task_state'], 'rebuilding');
  const rebuilt = await alice.settled(id, 'ACTIVE');
  assert.equal(rebuilt['OS-EXT-STS:vm_state'], 'active');
  assert.equal(rebuilt.fault, undefined, 'the fault of the error is gone with it');
});

test('rescue: RESCUE from another image, 200 with no password; unrescue: ACTIVE again; a wrong state is a 409', async () => {
  const other = await rawImage(c, await c.adminToken(), 8192);
  const id = await alice.create({ name: 'resc', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  const early = await alice.action(id, { unrescue: null });
  assert.equal(early.status, 409);
  assert.equal(early.body.conflictingRequest.message, `Cannot 'unrescue' instance ${id} while it is in vm_state active`);
  assert.equal((await alice.action(id, { rescue: { rescue_image_ref: 'no-such-image' } })).status, 400);

  const rescued = await alice.action(id, { rescue: { rescue_image_ref: other } });
  assert.equal(rescued.status, 200);
  assert.deepEqual(rescued.body, {});
  const s = await alice.settled(id, 'RESCUE');
  assert.equal(s['OS-EXT-STS:vm_state'], 'rescued');
  assert.equal(s['OS-EXT-STS:power_state'], 1);
  const again = await alice.action(id, { rescue: null });
  assert.equal(again.status, 409);
  assert.equal(again.body.conflictingRequest.message, `Cannot 'rescue' instance ${id} while it is in vm_state rescued`);
  assert.equal((await alice.action(id, { 'os-stop': null })).status, 409);

  assert.equal((await alice.action(id, { unrescue: null })).status, 202);
  await alice.settled(id, 'ACTIVE');
  const log = (await alice.action(id, { 'os-getConsoleOutput': {} })).body.output as string;
  assert.deepEqual(
    log.split('\n').filter(Boolean).map((l) => l.split(': ').at(-1)),
    ['booted', 'powered off', 'booted', 'powered off', 'booted'],
  );
});

test('rebuild: REBUILD then ACTIVE on the new image, same id and addresses, with a new name and metadata; key_name from 2.54', async () => {
  const other = await rawImage(c, await c.adminToken(), 16384);
  const id = await alice.create({ name: 'rb', imageRef: image, flavorRef: tiny, metadata: { a: '1' } });
  const before = await alice.settled(id, 'ACTIVE');
  const at = (version: string, body: unknown) =>
    c.request('POST', `/compute/v2.1/servers/${id}/action`, { token: alice.token, body, headers: { 'OpenStack-API-Version': `compute ${version}` } });
  assert.equal((await at('2.53', { rebuild: { imageRef: other, key_name: null } })).status, 400, 'key_name is 2.54');
  assert.equal((await alice.action(id, { rebuild: { name: 'x' } })).status, 400, 'imageRef is required');

  const res = await alice.action(id, { rebuild: { imageRef: other, name: 'rb2', metadata: { b: '2' } } });
  assert.equal(res.status, 202);
  assert.equal(res.body.server.id, id);
  assert.equal(res.body.server.status, 'REBUILD');
  assert.equal(res.body.server['OS-EXT-STS:task_state'], 'rebuilding');
  assert.equal((await alice.action(id, { 'os-stop': null })).status, 409, 'no stop while rebuilding');
  const after = await alice.settled(id, 'ACTIVE');
  assert.equal(after.image.id, other);
  assert.equal(after.name, 'rb2');
  assert.deepEqual(after.metadata, { b: '2' });
  assert.deepEqual(after.addresses, before.addresses);
  const log = (await alice.action(id, { 'os-getConsoleOutput': {} })).body.output as string;
  assert.deepEqual(
    log.split('\n').filter(Boolean).map((l) => l.split(': ').at(-1)),
    ['booted'],
    'a new guest on a new disk',
  );

  assert.equal((await alice.action(id, { pause: null })).status, 202);
  await alice.settled(id, 'PAUSED');
  const paused = await alice.action(id, { rebuild: { imageRef: image } });
  assert.equal(paused.status, 409);
  assert.equal(paused.body.conflictingRequest.message, `Cannot 'rebuild' instance ${id} while it is in vm_state paused`);
});

test('shelved_offload_time -1: SHELVED keeps its host until shelveOffload; unshelve from SHELVED starts it where it is', async () => {
  const keep = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10, env: { NUBO_SHELVED_OFFLOAD_TIME: '-1' } });
  try {
    const api = computeOf(keep, await keep.adminToken());
    const flavor = await api.flavor('tiny', 128, 1);
    const img = await rawImage(keep, await keep.adminToken());
    const id = await api.create({ name: 'kept', imageRef: img, flavorRef: flavor });
    await api.settled(id, 'ACTIVE');
    assert.equal((await api.action(id, { shelve: null })).status, 202);
    const shelved = await api.settled(id, 'SHELVED');
    assert.equal(shelved['OS-EXT-STS:power_state'], 4);
    assert.ok(shelved['OS-EXT-SRV-ATTR:host'], 'it keeps its host');
    assert.equal((await api.action(id, { unshelve: null })).status, 202);
    await api.settled(id, 'ACTIVE');

    assert.equal((await api.action(id, { shelve: null })).status, 202);
    await api.settled(id, 'SHELVED');
    assert.equal((await api.action(id, { shelveOffload: null })).status, 202);
    const off = await api.settled(id, 'SHELVED_OFFLOADED');
    assert.equal(off['OS-EXT-SRV-ATTR:host'], null);
  } finally {
    await keep.stop();
  }
});
