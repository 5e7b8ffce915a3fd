import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// The lifecycle actions that change the guest (suspend/resume, …) on the fake driver: their
// states, statuses and Nova's 409s for a state that does not allow them. lifecycle.test.ts drives
// them on a real guest.
let c: TestCloud;
let alice: ReturnType<typeof computeOf>;
let image: string;
let tiny: string;

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const token = await c.adminToken();
  const admin = computeOf(c, token);
  alice = computeOf(c, (await makeProject(c, token, 'alice')).token);
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
