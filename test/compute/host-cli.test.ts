import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminEnv, cliAs, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { computeOf, rawImage } from './helpers.ts';

// The openstack CLI's server group, compute service, hypervisor, availability zone, aggregate and
// usage commands against a cloud in this process, on the fake driver's one host.
let c: TestCloud;
let env: Record<string, string>;
let host: string;
before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  env = adminEnv(c.url, c.cloud.credentials!.password);
  const token = await c.adminToken();
  const api = computeOf(c, token);
  const image = await rawImage(c, token);
  const flavor = await api.flavor('small', 256, 1, 2);
  await api.settled(await api.create({ name: 'busy', imageRef: image, flavorRef: flavor }), 'ACTIVE');
  host = (await api.call('GET', '/os-hypervisors')).body.hypervisors[0].hypervisor_hostname;
});
after(() => c?.stop());

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('server group create, list, show, delete', async () => {
  const made = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'apart');
  assert.equal(made.name, 'apart');
  assert.match(JSON.stringify(made), /anti-affinity/);
  const listed = await json('server', 'group', 'list');
  assert.deepEqual(
    listed.map((g: any) => g.Name),
    ['apart'],
  );
  const shown = await json('server', 'group', 'show', 'apart');
  assert.equal(shown.id, made.id);
  await ok('server', 'group', 'delete', 'apart');
  assert.deepEqual(await json('server', 'group', 'list'), []);
});

test('server create --hint group=: anti-affinity on the one host fails the second member with No valid host', async () => {
  const group = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'spread');
  // Two servers of one request, both members: the first placed, the second refused.
  await ok(
    '--os-compute-api-version',
    '2.37',
    'server',
    'create',
    '--image',
    'raw',
    '--flavor',
    'small',
    '--nic',
    'none',
    '--hint',
    `group=${group.id}`,
    '--min',
    '2',
    '--max',
    '2',
    'spread',
  );
  const api = computeOf(c, await c.adminToken());
  const ids = (await api.call('GET', '/servers?name=^spread-')).body.servers.map((s: any) => s.id);
  assert.equal(ids.length, 2);
  const seen = await Promise.all(
    ids.map((id: string) => api.until(id, (s) => (s?.status === 'ACTIVE' && !s['OS-EXT-STS:task_state']) || s?.status === 'ERROR')),
  );
  assert.deepEqual(seen.map((s) => s.status).sort(), ['ACTIVE', 'ERROR']);
  assert.match(seen.find((s) => s.status === 'ERROR')!.fault.message, /^No valid host was found/);
  assert.deepEqual((await json('server', 'group', 'show', 'spread')).members.sort(), [...ids].sort());
  await ok('server', 'delete', ...ids);
  for (const id of ids) await api.gone(id);
  await ok('server', 'group', 'delete', 'spread');
});

test('compute service list and set --disable/--enable', async () => {
  const services = await json('compute', 'service', 'list');
  const compute = services.find((s: any) => s.Binary === 'nova-compute');
  assert.equal(compute.Host, host);
  assert.equal(compute.Status, 'enabled');
  assert.equal(compute.State, 'up');
  assert.equal(compute.Zone, 'nova');
  await ok('compute', 'service', 'set', '--disable', '--disable-reason', 'maintenance', host, 'nova-compute');
  const off = (await json('compute', 'service', 'list', '--long')).find((s: any) => s.Binary === 'nova-compute');
  assert.equal(off.Status, 'disabled');
  assert.equal(off['Disabled Reason'], 'maintenance');
  await ok('compute', 'service', 'set', '--enable', host, 'nova-compute');
  assert.equal((await json('compute', 'service', 'list')).find((s: any) => s.Binary === 'nova-compute').Status, 'enabled');
});

test('hypervisor list, show and stats', async () => {
  const [h] = await json('hypervisor', 'list');
  assert.equal(h['Hypervisor Hostname'], host);
  assert.equal(h.State, 'up');
  // The usage fields left the hypervisor at 2.88: the 2.87 view has them.
  const shown = await json('--os-compute-api-version', '2.87', 'hypervisor', 'show', host);
  assert.equal(shown.vcpus_used, 2);
  assert.equal(shown.running_vms, 1);
  assert.equal(shown.memory_mb_used, 256 + 512);
  const stats = await json('--os-compute-api-version', '2.87', 'hypervisor', 'stats', 'show');
  assert.equal(stats.count, 1);
  assert.equal(stats.vcpus_used, 2);
});

test('availability zone list, aggregate create with a zone, add host and show', async () => {
  // The admin reads the detailed list, which has the internal zone of the other services, as Nova's.
  const zones = await json('availability', 'zone', 'list', '--compute');
  assert.deepEqual(zones.map((z: any) => [z['Zone Name'], z['Zone Status']]).sort(), [
    ['internal', 'available'],
    ['nova', 'available'],
  ]);
  const agg = await json('aggregate', 'create', '--zone', 'az1', 'rack1');
  assert.equal(agg.availability_zone, 'az1');
  await ok('aggregate', 'add', 'host', 'rack1', host);
  const shown = await json('aggregate', 'show', 'rack1');
  assert.deepEqual(shown.hosts, [host]);
  assert.equal(shown.availability_zone, 'az1');
  const long = await json('availability', 'zone', 'list', '--compute', '--long');
  assert.ok(
    long.some((z: any) => z['Zone Name'] === 'az1' && z['Host Name'] === host && z['Service Name'] === 'nova-compute'),
    JSON.stringify(long),
  );
});

test('usage list and show', async () => {
  const start = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const end = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const list = await json('usage', 'list', '--start', start, '--end', end);
  // The JSON output lists the servers' usages where the table counts them.
  const count = (v: unknown) => (Array.isArray(v) ? v.length : v);
  // The running server and the deleted member of the group that ran; the refused one never did.
  assert.equal(list.length, 1);
  assert.equal(count(list[0].Servers), 2);
  const shown = await json('usage', 'show', '--project', 'admin', '--start', start, '--end', end);
  assert.equal(count(shown.Servers), 2);
  assert.ok(Number(shown['RAM MB-Hours']) > 0);
  // A period without usage prints zeros in the table (an empty answer failed: "must be real number, not str").
  const idle = await ok('usage', 'show', '--start', '2020-01-01', '--end', '2020-01-02');
  assert.match(idle, /\| Servers +\| 0 +\|\n\| RAM MB-Hours +\| 0\.0 +\|/);
});
