import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { imagesOf, makeProject } from './helpers.ts';

// Deactivation (admin only): the image's data is the admin's alone until reactivated, and no
// server boots from it (the fake compute driver is enough to see the refusal).
let c: TestCloud;
let admin: string;
let member: { id: string; token: string };
before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  member = await makeProject(c, admin, 'deactivation');
});
after(async () => c?.stop());

test('a deactivated image is not downloaded by a member, nor booted', async () => {
  const owner = imagesOf(c, member.token);
  const image = await owner.create({ name: 'to-deactivate' });
  assert.equal((await owner.upload(image.id, Buffer.alloc(4096))).status, 204);
  assert.equal((await c.request('POST', `/image/v2/images/${image.id}/actions/deactivate`, { token: admin })).status, 204);
  assert.equal((await owner.show(image.id)).body.status, 'deactivated');
  const dl = await owner.download(image.id);
  assert.equal(dl.status, 403);
  assert.equal((await imagesOf(c, admin).download(image.id)).status, 200);

  const flavor = await c.request('POST', '/compute/v2.1/flavors', { token: admin, body: { flavor: { name: 'm-deact', ram: 64, vcpus: 1, disk: 1 } } });
  assert.equal(flavor.status, 200, JSON.stringify(flavor.body));
  const boot = await c.request('POST', '/compute/v2.1/servers', {
    token: member.token,
    body: { server: { name: 'vm', imageRef: image.id, flavorRef: flavor.body.flavor.id } },
  });
  assert.equal(boot.status, 400, JSON.stringify(boot.body));
  assert.match(boot.body.badRequest.message, /is not active/);

  assert.equal((await c.request('POST', `/image/v2/images/${image.id}/actions/reactivate`, { token: admin })).status, 204);
  assert.equal((await owner.download(image.id)).status, 200);
});
