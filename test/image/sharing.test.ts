import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { imagesOf, makeProject } from './helpers.ts';

let c: TestCloud;
let admin: string;
let a: { id: string; api: ReturnType<typeof imagesOf> };
let b: { id: string; api: ReturnType<typeof imagesOf> };
let z: { id: string; api: ReturnType<typeof imagesOf> };
before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  const project = async (name: string, role?: string) => {
    const p = await makeProject(c, admin, name, role);
    return { id: p.id, api: imagesOf(c, p.token) };
  };
  a = await project('owner-a');
  b = await project('other-b');
  z = await project('reader-z', 'reader');
});
after(async () => {
  await c?.stop();
});

const listed = async (api: ReturnType<typeof imagesOf>, query = '') =>
  ((await api.call('GET', `/v2/images${query}`)).body.images as { id: string }[]).map((i) => i.id);

test("another project's private image does not exist for it: every call is 404", async () => {
  const image = await a.api.create({ visibility: 'private', disk_format: 'raw' });
  await a.api.upload(image.id, Buffer.alloc(10));
  const id = image.id;
  for (const [method, path, body] of [
    ['GET', `/v2/images/${id}`],
    ['GET', `/v2/images/${id}/file`],
    ['DELETE', `/v2/images/${id}`],
    ['PUT', `/v2/images/${id}/tags/x`],
    ['GET', `/v2/images/${id}/members`],
    ['POST', `/v2/images/${id}/members`, { member: b.id }],
  ] as [string, string, unknown?][]) {
    const res = await b.api.call(method, path, body);
    assert.equal(res.status, 404, `${method} ${path}`);
  }
  assert.equal((await b.api.patch(id, [{ op: 'replace', path: '/name', value: 'mine' }])).status, 404);
  assert.ok(!(await listed(b.api)).includes(id));
  assert.ok(!(await listed(b.api, '?visibility=all')).includes(id));
  assert.ok((await listed(a.api)).includes(id));
  // The cloud administrator sees every image, as in Glance.
  assert.equal((await imagesOf(c, admin).show(id)).status, 200);
});

test('a shared image: the owner adds a member, the member sees it and accepts it, then uses it', async () => {
  const image = await a.api.create({ name: 'golden', disk_format: 'raw' });
  assert.equal(image.visibility, 'shared');
  await a.api.upload(image.id, Buffer.alloc(4096, 3));
  const id = image.id;
  assert.equal((await b.api.show(id)).status, 404, 'not a member yet');

  const added = await a.api.call('POST', `/v2/images/${id}/members`, { member: b.id });
  assert.equal(added.status, 200);
  assert.deepEqual({ ...added.body, created_at: 0, updated_at: 0 }, { image_id: id, member_id: b.id, status: 'pending', schema: '/v2/schemas/member', created_at: 0, updated_at: 0 });
  assert.equal((await a.api.call('POST', `/v2/images/${id}/members`, { member: b.id })).status, 409);

  // Pending: reachable by id, listed only when asked for.
  assert.equal((await b.api.show(id)).status, 200);
  assert.ok(!(await listed(b.api)).includes(id));
  assert.ok((await listed(b.api, '?member_status=pending')).includes(id));
  assert.ok((await listed(b.api, '?visibility=shared&member_status=all')).includes(id));

  // Only the member answers for itself; only the owner adds and removes.
  const byOwner = await a.api.call('PUT', `/v2/images/${id}/members/${b.id}`, { status: 'accepted' });
  assert.equal(byOwner.status, 403);
  assert.match(byOwner.body.message, /not permitted to modify 'status'/);
  assert.equal((await b.api.call('POST', `/v2/images/${id}/members`, { member: z.id })).status, 403);
  assert.equal((await b.api.call('PUT', `/v2/images/${id}/members/${b.id}`, { status: 'maybe' })).status, 400);
  const accepted = await b.api.call('PUT', `/v2/images/${id}/members/${b.id}`, { status: 'accepted' });
  assert.equal(accepted.status, 200);
  assert.equal(accepted.body.status, 'accepted');

  assert.ok((await listed(b.api)).includes(id));
  assert.ok((await b.api.download(id)).data.equals(Buffer.alloc(4096, 3)));
  // A member uses the image; it does not change it.
  assert.equal((await b.api.patch(id, [{ op: 'replace', path: '/name', value: 'stolen' }])).status, 403);
  assert.equal((await b.api.call('DELETE', `/v2/images/${id}`)).status, 403);

  // The owner sees every member, a member only itself, anyone else nothing.
  await a.api.call('POST', `/v2/images/${id}/members`, { member: 'some-other-project' });
  assert.equal((await a.api.call('GET', `/v2/images/${id}/members`)).body.members.length, 2);
  const mine = await b.api.call('GET', `/v2/images/${id}/members`);
  assert.deepEqual(mine.body.members.map((m: { member_id: string }) => m.member_id), [b.id]);
  assert.equal(mine.body.schema, '/v2/schemas/members');
  assert.equal((await b.api.call('GET', `/v2/images/${id}/members/some-other-project`)).status, 404);
  assert.equal((await z.api.call('GET', `/v2/images/${id}/members`)).status, 404);

  assert.equal((await b.api.call('PUT', `/v2/images/${id}/members/${b.id}`, { status: 'rejected' })).status, 200);
  assert.ok(!(await listed(b.api)).includes(id));
  assert.equal((await b.api.show(id)).status, 200, 'a rejected member still reaches it by id');

  assert.equal((await a.api.call('DELETE', `/v2/images/${id}/members/${b.id}`)).status, 204);
  assert.equal((await a.api.call('DELETE', `/v2/images/${id}/members/${b.id}`)).status, 404);
  assert.equal((await b.api.show(id)).status, 404);
});

test('only shared images have members; making one private again hides it from its members', async () => {
  const image = await a.api.create({ visibility: 'private' });
  const res = await a.api.call('POST', `/v2/images/${image.id}/members`, { member: b.id });
  assert.equal(res.status, 403);
  assert.match(res.body.message, /Only shared images have members/);
  await a.api.patch(image.id, [{ op: 'replace', path: '/visibility', value: 'shared' }]);
  assert.equal((await a.api.call('POST', `/v2/images/${image.id}/members`, { member: b.id })).status, 200);
  assert.equal((await b.api.show(image.id)).status, 200);
  await a.api.patch(image.id, [{ op: 'replace', path: '/visibility', value: 'private' }]);
  assert.equal((await b.api.show(image.id)).status, 404);
});

test('public images are the admin\'s to publish; community images are reachable by all, listed on request', async () => {
  const refused = await a.api.call('POST', '/v2/images', { name: 'pub', visibility: 'public' });
  assert.equal(refused.status, 403);
  const pub = await imagesOf(c, admin).create({ name: 'pub', visibility: 'public' });
  assert.ok((await listed(b.api)).includes(pub.id));
  assert.equal((await b.api.patch(pub.id, [{ op: 'replace', path: '/name', value: 'x' }])).status, 403);

  const community = await a.api.create({ name: 'comm', visibility: 'community' });
  assert.equal((await b.api.show(community.id)).status, 200);
  assert.ok(!(await listed(b.api)).includes(community.id));
  assert.ok((await listed(b.api, '?visibility=community')).includes(community.id));
  assert.ok((await listed(a.api)).includes(community.id), 'its owner lists it by default');
});

test('a reader lists and reads, but creates nothing; owners are set by the admin only', async () => {
  assert.equal((await z.api.call('GET', '/v2/images')).status, 200);
  const res = await z.api.call('POST', '/v2/images', { name: 'nope' });
  assert.equal(res.status, 403);
  assert.equal((await a.api.call('POST', '/v2/images', { owner: b.id })).status, 403);
  const given = await imagesOf(c, admin).create({ name: 'for-b', owner: b.id, visibility: 'private' });
  assert.equal(given.owner, b.id);
  assert.equal((await b.api.show(given.id)).status, 200);
  const mine = await a.api.create();
  assert.equal((await a.api.patch(mine.id, [{ op: 'replace', path: '/owner', value: b.id }])).status, 403);
});
