import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminEnv, nubo as nuboAs, openstack, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { rmSync } from 'node:fs';

// nubo's loadbalancer, metric and top commands against a cloud with fake compute and network
// data planes, judged by the real openstack CLI (python3-octaviaclient, python3-gnocchiclient):
// for the same arguments on the same objects, both print the same.
let c: TestCloud;
let admin: Record<string, string>;
let home: string;

const nubo = (...args: string[]) => nuboAs({ ...admin, HOME: home }, ...args);
const ok = async (...args: string[]) => {
  const r = await nubo(...args);
  assert.equal(r.code, 0, `nubo ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const osc = async (...args: string[]) => {
  const r = await openstack(admin, ...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

/** nubo prints exactly what openstack prints for the same arguments. */
async function same(...args: string[]) {
  const [mine, theirs] = await Promise.all([nubo(...args), openstack(admin, ...args)]);
  assert.equal(theirs.code, 0, `openstack ${args.join(' ')} failed: ${theirs.stderr}`);
  assert.equal(mine.code, 0, `nubo ${args.join(' ')} failed: ${mine.stderr}`);
  assert.equal(mine.stdout, theirs.stdout, `nubo ${args.join(' ')}`);
}

// Each CLI's request has its own ID.
const requestIdless = (s: string) => s.replace(/req-[0-9a-f-]+/g, 'req-…');

/** Both fail with the same message (the API's), nubo's prefixed with `nubo: `. */
async function sameFailure(...args: string[]) {
  const [mine, theirs] = await Promise.all([nubo(...args), openstack(admin, ...args)]);
  assert.equal(mine.code, 1, `nubo ${args.join(' ')} should fail: ${mine.stdout}`);
  assert.notEqual(theirs.code, 0, `openstack ${args.join(' ')} should fail`);
  assert.equal(requestIdless(mine.stderr), `nubo: ${requestIdless(theirs.stderr.trimEnd().split('\n').at(-1)!)}\n`, `nubo ${args.join(' ')}`);
  return mine.stderr;
}

before(async () => {
  c = await startTestCloud();
  admin = adminEnv(c.url, c.cloud.credentials!.password);
  home = tempDir('nubo-lb-home-');
  await osc('network', 'create', 'lbnet');
  await osc('subnet', 'create', '--network', 'lbnet', '--subnet-range', '10.9.0.0/24', 'lbsub');
});
after(async () => {
  await c?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

const WEB = '6f1d6a0e-0000-4000-8000-0000000000a1';
const IDLE = '6f1d6a0e-0000-4000-8000-0000000000a2';
const TAP = '6f1d6a0e-0000-4000-8000-0000000000b1';

// The two share the cloud and nothing else, so they run side by side: each spends much of its
// time waiting on the other CLI or on --wait.
describe('nubo loadbalancer, metric and top', { concurrency: 2 }, () => {
  test('loadbalancer: nubo builds a load balancer with --wait and prints what openstack prints of it', async () => {
    const made = await json('loadbalancer', 'create', '--name', 'web', '--vip-subnet-id', 'lbsub', '--wait');
    assert.equal(made.provisioning_status, 'ACTIVE');
    const listener = await json('loadbalancer', 'listener', 'create', '--name', 'http', '--protocol', 'http', '--protocol-port', '80', '--wait', 'web');
    assert.deepEqual([listener.provisioning_status, listener.loadbalancers], ['ACTIVE', made.id]);
    const pool = await json(
      'loadbalancer',
      'pool',
      'create',
      '--name',
      'p1',
      '--listener',
      'http',
      '--protocol',
      'HTTP',
      '--lb-algorithm',
      'ROUND_ROBIN',
      '--session-persistence',
      'type=SOURCE_IP',
      '--wait',
    );
    assert.equal(pool.session_persistence, 'type=SOURCE_IP');
    const [member] = await Promise.all([
      json(
        'loadbalancer',
        'member',
        'create',
        '--name',
        'm1',
        '--address',
        '10.9.0.10',
        '--subnet-id',
        'lbsub',
        '--protocol-port',
        '8080',
        '--weight',
        '3',
        '--wait',
        'p1',
      ),
      // Refused while the first member makes the load balancer PENDING_UPDATE, or made after it.
      nubo('loadbalancer', 'member', 'create', '--address', '10.9.0.11', '--protocol-port', '8080', 'p1'),
    ]);
    assert.equal(member.weight, 3);
    if ((await json('loadbalancer', 'member', 'list', 'p1')).length < 2)
      await ok('loadbalancer', 'member', 'create', '--address', '10.9.0.11', '--protocol-port', '8080', '--wait', 'p1');
    const monitor = await json(
      'loadbalancer',
      'healthmonitor',
      'create',
      '--name',
      'hm',
      '--delay',
      '5',
      '--timeout',
      '3',
      '--max-retries',
      '2',
      '--type',
      'HTTP',
      '--url-path',
      '/health',
      '--expected-codes',
      '200-204',
      '--wait',
      'p1',
    );
    assert.equal(monitor.provisioning_status, 'ACTIVE');

    // Every format of one show; one list as a table and as JSON; tables of the rest.
    for (const format of [[], ['-f', 'json'], ['-f', 'yaml'], ['-f', 'value']]) await same('loadbalancer', 'show', 'web', ...format);
    for (const format of [[], ['-f', 'json']]) await same('loadbalancer', 'member', 'list', 'p1', ...format);
    await same('loadbalancer', 'pool', 'show', 'p1', '-f', 'yaml');
    await same('loadbalancer', 'list');
    await same('loadbalancer', 'listener', 'show', 'http');
    await same('loadbalancer', 'listener', 'list', '--loadbalancer', 'web');
    await same('loadbalancer', 'pool', 'list');
    await same('loadbalancer', 'member', 'show', pool.id, member.id, '-f', 'json');
    await same('loadbalancer', 'healthmonitor', 'show', 'hm');
    await same('loadbalancer', 'list', '-c', 'name', '-c', 'provisioning_status', '--name', 'web');
    await same('loadbalancer', 'stats', 'show', 'web');
    await same('loadbalancer', 'listener', 'stats', 'show', 'http', '-f', 'json');
    await same('loadbalancer', 'status', 'show', 'web');
    await same('loadbalancer', 'provider', 'list');

    // set, and --wait until the change is ACTIVE again.
    assert.equal(await ok('loadbalancer', 'set', '--description', 'front door', '--tag', 'a', '--wait', 'web'), '');
    await ok('loadbalancer', 'listener', 'set', '--connection-limit', '100', '--description', 'port 80', '--wait', 'http');
    await ok('loadbalancer', 'member', 'set', '--weight', '7', '--disable', '--wait', 'p1', 'm1');
    await ok('loadbalancer', 'healthmonitor', 'set', '--delay', '9', '--max-retries-down', '4', '--wait', 'hm');
    const changed = await json('loadbalancer', 'show', 'web');
    assert.deepEqual([changed.description, changed.tags, changed.provisioning_status], ['front door', 'a', 'ACTIVE']);
    const l = await json('loadbalancer', 'listener', 'show', 'http');
    assert.deepEqual([l.connection_limit, l.description], [100, 'port 80']);
    const m1 = await json('loadbalancer', 'member', 'show', 'p1', 'm1');
    assert.deepEqual([m1.weight, m1.admin_state_up], [7, false]);
    assert.equal((await json('loadbalancer', 'healthmonitor', 'show', 'hm')).max_retries_down, 4);
    await same('loadbalancer', 'pool', 'show', 'p1');

    // Errors: the API's own message and a non-zero exit, as openstack prints them.
    await sameFailure('loadbalancer', 'listener', 'create', '--protocol', 'HTTP', '--protocol-port', '80', 'web');
    await sameFailure('loadbalancer', 'show', 'nothing-of-that-name');
    await sameFailure('loadbalancer', 'show', '00000000-0000-4000-8000-000000000000');
    await sameFailure('loadbalancer', 'member', 'create', '--address', '10.9.0.12', '--protocol-port', '99999', 'p1');

    // A failover prints nothing and, with --wait, returns once the load balancer is ACTIVE again.
    assert.equal(await ok('loadbalancer', 'failover', '--wait', 'web'), '');
    assert.equal((await json('loadbalancer', 'show', 'web')).provisioning_status, 'ACTIVE');

    // Deletes: a child's --wait until it is gone, then the load balancer's with --cascade.
    await ok('loadbalancer', 'member', 'delete', '--wait', 'p1', 'm1');
    assert.deepEqual(
      (await json('loadbalancer', 'member', 'list', 'p1')).map((m: { address: string }) => m.address),
      ['10.9.0.11'],
    );
    assert.equal(await ok('loadbalancer', 'delete', '--cascade', '--wait', 'web'), '');
    assert.deepEqual(await json('loadbalancer', 'list'), []);
    assert.deepEqual(await json('loadbalancer', 'pool', 'list'), []);
  });

  test('metric: resources, metrics, measures, archive policies and aggregates print as openstack metric prints them; top ranks what was posted', async () => {
    // Two servers and a port, measured as the collector names it, their measures posted through
    // the API a minute apart: web used 30 s of CPU in the minute, idle 0.6 s.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const at = (s: number) => new Date(now + s * 1000).toISOString();
    for (const [id, name, used] of [
      [WEB, 'web1', 30e9],
      [IDLE, 'idle1', 0.6e9],
    ] as const) {
      await osc('metric', 'resource', 'create', '--type', 'instance', id, '-a', 'host:h1', '-a', `display_name:${name}`, '-a', 'flavor_id:1', '-n', 'cpu:high');
      await osc(
        'metric',
        'measures',
        'add',
        '--resource-id',
        id,
        '-m',
        `${at(-120)}@1000000000`,
        '-m',
        `${at(-60)}@2000000000`,
        '-m',
        `${at(0)}@${2e9 + used}`,
        'cpu',
      );
    }
    await osc(
      'metric',
      'resource',
      'create',
      '--type',
      'instance_network_interface',
      TAP,
      '-a',
      'name:tap6f1d6a0e-00',
      '-a',
      `instance_id:${WEB}`,
      '-n',
      'network.incoming.bytes:high',
      '-n',
      'network.outgoing.bytes:high',
    );
    await osc('metric', 'measures', 'add', '--resource-id', TAP, '-m', `${at(-60)}@1000`, '-m', `${at(0)}@${1000 + 60 * 2048}`, 'network.incoming.bytes');
    await osc('metric', 'measures', 'add', '--resource-id', TAP, '-m', `${at(-60)}@0`, '-m', `${at(0)}@600`, 'network.outgoing.bytes');

    const cpu = (await json('metric', 'resource', 'show', WEB)).metrics.cpu as string;
    for (const format of [[], ['-f', 'json']]) {
      await same('metric', 'resource', 'list', '--type', 'instance', ...format);
      await same('metric', 'resource', 'show', WEB, ...format);
      await same('metric', 'archive-policy', 'list', ...format);
      await same('metric', 'measures', 'show', '--resource-id', WEB, 'cpu', ...format);
    }
    await same('metric', 'resource', 'list', '--type', 'instance_network_interface', '-f', 'yaml');
    await same('metric', 'resource', 'show', '--type', 'instance_network_interface', TAP, '-f', 'value');
    await same('metric', 'resource', 'search', '--type', 'instance', 'display_name=web1 or host=h2');
    await same('metric', 'list');
    await same('metric', 'show', cpu);
    await same('metric', 'show', '--resource-id', WEB, 'cpu', '-f', 'json');
    await same('metric', 'measures', 'show', cpu, '--aggregation', 'max', '--granularity', '60', '--start', at(-90), '--stop', at(0), '--utc');
    await same('metric', 'archive-policy', 'show', 'high');
    await same('metric', 'aggregates', '(metric cpu mean)', `id=${IDLE}`, '--resource-type', 'instance', '--granularity', '60');
    const measures = await json('metric', 'measures', 'show', '--resource-id', IDLE, 'cpu', '--granularity', '1', '--utc');
    assert.deepEqual(
      measures.map((m: { value: number }) => m.value),
      [1e9, 2e9, 2.6e9],
    );

    // Errors: Gnocchi's description and a non-zero exit.
    await sameFailure('metric', 'resource', 'show', '00000000-0000-4000-8000-00000000ffff');
    await sameFailure('metric', 'measures', 'show', '--aggregation', 'last', cpu);

    // top: web first at 50 % of a CPU (30 s in 60 s), idle at 1 %; the port at 2 KiB/s in, 10 B/s out.
    const frame = await ok('top', '--once');
    const lines = frame.split('\n');
    const web = lines.findIndex((l) => l.startsWith('web1 '));
    const idle = lines.findIndex((l) => l.startsWith('idle1 '));
    assert.ok(web > 0 && idle > web, frame);
    assert.match(lines[web]!, new RegExp(`^web1\\s+${WEB}\\s+h1\\s+50\\.0$`));
    assert.match(lines[idle]!, /\s1\.0$/);
    assert.match(frame, /^tap6f1d6a0e-00\s+web1\s+2\.0K\s+10$/m);
    assert.doesNotMatch(frame, /\x1b/, 'no terminal codes when not writing to a terminal');
  });
});
