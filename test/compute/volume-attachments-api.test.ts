import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// Nova's os-volume_attachments and Cinder's attachments API over one set of rows, on the fake
// driver: the states a volume goes through, the refusals, boot from volume and what a server's
// delete does to its volumes. test/volume/attach.test.ts does the same with real guests.
let c: TestCloud;
let admin: ReturnType<typeof computeOf>;
let alice: ReturnType<typeof computeOf> & { project: string; token: string };
let bob: ReturnType<typeof computeOf> & { project: string; token: string };
let image: string;
let tiny: string;

const cinderOf = (who: { project: string; token: string }, version = '3.44') => ({
  call: (method: string, path: string, body?: unknown) =>
    c.request(method, `/volume/v3/${who.project}${path}`, { token: who.token, body, headers: { 'openstack-api-version': `volume ${version}` } }),
  async volume(size = 1, extra: Record<string, unknown> = {}) {
    const res = await this.call('POST', '/volumes', { volume: { size, ...extra } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = res.body.volume.id as string;
    await this.until(id, (v) => v.status === 'available');
    return id;
  },
  async until(id: string, check: (v: any) => boolean, timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < end) {
      const res = await this.call('GET', `/volumes/${id}`);
      last = res.status === 404 ? null : res.body.volume;
      if (check(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`volume ${id} did not get there; last seen ${JSON.stringify(last)}`);
  },
});

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const token = await c.adminToken();
  admin = computeOf(c, token);
  const a = await makeProject(c, token, 'alice');
  alice = { ...computeOf(c, a.token), project: a.id, token: a.token };
  const b = await makeProject(c, token, 'bob');
  bob = { ...computeOf(c, b.token), project: b.id, token: b.token };
  image = await rawImage(c, token);
  tiny = await admin.flavor('tiny', 128, 1);
});
after(() => c?.stop());

test('attach, list, show and detach through Nova; the volume goes available → in-use → available; refusals', async () => {
  const cinder = cinderOf(alice);
  const vol = await cinder.volume();
  const s1 = await alice.create({ name: 's1', imageRef: image, flavorRef: tiny });
  const s2 = await alice.create({ name: 's2', imageRef: image, flavorRef: tiny });
  await alice.settled(s1, 'ACTIVE');
  await alice.settled(s2, 'ACTIVE');

  const att = await alice.call('POST', `/servers/${s1}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
  assert.equal(att.status, 200, JSON.stringify(att.body));
  assert.deepEqual(att.body.volumeAttachment, { id: vol, serverId: s1, volumeId: vol, device: '/dev/vdb' });
  const inUse = await cinder.until(vol, (v) => v.status === 'in-use');
  assert.equal(inUse.attachments[0].server_id, s1);
  assert.equal(inUse.attachments[0].device, '/dev/vdb');
  assert.deepEqual((await alice.show(s1))['os-extended-volumes:volumes_attached'], [{ id: vol }]);
  assert.deepEqual((await alice.call('GET', `/servers/${s1}/os-volume_attachments`)).body.volumeAttachments, [att.body.volumeAttachment]);
  assert.deepEqual((await alice.call('GET', `/servers/${s1}/os-volume_attachments/${vol}`)).body.volumeAttachment, att.body.volumeAttachment);
  // The guest has it.
  assert.ok((await c.cloud.compute.driver.attachedVolumes(s1)).has(vol));

  const again = await alice.call('POST', `/servers/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
  assert.equal(again.status, 400, 'an in-use volume is not attached twice (InvalidVolume, as Nova answers it)');
  assert.match(again.body.badRequest.message, /in-use/);
  const other = await bob.call('POST', `/servers/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
  assert.equal(other.status, 404, "another project's server is not found");
  const bobs = await bob.create({ name: 'b', imageRef: image, flavorRef: tiny });
  await bob.settled(bobs, 'ACTIVE');
  const foreign = await bob.call('POST', `/servers/${bobs}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
  assert.equal(foreign.status, 404, "another project's volume is not found");
  assert.equal((await alice.call('POST', `/servers/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: 'nope' } })).status, 400);
  assert.equal(
    (await alice.call('PUT', `/servers/${s1}/os-volume_attachments/${vol}`, { volumeAttachment: { volumeId: vol } })).status,
    403,
    'swap is for admins',
  );
  const swap = await admin.call('PUT', `/servers/${s1}/os-volume_attachments/${vol}`, { volumeAttachment: { volumeId: vol } });
  assert.equal(swap.status, 400);
  assert.match(swap.body.badRequest.message, /not supported/);
  const del = await cinder.call('DELETE', `/volumes/${vol}`);
  assert.equal(del.status, 400, JSON.stringify(del.body));

  assert.equal((await alice.call('DELETE', `/servers/${s1}/os-volume_attachments/${vol}`)).status, 202);
  await cinder.until(vol, (v) => v.status === 'available' && v.attachments.length === 0);
  assert.equal((await c.cloud.compute.driver.attachedVolumes(s1)).has(vol), false);
  assert.equal((await alice.call('DELETE', `/servers/${s1}/os-volume_attachments/${vol}`)).status, 404);
  // Both are the server's instance actions.
  const actions = (await alice.call('GET', `/servers/${s1}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
  assert.deepEqual(actions, ['detach_volume', 'attach_volume', 'create']);

  // Attached while stopped: it is in the guest from its next start.
  assert.equal((await alice.action(s2, { 'os-stop': null })).status, 202);
  await alice.settled(s2, 'SHUTOFF');
  assert.equal((await alice.call('POST', `/servers/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol, device: '/dev/vdc' } })).status, 200);
  await cinder.until(vol, (v) => v.status === 'in-use');
  assert.equal((await c.cloud.compute.driver.attachedVolumes(s2)).size, 0);
  assert.equal((await alice.action(s2, { 'os-start': null })).status, 202);
  await alice.settled(s2, 'ACTIVE');
  assert.ok((await c.cloud.compute.driver.attachedVolumes(s2)).has(vol));
  assert.equal((await alice.call('GET', `/servers/${s2}/os-volume_attachments/${vol}`)).body.volumeAttachment.device, '/dev/vdc');

  // Deleting the server detaches it; without delete_on_termination the volume stays.
  assert.equal((await alice.call('DELETE', `/servers/${s2}`)).status, 204);
  await alice.gone(s2);
  await cinder.until(vol, (v) => v.status === 'available' && v.attachments.length === 0);
  for (const id of [s1]) await alice.call('DELETE', `/servers/${id}`);
  await bob.call('DELETE', `/servers/${bobs}`);
});

test('an in-use volume grows in its guest', async () => {
  const cinder = cinderOf(alice);
  const vol = await cinder.volume();
  const s = await alice.create({ name: 'grow', imageRef: image, flavorRef: tiny });
  await alice.settled(s, 'ACTIVE');
  await alice.call('POST', `/servers/${s}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
  await cinder.until(vol, (v) => v.status === 'in-use');
  const res = await cinder.call('POST', `/volumes/${vol}/action`, { 'os-extend': { new_size: 3 } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const end = Date.now() + 10_000;
  while ((await c.cloud.compute.driver.attachedVolumes(s)).get(vol) !== 3 * 2 ** 30 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await c.cloud.compute.driver.attachedVolumes(s)).get(vol), 3 * 2 ** 30);
  assert.equal((await cinder.until(vol, (v) => v.size === 3)).status, 'in-use');
  await alice.call('DELETE', `/servers/${s}`);
  await alice.gone(s);
});

test("Cinder's attachments API shows Nova's attachments, and reserve → update → complete → delete works on its own", async () => {
  const cinder = cinderOf(alice);
  const vol = await cinder.volume();
  assert.equal((await cinderOf(alice, '3.26').call('GET', '/attachments')).status, 404, 'not before 3.27');
  const created = await cinder.call('POST', '/attachments', { attachment: { volume_uuid: vol } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const id = created.body.attachment.id;
  assert.equal(created.body.attachment.status, 'reserved');
  assert.equal((await cinder.until(vol, () => true)).status, 'reserved');
  const updated = await cinder.call('PUT', `/attachments/${id}`, { attachment: { connector: { host: 'elsewhere', initiator: 'x' } } });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.equal(updated.body.attachment.status, 'attaching');
  assert.equal(updated.body.attachment.connection_info.data.driver, 'file');
  assert.equal((await cinder.call('POST', `/attachments/${id}/action`, { 'os-complete': null })).status, 204);
  assert.equal((await cinder.until(vol, () => true)).status, 'in-use');
  const list = await cinder.call('GET', `/attachments?volume_id=${vol}`);
  assert.deepEqual(list.body.attachments, [{ id, status: 'attached', instance: null, volume_id: vol }]);
  assert.equal((await cinderOf(bob).call('GET', `/attachments/${id}`)).status, 404);
  const gone = await cinder.call('DELETE', `/attachments/${id}`);
  assert.equal(gone.status, 200);
  assert.equal((await cinder.until(vol, () => true)).status, 'available');

  // A Nova attachment, seen through Cinder.
  const s = await alice.create({ name: 'seen', imageRef: image, flavorRef: tiny });
  await alice.settled(s, 'ACTIVE');
  await alice.call('POST', `/servers/${s}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
  await cinder.until(vol, (v) => v.status === 'in-use');
  const [seen] = (await cinder.call('GET', '/attachments/detail')).body.attachments;
  assert.equal(seen.instance, s);
  assert.equal(seen.status, 'attached');
  assert.equal(seen.connection_info.mountpoint, '/dev/vdb');
  // Deleting it through Cinder detaches it from the guest first.
  assert.equal((await cinder.call('DELETE', `/attachments/${seen.id}`)).status, 200);
  await cinder.until(vol, (v) => v.status === 'available');
  assert.equal((await c.cloud.compute.driver.attachedVolumes(s)).has(vol), false);
  await alice.call('DELETE', `/servers/${s}`);
  await alice.gone(s);
});

test('boot from a volume made from an image; delete_on_termination takes it along; a volume given to boot from stays', async () => {
  const cinder = cinderOf(alice);
  const bdm = { boot_index: 0, uuid: image, source_type: 'image', destination_type: 'volume', volume_size: 1, delete_on_termination: true };
  const s = await alice.create({ name: 'bfv', imageRef: '', flavorRef: tiny, block_device_mapping_v2: [bdm] });
  const shown = await alice.settled(s, 'ACTIVE');
  assert.equal(shown.image, '');
  const [{ id: root }] = shown['os-extended-volumes:volumes_attached'];
  const vol = await cinder.until(root, (v) => v.status === 'in-use');
  assert.equal(vol.attachments[0].device, '/dev/vda');
  assert.equal(vol.bootable, 'true');
  assert.equal((await alice.call('DELETE', `/servers/${s}/os-volume_attachments/${root}`)).status, 409, 'the root volume stays');
  await alice.call('DELETE', `/servers/${s}`);
  await alice.gone(s);
  await cinder.until(root, (v) => v === null);

  const given = await cinder.volume(1, { imageRef: image });
  const t = await alice.create({
    name: 'given',
    flavorRef: tiny,
    block_device_mapping_v2: [{ boot_index: '0', uuid: given, source_type: 'volume', destination_type: 'volume' }],
  });
  await alice.settled(t, 'ACTIVE');
  await cinder.until(given, (v) => v.status === 'in-use');
  const busy = await alice.call('POST', '/servers', {
    server: { name: 'x', flavorRef: tiny, block_device_mapping_v2: [{ boot_index: 0, uuid: given, source_type: 'volume', destination_type: 'volume' }] },
  });
  assert.equal(busy.status, 400, 'a volume in use cannot be booted from');
  await alice.call('DELETE', `/servers/${t}`);
  await alice.gone(t);
  await cinder.until(given, (v) => v.status === 'available');
});
