import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminEnv, nubo, openstack, startTestCloud, type TestCloud } from '../helpers/cloud.ts';

// nubo's host-level compute commands (services, hypervisors, availability zones, aggregates) and
// server groups, judged by the real openstack CLI against one cloud with the fake hypervisor: for
// the same arguments, both print the same.

let cloud: TestCloud;
let admin: Record<string, string>;

before(async () => {
  // Heartbeats an hour apart: a service's Updated At must not move between the two CLIs' calls.
  cloud = await startTestCloud({ computeDriver: 'fake', env: { NUBO_REPORT_INTERVAL: '3600', NUBO_SERVICE_DOWN_TIME: '7200' } });
  // Both at 2.1, as the rest of nubo's compute client speaks.
  admin = { ...adminEnv(cloud.url, cloud.cloud.credentials!.password), OS_COMPUTE_API_VERSION: '2.1' };
});
after(async () => {
  await cloud?.stop();
});

const run = async (cli: typeof openstack, ...args: string[]) => {
  const r = await cli(admin, ...args);
  assert.equal(r.code, 0, `${cli.name} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};

/** nubo prints exactly what openstack prints for the same arguments. */
async function same(...args: string[]) {
  const [mine, theirs] = await Promise.all([run(nubo, ...args), run(openstack, ...args)]);
  assert.equal(mine, theirs, `nubo ${args.join(' ')}`);
  return mine;
}

/** The command run by each CLI on its own resource (`{}` in args stands for its name): both print
 * the same but for the names and what `volatile` matches. */
async function sameEach(args: string[], volatile: RegExp[] = []) {
  const clean = (out: string, name: string) => volatile.reduce((s, re) => s.replace(re, '<v>'), out.replaceAll(name, '<name>'));
  const mine = await run(nubo, ...args.map((a) => a.replace('{}', 'mine')));
  const theirs = await run(openstack, ...args.map((a) => a.replace('{}', 'theirs')));
  assert.equal(clean(mine, 'mine'), clean(theirs, 'theirs'), `nubo ${args.join(' ')}`);
  return mine;
}

test('compute service list and set print and change what openstack does', async () => {
  for (const args of [
    ['compute', 'service', 'list'],
    ['compute', 'service', 'list', '--long', '-f', 'json'],
    ['compute', 'service', 'list', '--service', 'nova-compute'],
  ]) {
    await same(...args);
  }
  const computeHost = JSON.parse(await run(nubo, 'compute', 'service', 'list', '--service', 'nova-compute', '-f', 'json'))[0].Host as string;
  assert.equal(await run(nubo, 'compute', 'service', 'set', '--disable', '--disable-reason', 'maintenance', computeHost, 'nova-compute'), '');
  const disabled = JSON.parse(await same('compute', 'service', 'list', '--long', '--service', 'nova-compute', '-f', 'json'));
  assert.deepEqual([disabled[0].Status, disabled[0]['Disabled Reason']], ['disabled', 'maintenance']);
  await run(nubo, 'compute', 'service', 'set', '--enable', computeHost, 'nova-compute');
  assert.equal(JSON.parse(await same('compute', 'service', 'list', '--service', 'nova-compute', '-f', 'json'))[0].Status, 'enabled');
});

test('hypervisor list, show and stats show print what openstack prints', async () => {
  await same('hypervisor', 'list');
  await same('hypervisor', 'list', '--long', '-f', 'json');
  await same('hypervisor', 'stats', 'show');
  await same('hypervisor', 'stats', 'show', '-f', 'yaml');
  const [h] = JSON.parse(await run(nubo, 'hypervisor', 'list', '-f', 'json'));
  // The host's clock and load move between the two commands: the rest must match.
  const steady = ['-c', 'id', '-c', 'cpu_info', '-c', 'aggregates', '-c', 'hypervisor_hostname', '-c', 'service_host', '-c', 'vcpus', '-c', 'memory_mb'];
  await same('hypervisor', 'show', String(h.ID), ...steady);
  await same('hypervisor', 'show', h['Hypervisor Hostname'], '-f', 'json', ...steady);
  const all = JSON.parse(await run(nubo, 'hypervisor', 'show', String(h.ID), '-f', 'json'));
  assert.ok(
    ['host_time', 'uptime', 'load_average', 'users', 'service_id'].every((k) => k in all),
    Object.keys(all).join(' '),
  );
});

test('aggregate create, set, add and remove host, list, show and delete print what openstack prints', async () => {
  // Tables are compared where both CLIs show the same resource; their own resources, in JSON or YAML.
  const stamps = [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+/g, /id": \d+/g, /\nid: \d+/g];
  await sameEach(['aggregate', 'create', '--zone', 'z1', '--property', 'a=b', '{}', '-f', 'yaml'], stamps);
  await sameEach(['aggregate', 'create', '--zone', 'z1', '--property', 'a=b', 'x{}', '-f', 'json'], stamps);
  await sameEach(['aggregate', 'set', '--property', 'c=d', '--name', '{}2', '{}']);
  await sameEach(['aggregate', 'set', '--no-property', '--property', 'e=f', 'x{}']);
  const compute = JSON.parse(await run(nubo, 'compute', 'service', 'list', '--service', 'nova-compute', '-f', 'json'))[0].Host as string;
  await sameEach(['aggregate', 'add', 'host', '{}2', compute, '-f', 'json'], stamps);
  await sameEach(['aggregate', 'show', '{}2', '-f', 'yaml'], stamps);
  await same('aggregate', 'show', 'xmine');
  await same('aggregate', 'show', 'theirs2', '-f', 'shell');
  await same('aggregate', 'list');
  await same('aggregate', 'list', '--long', '-f', 'json');
  // The hypervisor shows the aggregates of its host.
  assert.deepEqual(JSON.parse(await same('hypervisor', 'show', compute, '-f', 'json', '-c', 'aggregates')).aggregates, ['mine2', 'theirs2']);
  await same('availability', 'zone', 'list', '--compute', '--long');
  await sameEach(['aggregate', 'remove', 'host', '{}2', compute, '-f', 'json'], stamps);
  await sameEach(['aggregate', 'delete', '{}2', 'x{}']);
  assert.equal(await same('aggregate', 'list', '-f', 'value'), '');
  const [mine, theirs] = await Promise.all([nubo(admin, 'aggregate', 'delete', 'nope'), openstack(admin, 'aggregate', 'delete', 'nope')]);
  assert.equal(mine.code, 1);
  assert.equal(mine.stderr, theirs.stderr.replace(/\n(?=[^\n]+\n$)/, '\nnubo: '));
});

test('availability zone list prints what openstack prints', async () => {
  for (const args of [[], ['--long'], ['--compute'], ['--volume', '--long'], ['--network', '-f', 'json'], ['--compute', '--long', '-f', 'yaml']]) {
    await same('availability', 'zone', 'list', ...args);
  }
});

test('server group create, list, show and delete print what openstack prints', async () => {
  const ids = [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g];
  await sameEach(['server', 'group', 'create', '--policy', 'anti-affinity', '{}', '-f', 'yaml'], ids);
  await sameEach(['server', 'group', 'create', '{}-a', '-f', 'json'], ids);
  await sameEach(['server', 'group', 'show', '{}', '-f', 'yaml'], ids);
  await same('server', 'group', 'list');
  await same('server', 'group', 'list', '--long', '-f', 'json');
  await same('server', 'group', 'list', '--all-projects');
  await same('server', 'group', 'show', 'mine');
  const soft = await nubo(admin, 'server', 'group', 'create', '--policy', 'soft-affinity', 'soft');
  assert.equal(soft.stderr, 'nubo: --os-compute-api-version 2.15 or greater is required to support the soft-affinity policy\n');
  await sameEach(['server', 'group', 'delete', '{}', '{}-a']);
  assert.equal(await same('server', 'group', 'list', '-f', 'value'), '');
});
