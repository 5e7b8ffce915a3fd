import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// Instance actions (server event list/show) and the server actions that change no guest
// lifecycle, on the fake driver: who asked what, in which request, with which result, at the
// microversions that change what is shown.
let c: TestCloud;
let adminToken: string;
let admin: ReturnType<typeof computeOf>;
let alice: ReturnType<typeof computeOf> & { project: string; token: string };
let image: string;
let tiny: string;

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  adminToken = await c.adminToken();
  admin = computeOf(c, adminToken);
  const a = await makeProject(c, adminToken, 'alice');
  alice = { ...computeOf(c, a.token), project: a.id, token: a.token };
  image = await rawImage(c, adminToken);
  tiny = await admin.flavor('tiny', 128, 1);
});
after(() => c?.stop());

/** A compute request at a microversion. */
const at = (token: string, version: string) => (method: string, path: string, body?: unknown) =>
  c.request(method, `/compute/v2.1${path}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${version}` } });

/** Waits until the action of that request has every event finished. */
async function settled(token: string, server: string, requestId: string) {
  const end = Date.now() + 30_000;
  for (;;) {
    const res = await at(token, '2.84')('GET', `/servers/${server}/os-instance-actions/${requestId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const a = res.body.instanceAction;
    if (a.events.length && a.events.every((e: any) => e.finish_time)) return a;
    if (Date.now() > end) assert.fail(`action ${requestId} not finished: ${JSON.stringify(a)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('every compute response carries x-compute-request-id, the same as x-openstack-request-id', async () => {
  for (const res of [await alice.call('GET', '/servers'), await alice.call('GET', '/servers/nope')]) {
    const id = res.headers.get('x-openstack-request-id');
    assert.match(id ?? '', /^req-[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-compute-request-id'), id);
  }
});

test('create answers adminPass and keeps accessIPv4/6; update changes them', async () => {
  const res = await alice.call('POST', '/servers', {
    server: { name: 'addr', imageRef: image, flavorRef: tiny, networks: 'none', accessIPv4: '192.0.2.7', accessIPv6: '2001:db8::7', adminPass: 'chosen' },
  });
  assert.equal(res.status, 400, 'networks none needs 2.37');
  const made = await at(alice.token, '2.37')('POST', '/servers', {
    server: { name: 'addr', imageRef: image, flavorRef: tiny, networks: 'none', accessIPv4: '192.0.2.7', accessIPv6: '2001:db8::7' },
  });
  assert.equal(made.status, 202, JSON.stringify(made.body));
  assert.match(made.body.server.adminPass, /^[A-Za-z0-9]{12}$/, 'a password Nova would make');
  const chosen = await at(alice.token, '2.37')('POST', '/servers', {
    server: { name: 'pw', imageRef: image, flavorRef: tiny, networks: 'none', adminPass: 'chosen-one' },
  });
  assert.equal(chosen.body.server.adminPass, 'chosen-one');
  const id = made.body.server.id;
  const s = await alice.settled(id, 'ACTIVE');
  assert.equal(s.accessIPv4, '192.0.2.7');
  assert.equal(s.accessIPv6, '2001:db8::7');
  const up = await alice.call('PUT', `/servers/${id}`, { server: { accessIPv4: '192.0.2.8' } });
  assert.equal(up.body.server.accessIPv4, '192.0.2.8');
  assert.equal((await alice.show(id)).accessIPv6, '2001:db8::7');
});

test('server events: create, stop, lock are recorded with their request, user and result', async () => {
  const create = await alice.call('POST', '/servers', { server: { name: 'ev', imageRef: image, flavorRef: tiny } });
  const id = create.body.server.id;
  await alice.settled(id, 'ACTIVE');
  const stop = await alice.action(id, { 'os-stop': null });
  assert.equal(stop.status, 202);
  await alice.settled(id, 'SHUTOFF');
  const lock = await alice.action(id, { lock: null });
  assert.equal(lock.status, 202);

  const list = await alice.call('GET', `/servers/${id}/os-instance-actions`);
  assert.equal(list.status, 200);
  const me = (await alice.call('GET', `/servers/${id}`)).body.server.user_id;
  const requestOf = (res: { headers: Headers }) => res.headers.get('x-openstack-request-id');
  assert.deepEqual(
    list.body.instanceActions.map((a: any) => [a.action, a.request_id, a.user_id, a.project_id, a.instance_uuid, a.message]),
    [
      ['lock', requestOf(lock), me, alice.project, id, null],
      ['stop', requestOf(stop), me, alice.project, id, null],
      ['create', requestOf(create), me, alice.project, id, null],
    ],
  );
  for (const a of list.body.instanceActions) {
    assert.match(a.start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal('updated_at' in a, false, 'updated_at from 2.58');
  }

  const createId = create.headers.get('x-openstack-request-id')!;
  const stopId = stop.headers.get('x-openstack-request-id')!;
  // Before 2.51 the project sees no events; from 2.51 it does, without tracebacks.
  const old = await alice.call('GET', `/servers/${id}/os-instance-actions/${stopId}`);
  assert.equal(old.status, 200);
  assert.equal(old.body.instanceAction.events, undefined);
  const ev = await settled(alice.token, id, stopId);
  assert.deepEqual(
    ev.events.map((e: any) => [e.event, e.result, e.traceback, e.host, typeof e.hostId, e.details]),
    [['compute_stop_instance', 'Success', undefined, undefined, 'string', null]],
  );
  assert.equal((await settled(alice.token, id, createId)).events[0].event, 'compute__do_build_and_run_instance');
  const at51 = await at(alice.token, '2.51')('GET', `/servers/${id}/os-instance-actions/${stopId}`);
  assert.deepEqual(Object.keys(at51.body.instanceAction.events[0]).sort(), ['event', 'finish_time', 'result', 'start_time']);
  // The admin sees tracebacks always, and the host from 2.62.
  const adm = await at(adminToken, '2.62')('GET', `/servers/${id}/os-instance-actions/${stopId}`);
  const e = adm.body.instanceAction.events[0];
  assert.equal(e.traceback, null);
  assert.ok(e.host);
  assert.equal(e.hostId, ev.events[0].hostId, 'one obfuscated host id for the project');
  assert.ok(adm.body.instanceAction.updated_at);
  assert.equal((await alice.call('GET', `/servers/${id}/os-instance-actions/req-nope`)).status, 404);
  assert.equal((await alice.action(id, { unlock: null })).status, 202);
});

test('2.58 pages the list with limit and marker, and filters by changes-since', async () => {
  const id = await alice.create({ name: 'paged', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  for (const body of [{ lock: null }, { unlock: null }, { lock: null }]) assert.equal((await alice.action(id, body)).status, 202);
  const v = at(alice.token, '2.58');
  const all = (await v('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions;
  assert.deepEqual(
    all.map((a: any) => a.action),
    ['lock', 'unlock', 'lock', 'create'],
  );
  const page = await v('GET', `/servers/${id}/os-instance-actions?limit=2`);
  assert.deepEqual(
    page.body.instanceActions.map((a: any) => a.request_id),
    all.slice(0, 2).map((a: any) => a.request_id),
  );
  const next = new URL(page.body.links[0].href);
  assert.equal(next.searchParams.get('marker'), all[1].request_id);
  const rest = await v('GET', `/servers/${id}/os-instance-actions?limit=2&marker=${all[1].request_id}`);
  assert.deepEqual(
    rest.body.instanceActions.map((a: any) => a.action),
    ['lock', 'create'],
  );
  assert.equal((await v('GET', `/servers/${id}/os-instance-actions?marker=req-nope`)).status, 400);
  const future = await v('GET', `/servers/${id}/os-instance-actions?changes-since=2999-01-01T00:00:00Z`);
  assert.deepEqual(future.body.instanceActions, []);
  await alice.action(id, { unlock: null });
});

test("a deleted server's actions are read from 2.21, not before", async () => {
  const id = await alice.create({ name: 'gone', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  const del = await alice.call('DELETE', `/servers/${id}`);
  assert.equal(del.status, 204);
  await alice.gone(id);
  assert.equal((await alice.call('GET', `/servers/${id}/os-instance-actions`)).status, 404);
  const list = await at(alice.token, '2.21')('GET', `/servers/${id}/os-instance-actions`);
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.instanceActions.map((a: any) => a.action),
    ['delete', 'create'],
  );
  const ev = await settled(alice.token, id, del.headers.get('x-openstack-request-id')!);
  assert.deepEqual(
    ev.events.map((e: any) => [e.event, e.result]),
    [['compute_terminate_instance', 'Success']],
  );
  // Another project sees none of it.
  const bob = await makeProject(c, adminToken, 'bob');
  assert.equal((await at(bob.token, '2.21')('GET', `/servers/${id}/os-instance-actions`)).status, 404);
});

test("os-resetState is the admin's: active or error, recorded", async () => {
  const id = await alice.create({ name: 'reset', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { 'os-resetState': { state: 'error' } })).status, 403);
  assert.equal((await admin.action(id, { 'os-resetState': { state: 'stopped' } })).status, 400);
  assert.equal((await admin.action(id, { 'os-resetState': { state: 'error' } })).status, 202);
  assert.equal((await alice.show(id)).status, 'ERROR');
  assert.equal((await admin.action(id, { 'os-resetState': { state: 'active' } })).status, 202);
  // The guest still runs: the agent finds it so and the server is ACTIVE again.
  await alice.settled(id, 'ACTIVE');
  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
  assert.deepEqual(actions, ['resetState', 'resetState', 'create']);
});

test('trigger_crash_dump: from 2.17, an NMI the guest sees; 409 for a server that does not run', async () => {
  const id = await alice.create({ name: 'nmi', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  assert.equal((await alice.action(id, { trigger_crash_dump: null })).status, 404, 'not before 2.17');
  const v = at(alice.token, '2.17');
  const res = await v('POST', `/servers/${id}/action`, { trigger_crash_dump: null });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const out = (await alice.action(id, { 'os-getConsoleOutput': {} })).body.output;
  assert.match(out, /NMI received/);
  const ev = await settled(alice.token, id, res.headers.get('x-openstack-request-id')!);
  assert.deepEqual(
    ev.events.map((e: any) => [e.event, e.result]),
    [['compute_trigger_crash_dump', 'Success']],
  );
  await alice.action(id, { 'os-stop': null });
  await alice.settled(id, 'SHUTOFF');
  const stopped = await v('POST', `/servers/${id}/action`, { trigger_crash_dump: null });
  assert.equal(stopped.status, 409);
});

test('changePassword: a clear 409, no guest agent sets it', async () => {
  const id = await alice.create({ name: 'pw', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  const res = await alice.action(id, { changePassword: { adminPass: 'new-one' } });
  assert.equal(res.status, 409);
  assert.match(res.body.conflictingRequest.message, /guest agent/);
  // No agent posts one either: the server's password is empty, and clearing it is accepted.
  assert.deepEqual((await alice.call('GET', `/servers/${id}/os-server-password`)).body, { password: '' });
  assert.equal((await alice.call('DELETE', `/servers/${id}/os-server-password`)).status, 204);
  assert.equal((await alice.call('GET', '/servers/nope/os-server-password')).status, 404);
});

test('createBackup keeps the newest `rotation` backups of the server and type', async () => {
  const id = await alice.create({ name: 'bk', imageRef: image, flavorRef: tiny });
  await alice.settled(id, 'ACTIVE');
  const made: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await at(alice.token, '2.45')('POST', `/servers/${id}/action`, { createBackup: { name: `daily-${i}`, backup_type: 'daily', rotation: 2 } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    made.push(res.body.image_id);
    await alice.settled(id, 'ACTIVE');
  }
  const weekly = await alice.action(id, { createBackup: { name: 'weekly', backup_type: 'weekly', rotation: '1' } });
  assert.equal(weekly.status, 202);
  assert.match(weekly.headers.get('location') ?? '', /\/images\/[0-9a-f-]{36}$/);
  await alice.settled(id, 'ACTIVE');
  const images = await c.request('GET', '/image/v2/images', { token: alice.token });
  const backups = images.body.images.filter((i: any) => i.image_type === 'backup' && i.instance_uuid === id);
  assert.deepEqual(
    backups
      .filter((i: any) => i.backup_type === 'daily')
      .map((i: any) => i.id)
      .sort(),
    made.slice(1).sort(),
  );
  assert.equal(backups.filter((i: any) => i.backup_type === 'weekly').length, 1);
  for (const b of backups) assert.equal(b.status, 'active');
  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
  assert.deepEqual(actions, ['createBackup', 'createBackup', 'createBackup', 'createBackup', 'create']);
  assert.equal((await alice.action(id, { createBackup: { name: 'x', backup_type: 'daily', rotation: -1 } })).status, 400);
});

test('add/removeFloatingIp are gone from 2.44', async () => {
  const id = await alice.create({ name: 'fip', imageRef: image, flavorRef: tiny });
  const res = await at(alice.token, '2.44')('POST', `/servers/${id}/action`, { addFloatingIp: { address: '172.24.4.10' } });
  assert.equal(res.status, 404);
  const old = await alice.action(id, { addFloatingIp: { address: '172.24.4.10' } });
  assert.equal(old.status, 404, 'no such floating IP');
  assert.match(old.body.itemNotFound.message, /floating IP not found/);
});
