import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema } from '../helpers/schema.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';
import { flavorDetailList, limitsSchema, serverDetailList, serverSchema } from './microversion-schemas.ts';
import * as S from './host-schemas.ts';

// Server groups and the host and usage APIs on the fake driver's one host, as an all-in-one has:
// what the scheduler does with a group's policy, and what an admin and Horizon read of the hosts.
let c: TestCloud;
let adminToken: string;
let alice: ReturnType<typeof computeOf> & { project: string; token: string };
let bob: { project: string; token: string };
let image: string;
let tiny: string;

/** A compute call at a microversion. */
const at = (token: string, v: string, method: string, path: string, body?: unknown) =>
  c.request(method, `/compute/v2.1${path}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${v}` } });
const admin = (v: string, method: string, path: string, body?: unknown) => at(adminToken, v, method, path, body);

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  adminToken = await c.adminToken();
  const a = await makeProject(c, adminToken, 'alice');
  alice = { ...computeOf(c, a.token), project: a.id, token: a.token };
  const b = await makeProject(c, adminToken, 'bob');
  bob = { project: b.id, token: b.token };
  image = await rawImage(c, adminToken);
  tiny = await computeOf(c, adminToken).flavor('tiny', 128, 1, 2);
  // Room for the servers of every test here.
  const room = await c.request('PUT', `/compute/v2.1/os-quota-sets/${a.id}`, { token: adminToken, body: { quota_set: { instances: 50, cores: 100 } } });
  assert.equal(room.status, 200);
});
after(() => c?.stop());

/** Boots a server for alice with the group hint, and waits until it is ACTIVE or ERROR. */
async function bootInGroup(name: string, group: string) {
  const res = await at(alice.token, '2.1', 'POST', '/servers', {
    server: { name, imageRef: image, flavorRef: tiny },
    'os:scheduler_hints': { group },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const id = res.body.server.id as string;
  return alice.until(id, (s) => (s?.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null) || s?.status === 'ERROR');
}

test('server groups: each microversion creates and shows its shape; policies and rules are checked', async () => {
  const old = await at(alice.token, '2.1', 'POST', '/os-server-groups', { server_group: { name: 'g21', policies: ['affinity'] } });
  assert.equal(old.status, 200, JSON.stringify(old.body));
  assertSchema(S.serverGroupBody('2.1'), old.body);
  assert.deepEqual(old.body.server_group.policies, ['affinity']);

  assert.equal(
    (await at(alice.token, '2.14', 'POST', '/os-server-groups', { server_group: { name: 'x', policies: ['soft-affinity'] } })).status,
    400,
    'soft policies came with 2.15',
  );
  const soft = await at(alice.token, '2.15', 'POST', '/os-server-groups', { server_group: { name: 'g215', policies: ['soft-anti-affinity'] } });
  assertSchema(S.serverGroupBody('2.15'), soft.body);
  assert.equal(soft.body.server_group.project_id, alice.project);

  const modern = await at(alice.token, '2.64', 'POST', '/os-server-groups', {
    server_group: { name: 'g264', policy: 'anti-affinity', rules: { max_server_per_host: 2 } },
  });
  assert.equal(modern.status, 200, JSON.stringify(modern.body));
  assertSchema(S.serverGroupBody('2.64'), modern.body);
  assert.deepEqual(modern.body.server_group.rules, { max_server_per_host: 2 });
  assert.equal((await at(alice.token, '2.64', 'POST', '/os-server-groups', { server_group: { name: 'x', policies: ['affinity'] } })).status, 400);
  assert.equal(
    (await at(alice.token, '2.64', 'POST', '/os-server-groups', { server_group: { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } } })).status,
    400,
    'only anti-affinity takes rules',
  );

  // The same group at each version: policies before 2.64, policy and rules from then on.
  const id = modern.body.server_group.id;
  assertSchema(S.serverGroupBody('2.1'), (await admin('2.1', 'GET', `/os-server-groups/${id}`)).body);
  assert.deepEqual((await at(alice.token, '2.1', 'GET', `/os-server-groups/${id}`)).body.server_group.policies, ['anti-affinity']);
  const list = await at(alice.token, '2.64', 'GET', '/os-server-groups');
  assertSchema(S.serverGroupList('2.64'), list.body);
  assert.equal(list.body.server_groups.length, 3);
  assert.equal((await at(bob.token, '2.64', 'GET', `/os-server-groups/${id}`)).status, 404, "another project's group");
  assert.equal((await at(bob.token, '2.64', 'GET', '/os-server-groups?all_projects=true')).body.server_groups.length, 0, 'all_projects is for the admin');
  assert.equal((await admin('2.64', 'GET', '/os-server-groups?all_projects=true')).body.server_groups.length, 3);
  assert.equal((await admin('2.64', 'GET', '/os-server-groups?all_projects=true&limit=1&offset=1')).body.server_groups.length, 1);

  for (const g of list.body.server_groups) assert.equal((await at(alice.token, '2.64', 'DELETE', `/os-server-groups/${g.id}`)).status, 204);
  assert.equal((await at(alice.token, '2.64', 'GET', '/os-server-groups')).body.server_groups.length, 0);
});

test('anti-affinity on one host: the second member fails with No valid host; affinity and soft policies place them all', async () => {
  const anti = (await at(alice.token, '2.64', 'POST', '/os-server-groups', { server_group: { name: 'apart', policy: 'anti-affinity' } })).body.server_group;
  const first = await bootInGroup('apart-1', anti.id);
  assert.equal(first.status, 'ACTIVE');
  const second = await bootInGroup('apart-2', anti.id);
  assert.equal(second.status, 'ERROR');
  assert.match(second.fault.message, /^No valid host was found/);
  const members = (await at(alice.token, '2.64', 'GET', `/os-server-groups/${anti.id}`)).body.server_group.members;
  assert.deepEqual(members.sort(), [first.id, second.id].sort(), 'both are members, as in Nova');

  // max_server_per_host lets two share the host; the third fails.
  const two = (
    await at(alice.token, '2.64', 'POST', '/os-server-groups', { server_group: { name: 'two', policy: 'anti-affinity', rules: { max_server_per_host: 2 } } })
  ).body.server_group;
  assert.equal((await bootInGroup('two-1', two.id)).status, 'ACTIVE');
  assert.equal((await bootInGroup('two-2', two.id)).status, 'ACTIVE');
  assert.equal((await bootInGroup('two-3', two.id)).status, 'ERROR');

  const together = (await at(alice.token, '2.1', 'POST', '/os-server-groups', { server_group: { name: 'together', policies: ['affinity'] } })).body
    .server_group;
  const a = await bootInGroup('together-1', together.id);
  const b = await bootInGroup('together-2', together.id);
  assert.equal(a.status, 'ACTIVE');
  assert.equal(b.status, 'ACTIVE');
  assert.equal(a.hostId, b.hostId, 'on the same host');
  const soft = (await at(alice.token, '2.15', 'POST', '/os-server-groups', { server_group: { name: 'soft', policies: ['soft-anti-affinity'] } })).body
    .server_group;
  assert.equal((await bootInGroup('soft-1', soft.id)).status, 'ACTIVE');
  assert.equal((await bootInGroup('soft-2', soft.id)).status, 'ACTIVE', 'a soft policy only orders the hosts');

  // 2.71 shows the server's group on GET, and not in the list's details.
  const shown = await at(alice.token, '2.71', 'GET', `/servers/${a.id}`);
  assertSchema(serverSchema('2.71', 'show', false), shown.body.server);
  assert.deepEqual(shown.body.server.server_groups, [together.id]);
  assert.equal((await at(alice.token, '2.70', 'GET', `/servers/${a.id}`)).body.server.server_groups, undefined);

  const bad = await at(alice.token, '2.1', 'POST', '/servers', {
    server: { name: 'x', imageRef: image, flavorRef: tiny },
    'os:scheduler_hints': { group: 'not-a-uuid' },
  });
  assert.equal(bad.status, 400);
  const unknown = await at(alice.token, '2.1', 'POST', '/servers', {
    server: { name: 'x', imageRef: image, flavorRef: tiny },
    'os:scheduler_hints': { group: '9e9d3c6a-1111-4222-8333-944455556666' },
  });
  assert.equal(unknown.status, 400);
});

test('quotas on server groups and their members, in quota show and limits', async () => {
  const used = (await at(alice.token, '2.57', 'GET', '/limits')).body.limits.absolute;
  assertSchema(limitsSchema('2.57'), (await at(alice.token, '2.57', 'GET', '/limits')).body);
  const groups = (await at(alice.token, '2.64', 'GET', '/os-server-groups')).body.server_groups.length;
  assert.equal(used.totalServerGroupsUsed, groups);
  assert.ok(used.totalInstancesUsed >= 9 && used.totalCoresUsed === used.totalInstancesUsed * 2, JSON.stringify(used));
  const detail = (await admin('2.57', 'GET', `/os-quota-sets/${alice.project}/detail`)).body.quota_set;
  assert.equal(detail.server_groups.in_use, groups);

  assert.equal((await admin('2.57', 'PUT', `/os-quota-sets/${alice.project}`, { quota_set: { server_groups: groups, server_group_members: 1 } })).status, 200);
  const over = await at(alice.token, '2.64', 'POST', '/os-server-groups', { server_group: { name: 'one-too-many', policy: 'affinity' } });
  assert.equal(over.status, 403);
  assert.match(over.body.forbidden.message, /too many server groups/);
  const one = (await at(alice.token, '2.64', 'GET', '/os-server-groups')).body.server_groups.find((g: any) => g.name === 'soft');
  const full = await at(alice.token, '2.1', 'POST', '/servers', {
    server: { name: 'x', imageRef: image, flavorRef: tiny },
    'os:scheduler_hints': { group: one.id },
  });
  assert.equal(full.status, 403, JSON.stringify(full.body));
  assert.match(full.body.forbidden.message, /too many servers in group/);
  assert.equal((await admin('2.57', 'PUT', `/os-quota-sets/${alice.project}`, { quota_set: { server_groups: 10, server_group_members: 10 } })).status, 200);
});

test('os-services: list at each microversion, disable with a reason (the scheduler skips the host), enable, force down, delete', async () => {
  for (const v of ['2.1', '2.11', '2.53', '2.69']) assertSchema(S.serviceList(v), (await admin(v, 'GET', '/os-services')).body);
  const services = (await admin('2.53', 'GET', '/os-services')).body.services;
  assert.deepEqual(services.map((s: any) => s.binary).sort(), ['nova-compute', 'nova-scheduler']);
  const compute = services.find((s: any) => s.binary === 'nova-compute');
  assert.equal(compute.zone, 'nova');
  assert.equal(services.find((s: any) => s.binary === 'nova-scheduler').zone, 'internal');
  assert.equal((await at(alice.token, '2.53', 'GET', '/os-services')).status, 403);
  assert.equal((await admin('2.1', 'GET', '/os-services?binary=nova-compute')).body.services.length, 1);

  const off = await admin('2.1', 'PUT', '/os-services/disable-log-reason', { host: compute.host, binary: 'nova-compute', disabled_reason: 'maintenance' });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  assert.deepEqual(off.body.service, { host: compute.host, binary: 'nova-compute', status: 'disabled', disabled_reason: 'maintenance' });
  const refused = await alice.create({ name: 'while-disabled', imageRef: image, flavorRef: tiny });
  assert.match((await alice.until(refused, (s) => s?.status === 'ERROR')).fault.message, /^No valid host was found/);
  const hyp = (await admin('2.53', 'GET', '/os-hypervisors')).body.hypervisors[0];
  assert.equal(hyp.status, 'disabled');

  const on = await admin('2.53', 'PUT', `/os-services/${compute.id}`, { status: 'enabled' });
  assertSchema(S.service('2.53'), on.body.service);
  assert.equal(on.body.service.status, 'enabled');
  assert.equal(on.body.service.disabled_reason, null);
  assert.equal((await admin('2.53', 'PUT', `/os-services/${compute.id}`, { status: 'enabled', disabled_reason: 'x' })).status, 400);
  const down = await admin('2.53', 'PUT', `/os-services/${compute.id}`, { forced_down: true });
  assert.equal(down.body.service.state, 'down');
  assert.equal((await admin('2.53', 'GET', '/os-hypervisors')).body.hypervisors[0].state, 'down');
  assert.equal(
    (await admin('2.11', 'PUT', '/os-services/force-down', { host: compute.host, binary: 'nova-compute', forced_down: false })).body.service.forced_down,
    false,
  );
  assert.equal(
    (await admin('2.1', 'PUT', '/os-services/force-down', { host: compute.host, binary: 'nova-compute', forced_down: false })).status,
    400,
    'force-down came with 2.11',
  );
  const ok = await alice.create({ name: 'after-enable', imageRef: image, flavorRef: tiny });
  await alice.settled(ok, 'ACTIVE');

  assert.equal((await admin('2.53', 'DELETE', `/os-services/${compute.id}`)).status, 409, 'it hosts servers');
  assert.equal((await admin('2.53', 'DELETE', '/os-services/00000000-0000-4000-8000-000000000000')).status, 404);
});

test('os-hypervisors: the host resources and what its servers use, at each microversion', async () => {
  const [h] = (await admin('2.1', 'GET', '/os-hypervisors/detail')).body.hypervisors;
  const mine = (await admin('2.1', 'GET', '/servers/detail?all_tenants=1')).body.servers.filter(
    (s: any) => s['OS-EXT-SRV-ATTR:host'] === h.hypervisor_hostname,
  );
  assert.equal(h.running_vms, mine.length);
  assert.equal(h.vcpus_used, mine.length * 2, 'two vCPUs per server of the tiny flavor');
  assert.equal(h.local_gb_used, mine.length);
  assert.equal(h.memory_mb_used - 512, mine.length * 128, "the host's reserved memory counts as used, as in Nova");
  assert.equal(h.free_ram_mb, h.memory_mb - h.memory_mb_used);
  assert.equal(h.vcpus, 10_000, "the fake driver's host");
  assert.equal(h.hypervisor_type, 'fake');

  for (const v of ['2.1', '2.28', '2.33', '2.53', '2.87', '2.88', '2.93']) {
    assertSchema(S.hypervisorList(v), (await admin(v, 'GET', '/os-hypervisors')).body, `list at ${v}`);
    const detail = await admin(v, 'GET', '/os-hypervisors/detail');
    assertSchema(S.hypervisorDetailList(v), detail.body, `detail at ${v}`);
    const id = detail.body.hypervisors[0].id;
    assertSchema(S.hypervisorDetail(v), (await admin(v, 'GET', `/os-hypervisors/${id}`)).body.hypervisor, `show at ${v}`);
    const stats = await admin(v, 'GET', '/os-hypervisors/statistics');
    if (v === '2.88' || v === '2.93') assert.equal(stats.status, 404, 'statistics went with 2.88');
    else assertSchema(S.hypervisorStatistics, stats.body);
  }
  const stats = (await admin('2.1', 'GET', '/os-hypervisors/statistics')).body.hypervisor_statistics;
  assert.equal(stats.count, 1);
  assert.equal(stats.vcpus_used, h.vcpus_used);

  const withServers = (await admin('2.53', 'GET', '/os-hypervisors?with_servers=true')).body.hypervisors[0];
  assert.deepEqual(withServers.servers.map((s: any) => s.uuid).sort(), mine.map((s: any) => s.id).sort());
  assert.equal((await admin('2.53', 'GET', `/os-hypervisors?hostname_pattern=${h.hypervisor_hostname.slice(0, 3)}`)).body.hypervisors.length, 1);
  assert.equal((await admin('2.53', 'GET', '/os-hypervisors?hostname_pattern=nomatch')).status, 404);
  assert.equal((await admin('2.1', 'GET', `/os-hypervisors/${h.hypervisor_hostname}/search`)).body.hypervisors.length, 1);
  assert.equal((await admin('2.1', 'GET', `/os-hypervisors/${h.hypervisor_hostname}/servers`)).body.hypervisors[0].servers.length, mine.length);
  assert.equal((await admin('2.53', 'GET', `/os-hypervisors/${h.hypervisor_hostname}/search`)).status, 404, 'search went with 2.53');
  assert.equal((await admin('2.53', 'GET', `/os-hypervisors/${h.id}`)).status, 400, 'an integer id at 2.53');
  const uptime = await admin('2.1', 'GET', `/os-hypervisors/${h.id}/uptime`);
  assert.match(uptime.body.hypervisor.uptime, /up .* load average: /);
  const page = await admin('2.33', 'GET', '/os-hypervisors?limit=1');
  assert.equal(page.body.hypervisors.length, 1);
  assert.equal((await admin('2.33', 'GET', `/os-hypervisors?marker=${h.id}`)).body.hypervisors.length, 0);
  assert.equal((await at(alice.token, '2.1', 'GET', '/os-hypervisors')).status, 403);
});

test('availability zones and aggregates: a zone made by an aggregate takes servers that ask for it', async () => {
  assertSchema(S.zoneList(false), (await at(alice.token, '2.1', 'GET', '/os-availability-zone')).body);
  assert.deepEqual((await at(alice.token, '2.1', 'GET', '/os-availability-zone')).body.availabilityZoneInfo, [
    { zoneName: 'nova', zoneState: { available: true }, hosts: null },
  ]);
  assert.equal((await at(alice.token, '2.1', 'GET', '/os-availability-zone/detail')).status, 403);
  const detail = (await admin('2.1', 'GET', '/os-availability-zone/detail')).body;
  assertSchema(S.zoneList(true), detail);
  assert.deepEqual(detail.availabilityZoneInfo.map((z: any) => z.zoneName).sort(), ['internal', 'nova']);
  const host = (await admin('2.1', 'GET', '/os-hypervisors')).body.hypervisors[0].hypervisor_hostname;

  const made = await admin('2.41', 'POST', '/os-aggregates', { aggregate: { name: 'rack1', availability_zone: 'az1' } });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assertSchema(S.aggregate('2.41', true), made.body.aggregate);
  const id = made.body.aggregate.id;
  assert.equal((await admin('2.41', 'POST', '/os-aggregates', { aggregate: { name: 'rack1' } })).status, 409);
  const added = await admin('2.41', 'POST', `/os-aggregates/${id}/action`, { add_host: { host } });
  assertSchema(S.aggregate('2.41'), added.body.aggregate);
  assert.deepEqual(added.body.aggregate.hosts, [host]);
  assert.equal((await admin('2.41', 'POST', `/os-aggregates/${id}/action`, { add_host: { host: 'nohost' } })).status, 404);
  const meta = await admin('2.1', 'POST', `/os-aggregates/${id}/action`, { set_metadata: { metadata: { ssd: 'true' } } });
  assertSchema(S.aggregate('2.1'), meta.body.aggregate);
  assert.deepEqual(meta.body.aggregate.metadata, { availability_zone: 'az1', ssd: 'true' });

  assert.deepEqual(
    (await at(alice.token, '2.1', 'GET', '/os-availability-zone')).body.availabilityZoneInfo.map((z: any) => z.zoneName),
    ['az1'],
  );
  const inZone = await alice.create({ name: 'in-az1', imageRef: image, flavorRef: tiny, availability_zone: 'az1' });
  assert.equal((await alice.settled(inZone, 'ACTIVE'))['OS-EXT-AZ:availability_zone'], 'az1');
  const anyZone = await alice.create({ name: 'any-zone', imageRef: image, flavorRef: tiny });
  assert.equal((await alice.settled(anyZone, 'ACTIVE'))['OS-EXT-AZ:availability_zone'], 'az1', 'the zone of the host it was placed on');
  const wrong = await alice.call('POST', '/servers', { server: { name: 'in-nova', imageRef: image, flavorRef: tiny, availability_zone: 'nova' } });
  assert.equal(wrong.status, 400, 'no host is left in nova');
  assert.equal((await admin('2.1', 'GET', '/os-services')).body.services.find((s: any) => s.binary === 'nova-compute').zone, 'az1');

  assert.equal((await admin('2.1', 'DELETE', `/os-aggregates/${id}`)).status, 400, 'it has a host');
  assert.deepEqual((await admin('2.1', 'POST', `/os-aggregates/${id}/action`, { remove_host: { host } })).body.aggregate.hosts, []);
  assert.equal((await admin('2.1', 'DELETE', `/os-aggregates/${id}`)).status, 200);
  assert.equal((await admin('2.1', 'GET', '/os-aggregates')).body.aggregates.length, 0);
  assert.equal((await at(alice.token, '2.1', 'GET', '/os-aggregates')).status, 403);
});

test('os-simple-tenant-usage: hours of live and deleted servers over a period, per project and in detail', async () => {
  const start = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
  const end = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
  const gone = await alice.create({ name: 'short-lived', imageRef: image, flavorRef: tiny });
  await alice.settled(gone, 'ACTIVE');
  assert.equal((await alice.call('DELETE', `/servers/${gone}`)).status, 204);
  await alice.gone(gone);

  const all = await admin('2.1', 'GET', `/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1`);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assertSchema(S.usageList('2.1', true), all.body);
  const usage = all.body.tenant_usages.find((u: any) => u.tenant_id === alice.project);
  const deleted = usage.server_usages.find((s: any) => s.instance_id === gone);
  assert.equal(deleted.state, 'terminated');
  assert.ok(deleted.ended_at);
  assert.ok(usage.total_hours > 0);
  assert.ok(Math.abs(usage.total_vcpus_usage - usage.total_hours * 2) < 1e-6, 'two vCPUs per hour of each server');
  assertSchema(S.usageList('2.1', false), (await admin('2.1', 'GET', `/os-simple-tenant-usage?start=${start}&end=${end}`)).body);

  const own = await at(alice.token, '2.1', 'GET', `/os-simple-tenant-usage/${alice.project}?start=${start}&end=${end}`);
  assertSchema(S.usageShow('2.1'), own.body);
  assert.equal(own.body.tenant_usage.server_usages.length, usage.server_usages.length);
  assert.equal((await at(alice.token, '2.1', 'GET', `/os-simple-tenant-usage/${bob.project}?start=${start}&end=${end}`)).status, 403);
  // A project that used nothing: zero totals, which clients can print (Nova's empty object they cannot).
  const idle = (await at(bob.token, '2.1', 'GET', `/os-simple-tenant-usage/${bob.project}?start=${start}&end=${end}`)).body;
  assertSchema(S.usageShow('2.1'), idle);
  assert.deepEqual([idle.tenant_usage.tenant_id, idle.tenant_usage.total_memory_mb_usage, idle.tenant_usage.server_usages], [bob.project, 0, []]);
  assert.equal((await at(alice.token, '2.1', 'GET', `/os-simple-tenant-usage?start=${start}&end=${end}`)).status, 403);
  assert.equal((await admin('2.1', 'GET', `/os-simple-tenant-usage?start=${end}&end=${start}`)).status, 400);

  const paged = await admin('2.40', 'GET', `/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1&limit=2`);
  assertSchema(S.usageList('2.40', true), paged.body);
  assert.equal(paged.body.tenant_usages.flatMap((u: any) => u.server_usages).length, 2);
  assert.match(paged.body.tenant_usages_links[0].href, /marker=/);
});

test('os-quota-class-sets: the default class at each microversion, and new defaults for every project', async () => {
  for (const v of ['2.1', '2.50', '2.57']) assertSchema(S.quotaClass(v), (await admin(v, 'GET', '/os-quota-class-sets/default')).body, `at ${v}`);
  const set = await admin('2.57', 'PUT', '/os-quota-class-sets/default', { quota_class_set: { instances: 33 } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assertSchema(S.quotaClass('2.57', false), set.body);
  assert.equal((await admin('2.57', 'PUT', '/os-quota-class-sets/default', { quota_class_set: { fixed_ips: 1 } })).status, 400, 'gone at 2.50');
  assert.equal((await at(bob.token, '2.57', 'GET', '/limits')).body.limits.absolute.maxTotalInstances, 33);
  assert.equal((await admin('2.57', 'GET', `/os-quota-sets/${bob.project}/defaults`)).body.quota_set.instances, 33);
  assert.equal((await at(bob.token, '2.57', 'GET', '/os-quota-class-sets/default')).status, 403);
  await admin('2.57', 'PUT', '/os-quota-class-sets/default', { quota_class_set: { instances: 10 } });
});

test('os-migrations is empty; os-server-external-events answers each event', async () => {
  for (const v of ['2.1', '2.59', '2.80']) assert.deepEqual((await admin(v, 'GET', '/os-migrations')).body, { migrations: [] });
  assert.equal((await at(alice.token, '2.1', 'GET', '/os-migrations')).status, 403);

  const id = (await alice.call('GET', '/servers?name=^after-enable$')).body.servers[0].id;
  const missing = '00000000-0000-4000-8000-000000000001';
  const one = await admin('2.1', 'POST', '/os-server-external-events', { events: [{ name: 'network-changed', server_uuid: id }] });
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assertSchema(S.externalEvents, one.body);
  assert.deepEqual(one.body.events, [{ name: 'network-changed', server_uuid: id, status: 'completed', code: 200 }]);
  const mixed = await admin('2.1', 'POST', '/os-server-external-events', {
    events: [
      { name: 'network-vif-plugged', server_uuid: id, tag: 'port-1' },
      { name: 'network-vif-plugged', server_uuid: missing, tag: 'port-2' },
    ],
  });
  assert.equal(mixed.status, 207);
  assert.deepEqual(
    mixed.body.events.map((e: any) => [e.code, e.status]),
    [
      [200, 'completed'],
      [404, 'failed'],
    ],
  );
  assert.equal((await admin('2.1', 'POST', '/os-server-external-events', { events: [{ name: 'network-changed', server_uuid: missing }] })).status, 404);
  assert.equal((await admin('2.1', 'POST', '/os-server-external-events', { events: [{ name: 'volume-reimaged', server_uuid: id }] })).status, 400);
  assert.equal((await admin('2.93', 'POST', '/os-server-external-events', { events: [{ name: 'volume-reimaged', server_uuid: id, tag: 'v' }] })).status, 200);
  const power = await admin('2.76', 'POST', '/os-server-external-events', {
    events: [
      { name: 'power-update', server_uuid: id, tag: 'POWER_ON' },
      { name: 'power-update', server_uuid: id, tag: 'SLEEP' },
    ],
  });
  assert.equal(power.status, 207);
  assert.deepEqual(
    power.body.events.map((e: any) => e.code),
    [200, 400],
  );
  assert.equal((await at(alice.token, '2.1', 'POST', '/os-server-external-events', { events: [{ name: 'network-changed', server_uuid: id }] })).status, 403);
});

test("Horizon's instance list and overview calls are answered as Nova answers them", async () => {
  const member = alice.token;
  const start = new Date(Date.now() - 86_400_000).toISOString().slice(0, 19);
  const end = new Date().toISOString().slice(0, 19);
  // The project's instance page: sort keys repeated, as novaclient sends Horizon's list.
  const list = await at(
    member,
    '2.1',
    'GET',
    '/servers/detail?limit=21&project_id=' + alice.project + '&sort_key=display_name&sort_key=uuid&sort_dir=asc&sort_dir=asc',
  );
  assert.equal(list.status, 200, JSON.stringify(list.body));
  assertSchema(serverDetailList('2.1', false), list.body);
  const names = list.body.servers.map((s: any) => s.name);
  assert.deepEqual(names, [...names].sort(), 'by name');
  assertSchema(flavorDetailList('2.1', true), (await at(member, '2.1', 'GET', '/flavors/detail')).body);
  assertSchema(S.zoneList(false), (await at(member, '2.1', 'GET', '/os-availability-zone')).body);
  assertSchema(S.serverGroupList('2.1'), (await at(member, '2.1', 'GET', '/os-server-groups')).body);
  assertSchema(limitsSchema('2.1'), (await at(member, '2.1', 'GET', '/limits')).body);
  // The project overview's usage chart.
  assertSchema(S.usageShow('2.1'), (await at(member, '2.1', 'GET', `/os-simple-tenant-usage/${alice.project}?start=${start}&end=${end}`)).body);

  // The admin's overview and hypervisor pages.
  assertSchema(serverDetailList('2.1', true), (await admin('2.1', 'GET', '/servers/detail?all_tenants=True&limit=21&sort_key=created_at&sort_dir=desc')).body);
  assertSchema(S.usageList('2.1', true), (await admin('2.1', 'GET', `/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1`)).body);
  assertSchema(S.hypervisorDetailList('2.1'), (await admin('2.1', 'GET', '/os-hypervisors/detail')).body);
  assertSchema(S.hypervisorStatistics, (await admin('2.1', 'GET', '/os-hypervisors/statistics')).body);
  assertSchema(S.serviceList('2.1'), (await admin('2.1', 'GET', '/os-services')).body);
  assertSchema(S.zoneList(true), (await admin('2.1', 'GET', '/os-availability-zone/detail')).body);
  assertSchema(S.serverGroupList('2.1'), (await admin('2.1', 'GET', '/os-server-groups?all_projects=True')).body);
  assertSchema(limitsSchema('2.1'), (await admin('2.1', 'GET', '/limits')).body);
});
