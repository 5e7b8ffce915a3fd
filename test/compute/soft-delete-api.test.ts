import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// Soft delete with a reclaim interval (Nova's reclaim_instance_interval): DELETE powers the
// guest off and keeps the server SOFT_DELETED; restore brings it back; forceDelete and the
// reclaimer delete it.
let c: TestCloud;
let alice: ReturnType<typeof computeOf>;
let image: string;
let tiny: string;

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10, env: { NUBO_RECLAIM_INSTANCE_INTERVAL: '3' } });
  const token = await c.adminToken();
  alice = computeOf(c, (await makeProject(c, token, 'alice')).token);
  image = await rawImage(c, token);
  tiny = await computeOf(c, token).flavor('tiny', 128, 1);
});
after(() => c?.stop());

const guest = async (id: string) => (await c.cloud.compute.driver.info(id)).power;

test('DELETE soft-deletes: the guest is off, other actions refused, restore brings it back running', async () => {
  const id = await alice.create({ name: 'soft', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  const s = await alice.settled(id, 'SOFT_DELETED');
  assert.equal(s['OS-EXT-STS:vm_state'], 'soft-delete');
  assert.equal(s['OS-EXT-STS:power_state'], 4);
  assert.equal(await guest(id), 'shutdown');
  const listed = async (status: string) => (await alice.call('GET', `/servers/detail?status=${status}`)).body.servers.map((x: any) => x.id);
  assert.deepEqual(await listed('SOFT_DELETED'), [id]);
  assert.deepEqual(await listed('SHUTOFF'), [], 'its guest is off, yet it is not SHUTOFF');
  const start = await alice.action(id, { 'os-start': null });
  assert.equal(start.status, 409);
  assert.match(start.body.conflictingRequest.message, /soft-delete/);

  assert.equal((await alice.action(id, { restore: null })).status, 202);
  await alice.settled(id, 'ACTIVE');
  assert.equal(await guest(id), 'running');
  assert.equal((await alice.action(id, { restore: null })).status, 409, 'nothing to restore');
  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
  assert.deepEqual(actions, ['restore', 'delete', 'create']);

  // forceDelete deletes at once, soft-deleted or not.
  assert.equal((await alice.action(id, { forceDelete: null })).status, 202);
  await alice.gone(id);
  assert.deepEqual(await c.cloud.compute.driver.list(), []);
});

test('a soft-deleted server is reclaimed once the interval has passed', async () => {
  const id = await alice.create({ name: 'reclaimed', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  await alice.settled(id, 'SOFT_DELETED');
  await alice.gone(id, 30_000);
  assert.equal(await guest(id), 'nostate');
});
