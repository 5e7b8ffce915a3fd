import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DetachTimeout, type VirtDriver } from '../../src/compute/virt/driver.ts';
import { adminEnv, cliAs, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { rawImage } from '../compute/helpers.ts';

// A guest that never lets a volume go, through the openstack CLI: the fake hypervisor's detach is
// made to time out as qemu's does when no DEVICE_DELETED comes (test/compute/virt-conformance.test.ts
// shows qemu doing so). The volume stays in-use, its attachment says error_detaching, and the
// server's detach_volume event ends in Error with the reason: nothing claims the detach happened.
let c: TestCloud;
let driver: VirtDriver;
/** Whether the guest keeps what it is asked to let go. */
let guestKeeps = false;
const cli = cliAs(() => adminEnv(c.url, c.cloud.credentials!.password));
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const status = async (volume: string) => (await json('volume', 'show', volume)).status as string;

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  driver = c.cloud.compute.driver;
  const release = driver.detachVolume.bind(driver);
  driver.detachVolume = async (uuid, volumeId, timeoutMs) => {
    if (guestKeeps) throw new DetachTimeout(uuid, volumeId, timeoutMs);
    return release(uuid, volumeId, timeoutMs);
  };
  const image = await rawImage(c, await c.adminToken());
  await cli('flavor', 'create', '--ram', '128', '--disk', '1', '--vcpus', '1', 'tiny');
  await cli('--os-compute-api-version', '2.37', 'server', 'create', '--flavor', 'tiny', '--image', image, '--nic', 'none', '--wait', 'vm');
  await json('volume', 'create', '--size', '1', 'vol');
  await eventually('vol available', async () => (await status('vol')) === 'available');
  await cli('server', 'add', 'volume', 'vm', 'vol');
  await eventually('vol in-use', async () => (await status('vol')) === 'in-use');
});
after(() => c?.stop());

/** The server's latest detach_volume action, with its events, at 2.84 where events carry details. */
async function lastDetach(): Promise<{ events: { event: string; result: string | null; details?: string | null }[] }> {
  const actions = await json('server', 'event', 'list', 'vm');
  const detach = actions.find((a: { Action: string }) => a.Action === 'detach_volume');
  return json('--os-compute-api-version', '2.84', 'server', 'event', 'show', 'vm', detach['Request ID']);
}

test('a guest that keeps the volume: in-use, its attachment error_detaching, and the detach event an Error naming it', async () => {
  guestKeeps = true;
  const volume = (await json('volume', 'show', 'vol')).id as string;
  await cli('server', 'remove', 'volume', 'vm', 'vol');
  const attachments = () => json('--os-volume-api-version', '3.27', 'volume', 'attachment', 'list');
  await eventually('the attachment is error_detaching', async () => (await attachments())[0]?.Status === 'error_detaching');
  assert.equal(await status('vol'), 'in-use');
  assert.deepEqual(
    (await json('server', 'show', 'vm')).volumes_attached.map((v: { id: string }) => v.id),
    [volume],
  );
  assert.ok((await driver.attachedVolumes((await json('server', 'show', 'vm')).id)).has(volume), 'the guest still has it');
  let shown = await lastDetach();
  await eventually('the detach event is finished', async () => (shown = await lastDetach()).events[0]!.result !== null);
  const [event] = shown.events;
  assert.equal(event!.event, 'compute_detach_volume');
  assert.equal(event!.result, 'Error');
  assert.match(event!.details ?? '', new RegExp(volume));
});

test('asked again once the guest lets go, the detach is done: available, no attachment, the event a Success', async () => {
  guestKeeps = false;
  await cli('server', 'remove', 'volume', 'vm', 'vol');
  await eventually('vol available', async () => (await status('vol')) === 'available');
  assert.deepEqual((await json('volume', 'show', 'vol')).attachments, []);
  assert.deepEqual((await json('server', 'show', 'vm')).volumes_attached, []);
  await eventually('the detach event is a Success', async () => (await lastDetach()).events[0]!.result === 'Success');
});
