import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { cliAs, cliFails, freshPostgres, httpClient, nubo, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { nuboArgv } from '../helpers/nubo-command.ts';
import { nbdOpens, nbdWrite } from '../helpers/nbd.ts';

// A controller on PostgreSQL with its agents off (nubo up --no-agents) and three hosts, each a
// `nubo agent` process of its own on the fake driver, driven by the real openstack CLI.

const root = new URL('../..', import.meta.url).pathname;
const HOSTS = ['host1', 'host2', 'host3'];
// Short enough that a killed agent's service is down within seconds; long enough that a frozen
// destination stays up through the few CLI calls a live-migration step makes on a busy machine.
const REPORT_INTERVAL = 1;
const DOWN_TIME = 10;

interface AgentProcess {
  child: ChildProcess;
  dataDir: string;
  output(): string;
}

let db: Awaited<ReturnType<typeof freshPostgres>>;
let controller: SpawnedNubo;
const agents = new Map<string, AgentProcess>();
/** The host whose agent the host-failure test killed, and the data directory it will restart on. */
let killed: { host: string; dataDir: string } | undefined;

/** `nubo agent` for one host; resolves once it says it is up. */
async function startAgent(host: string, index: number, dataDir = tempDir('nubo-agent-')): Promise<AgentProcess> {
  const child = spawn(
    process.execPath,
    [
      ...nuboArgv,
      'agent',
      ...['--database', db.url, '--data-dir', dataDir, '--compute-host', host, '--compute-driver', 'fake', '--network-dataplane', 'fake'],
      ...['--image-data-dir', controller.dataDir, '--host-ip', `192.0.2.${index + 1}`, '--report-interval', String(REPORT_INTERVAL)],
    ],
    { cwd: root, env: { ...process.env, NUBO_LOG_LEVEL: 'warn', NUBO_SERVICE_DOWN_TIME: String(DOWN_TIME) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nubo agent ${host} did not start:\n${out}`)), 120_000);
    child.stdout!.on('data', () => out.includes('Nubo agent is up') && (clearTimeout(timer), resolve()));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`nubo agent ${host} exited with ${code}:\n${out}`))));
  });
  child.removeAllListeners('exit');
  return { child, dataDir, output: () => out };
}

/** Stops an agent; its data directory goes too unless kept for a restart. */
async function stopAgent(a: AgentProcess, signal: NodeJS.Signals = 'SIGTERM', keep = false): Promise<void> {
  if (a.child.exitCode === null && a.child.signalCode === null) {
    const exited = new Promise((resolve) => a.child.once('exit', resolve));
    a.child.kill(signal);
    await exited;
  }
  if (!keep) rmSync(a.dataDir, { recursive: true, force: true });
}

/** The guests the fake driver of a host holds, by server id, as its state file has them. */
function fakeGuests(dataDir: string): Map<string, { power: string }> {
  const file = join(dataDir, 'compute', 'instances', 'fake-guests.json');
  return new Map(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : []);
}

before(async () => {
  db = await freshPostgres();
  controller = await spawnNubo({
    args: ['--database', db.url, '--no-agents', '--compute-host', 'controller', '--compute-driver', 'fake'],
    env: { NUBO_REPORT_INTERVAL: String(REPORT_INTERVAL), NUBO_SERVICE_DOWN_TIME: String(DOWN_TIME), NUBO_VOLUME_EXPORT_ADDRESS: '127.0.0.1' },
  });
  for (const [i, host] of HOSTS.entries()) agents.set(host, await startAgent(host, i));
  const image = join(controller.dataDir, 'tiny.raw');
  writeFileSync(image, Buffer.alloc(1 << 20));
  await ok('image', 'create', '--public', '--disk-format', 'raw', '--file', image, 'tiny');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'small');
});

after(async () => {
  for (const a of agents.values()) await stopAgent(a);
  if (killed) rmSync(killed.dataDir, { recursive: true, force: true });
  await controller?.stop();
  await db?.drop();
});

const ok = cliAs(() => controller.env);
const nuboOk = cliAs(() => controller.env, nubo);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until test holds of what read returns; fails with the last value after timeoutMs. */
async function until<T>(read: () => Promise<T>, test: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = await read();
  while (!test(last)) {
    if (Date.now() > end) assert.fail(`not reached in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await sleep(250);
    last = await read();
  }
  return last;
}

/** Creates count servers in one request and waits for each to settle; returns their views. */
async function createServers(name: string, count: number, ...extra: string[]) {
  const nic = extra.includes('--nic') ? [] : ['--nic', 'none'];
  await ok(
    '--os-compute-api-version',
    '2.37',
    'server',
    'create',
    '--image',
    'tiny',
    '--flavor',
    'small',
    ...nic,
    '--min',
    String(count),
    '--max',
    String(count),
    ...extra,
    name,
  );
  const ids: string[] = (await json('server', 'list', '--name', count > 1 ? `^${name}-` : `^${name}$`)).map((s: any) => s.ID);
  assert.equal(ids.length, count);
  return Promise.all(
    ids.map((id) =>
      until(
        () => json('--os-compute-api-version', '2.16', 'server', 'show', id),
        (s: any) => s.status === 'ACTIVE' || s.status === 'ERROR',
      ),
    ),
  );
}

const hostOf = (s: any) => s['OS-EXT-SRV-ATTR:host'];

test('compute service, hypervisor, host and network agent lists show every host the agents registered', async () => {
  const services = await json('compute', 'service', 'list');
  const computes = services.filter((s: any) => s.Binary === 'nova-compute');
  assert.deepEqual(computes.map((s: any) => s.Host).sort(), HOSTS);
  assert.ok(
    computes.every((s: any) => s.State === 'up' && s.Status === 'enabled'),
    JSON.stringify(computes),
  );
  assert.ok(services.some((s: any) => s.Binary === 'nova-scheduler' && s.Host === 'controller' && s.State === 'up'));

  const hypervisors = await json('hypervisor', 'list', '--long');
  assert.deepEqual(hypervisors.map((h: any) => h['Hypervisor Hostname']).sort(), HOSTS);
  assert.deepEqual(hypervisors.map((h: any) => h['Host IP']).sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);

  const hosts = await json('host', 'list');
  assert.deepEqual(
    hosts
      .filter((h: any) => h.Service === 'compute')
      .map((h: any) => h['Host Name'])
      .sort(),
    HOSTS,
  );

  const networkAgents = await json('network', 'agent', 'list');
  for (const host of HOSTS)
    assert.ok(
      networkAgents.some((a: any) => a.Host === host && a.Alive === true),
      JSON.stringify(networkAgents),
    );
});

test('anti-affinity puts three servers on three hosts; each hypervisor counts its own', async () => {
  const group = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'apart');
  const made = await createServers('apart', 3, '--hint', `group=${group.id}`);
  assert.ok(
    made.every((s) => s.status === 'ACTIVE'),
    JSON.stringify(made.map((s) => s.fault)),
  );
  assert.deepEqual(made.map(hostOf).sort(), HOSTS);
  assert.ok(made.every((s) => s.host_status === 'UP'));
  for (const host of HOSTS) {
    const h = await json('hypervisor', 'show', host);
    assert.equal(h.running_vms, 1);
    assert.equal(h.vcpus_used, 1);
  }
  const shown = await json('host', 'show', 'host1');
  assert.deepEqual(
    shown.filter((r: any) => r.Project === '(used_max)').map((r: any) => [r.CPU, r['Memory MB']]),
    [[1, 256]],
  );
  // A fourth member has no host left.
  const [fourth] = await createServers('apart4', 1, '--hint', `group=${group.id}`);
  assert.equal(fourth.status, 'ERROR');
  assert.match(fourth.fault.message, /^No valid host was found/);
  await ok('server', 'delete', '--wait', 'apart-1', 'apart-2', 'apart-3', 'apart4');
  await ok('server', 'group', 'delete', 'apart');
});

test('a disabled host gets no server; enabled again, it takes its share', async () => {
  await ok('compute', 'service', 'set', '--disable', '--disable-reason', 'maintenance', 'host1', 'nova-compute');
  const listed = await json('compute', 'service', 'list', '--host', 'host1', '--service', 'nova-compute');
  assert.equal(listed[0].Status, 'disabled');
  const made = await createServers('busy', 4);
  assert.ok(made.every((s) => s.status === 'ACTIVE'));
  assert.ok(!made.some((s) => hostOf(s) === 'host1'), JSON.stringify(made.map(hostOf)));
  // Spread: the other two take two each.
  assert.deepEqual(made.map(hostOf).sort(), ['host2', 'host2', 'host3', 'host3']);
  await ok('compute', 'service', 'set', '--enable', 'host1', 'nova-compute');
  const [next] = await createServers('next', 1);
  assert.equal(hostOf(next), 'host1');
  await ok('server', 'delete', '--wait', 'busy-1', 'busy-2', 'busy-3', 'busy-4', 'next');
});

test('an aggregate with a zone and metadata: availability zone list, --availability-zone and flavor extra specs place servers in it', async () => {
  await ok('aggregate', 'create', '--zone', 'fast', '--property', 'ssd=true', 'rack3');
  await ok('aggregate', 'add', 'host', 'rack3', 'host3');
  const zones = await json('availability', 'zone', 'list', '--compute');
  // The admin sees the internal zone of the other services too.
  assert.deepEqual(zones.map((z: any) => z['Zone Name']).sort(), ['fast', 'internal', 'nova']);
  const [inZone] = await createServers('zoned', 1, '--availability-zone', 'fast');
  assert.equal(hostOf(inZone), 'host3');
  assert.equal(inZone['OS-EXT-AZ:availability_zone'], 'fast');

  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', '--property', 'aggregate_instance_extra_specs:ssd=true', 'ssd');
  await ok('--os-compute-api-version', '2.37', 'server', 'create', '--image', 'tiny', '--flavor', 'ssd', '--nic', 'none', '--min', '2', '--max', '2', 'ssd');
  const ssd = await Promise.all(
    ['ssd-1', 'ssd-2'].map((n) =>
      until(
        () => json('server', 'show', n),
        (s: any) => s.status === 'ACTIVE' || s.status === 'ERROR',
      ),
    ),
  );
  assert.deepEqual(ssd.map(hostOf), ['host3', 'host3']);

  // Out of the aggregate, no host has the metadata the flavor asks for.
  await ok('aggregate', 'remove', 'host', 'rack3', 'host3');
  const [none] = await createServers('nossd', 1, '--flavor', 'ssd');
  assert.equal(none.status, 'ERROR');
  await ok('server', 'delete', '--wait', 'zoned', 'ssd-1', 'ssd-2', 'nossd');
  await ok('aggregate', 'delete', 'rack3');
  await ok('flavor', 'delete', 'ssd');
});

test('a volume attached to a server on an agent host is served to that host alone over NBD with TLS, follows the server through a cold and a live migration, and is served no more once detached', async () => {
  const [made] = await createServers('holder', 1);
  const first: string = hostOf(made);
  const volume = await json('volume', 'create', '--size', '1', 'held');
  await until(() => json('volume', 'show', 'held'), (v: any) => v.status === 'available');
  await ok('server', 'add', 'volume', 'holder', 'held');
  await until(() => json('volume', 'show', 'held'), (v: any) => v.status === 'in-use');
  const served = async (): Promise<{ address: string; port: number; hosts: string[] } | null> => {
    const c = new pg.Client(db.url);
    await c.connect();
    try {
      return (await c.query('select nbd_export from volume_volumes where id = $1', [volume.id])).rows[0].nbd_export;
    } finally {
      await c.end();
    }
  };
  const exported = (await served())!;
  assert.deepEqual([exported.address, exported.hosts], ['127.0.0.1', [first]]);
  const client = (host: string, port = exported.port) => ({ dataDir: agents.get(host)!.dataDir, host, address: '127.0.0.1', port, volumeId: volume.id });
  const other = HOSTS.find((h) => h !== first)!;
  assert.equal(await nbdOpens(client(other)), false, "another host's key is refused");
  // What the host writes through the export is in the volume's file on the controller.
  await nbdWrite(client(first), 0xa7, 1 << 20);
  const file = readFileSync(join(controller.dataDir, 'volumes', 'volumes', `${volume.id}.raw`));
  assert.ok(file.subarray(1 << 20, (1 << 20) + 65536).every((b) => b === 0xa7));
  // An export's size is fixed for its clients: growing it in use is refused, in Cinder's words.
  const grown = await cliFails(controller.env, '--os-volume-api-version', '3.42', 'volume', 'set', '--size', '2', 'held');
  assert.match(grown, /attached to a server on another host and cannot be extended while in use there/);

  await ok('server', 'migrate', 'holder');
  const resized = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'holder'),
    (s: any) => s.status === 'VERIFY_RESIZE' || s.status === 'ERROR',
  );
  assert.equal(resized.status, 'VERIFY_RESIZE', JSON.stringify(resized.fault));
  const second: string = hostOf(resized);
  // Until confirmed, both hosts may open it (a revert starts the guest on the first again).
  assert.deepEqual((await served())!.hosts, [first, second].sort());
  await ok('server', 'migrate', 'confirm', 'holder');
  const moved = await until(served, (e) => e?.hosts.length === 1);
  assert.deepEqual(moved!.hosts, [second]);
  assert.equal(await nbdOpens(client(first, moved!.port)), false, 'the host the server left is cut off');
  assert.equal(await nbdOpens(client(second, moved!.port)), true);

  // Live, the destination opens it before the switch-over; then it alone is let in.
  await ok('--os-compute-api-version', '2.30', 'server', 'migrate', '--live-migration', 'holder');
  const flown = await until(
    () => json('server', 'show', 'holder'),
    (s: any) => (s.status === 'ACTIVE' && hostOf(s) !== second) || s.status === 'ERROR',
  );
  assert.equal(flown.status, 'ACTIVE', JSON.stringify(flown.fault));
  const third: string = hostOf(flown);
  const landed = await until(served, (e) => e?.hosts.length === 1 && e.hosts[0] === third);
  assert.equal(await nbdOpens(client(second, landed!.port)), false);
  assert.equal((await json('volume', 'show', 'held')).status, 'in-use');

  await ok('server', 'remove', 'volume', 'holder', 'held');
  await until(() => json('volume', 'show', 'held'), (v: any) => v.status === 'available');
  await until(served, (e) => e === null);
  assert.equal(await nbdOpens(client(third, landed!.port)), false, 'no export once detached');
  await ok('server', 'delete', '--wait', 'holder');
  await ok('volume', 'delete', 'held');
});

test("a killed agent's service goes down within service_down_time, its server's host_status is DOWN, and it gets no new server", async () => {
  await ok('network', 'create', 'mhnet');
  await ok('subnet', 'create', '--network', 'mhnet', '--subnet-range', '10.77.0.0/24', 'mhsub');
  const [placed] = await createServers('victim', 1, '--nic', 'net-id=mhnet');
  assert.equal(placed.status, 'ACTIVE', JSON.stringify(placed.fault));
  const victim: string = hostOf(placed);
  // Nova's refusal while the host's compute service is up: the guest may still run there.
  const refused = await cliFails(controller.env, 'server', 'evacuate', 'victim');
  assert.match(refused, /Compute service of .* is still in use/);
  const killedAt = Date.now();
  const agent = agents.get(victim)!;
  await stopAgent(agent, 'SIGKILL', true);
  agents.delete(victim);
  killed = { host: victim, dataDir: agent.dataDir };
  assert.ok(fakeGuests(agent.dataDir).has(placed.id), 'the killed host kept its guest');
  const down = await until(
    () => json('compute', 'service', 'list', '--host', victim, '--service', 'nova-compute'),
    (rows: any[]) => rows[0].State === 'down',
    (DOWN_TIME + 10) * 1000,
  );
  assert.equal(down[0].State, 'down');
  assert.ok(Date.now() - killedAt < (DOWN_TIME + 10) * 1000);
  const hv = (await json('hypervisor', 'list')).find((h: any) => h['Hypervisor Hostname'] === victim);
  assert.equal(hv.State, 'down');
  const shown = await json('--os-compute-api-version', '2.16', 'server', 'show', 'victim');
  assert.equal(shown.host_status, 'DOWN');
  // Its console is on that host, which cannot answer: Nova's 409, at once.
  assert.match(await cliFails(controller.env, 'console', 'log', 'show', 'victim'), new RegExp(`409.*its host ${victim} is down`));
  // Its network agents too; the other hosts' stay alive.
  const networkAgents = await json('network', 'agent', 'list');
  assert.ok(
    networkAgents.filter((a: any) => a.Host === victim).every((a: any) => a.Alive === false),
    JSON.stringify(networkAgents),
  );
  assert.ok(
    networkAgents.filter((a: any) => a.Host !== victim).every((a: any) => a.Alive === true),
    JSON.stringify(networkAgents),
  );
  // The others stay up, and take what is created now.
  const made = await createServers('after', 2);
  assert.deepEqual(
    made.map(hostOf).sort(),
    HOSTS.filter((h) => h !== victim),
  );
  // A host still holding servers is not deleted from under them.
  const svc = (await json('compute', 'service', 'list', '--host', victim, '--service', 'nova-compute'))[0];
  const err = await cliFails(controller.env, 'compute', 'service', 'delete', String(svc.ID));
  assert.match(err, /hosting instances/);
});

test('evacuate rebuilds the server of a down host on another with its port and addresses; the old host, back, destroys its copy and completes the migration', async () => {
  assert.ok(killed, 'the previous test killed an agent');
  const before = await json('--os-compute-api-version', '2.16', 'server', 'show', 'victim');
  const ports = await json('port', 'list', '--server', 'victim');
  assert.equal(ports.length, 1);
  // Over HTTP: openstack 6.0's `server evacuate` sends the request, then fails reading novaclient's
  // answer ('TupleWithMeta' object has no attribute 'to_dict'), whatever the cloud answers.
  const http = httpClient(controller.url);
  const token = await http.login('admin', controller.env.OS_PASSWORD!, 'admin');
  const evacuated = await http.request('POST', `/compute/v2.1/servers/${before.id}/action`, { token, body: { evacuate: { onSharedStorage: false } } });
  assert.equal(evacuated.status, 200, JSON.stringify(evacuated.body));
  // Before 2.14 Nova answers the guest's password.
  assert.equal(typeof evacuated.body.adminPass, 'string');
  const moved = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'victim'),
    (s: any) => s.status === 'ACTIVE' && hostOf(s) !== killed!.host,
  );
  assert.equal(moved.id, before.id);
  assert.equal(moved.host_status, 'UP');
  assert.deepEqual(moved.addresses, before.addresses);
  const portsAfter = await json('port', 'list', '--server', 'victim', '--long');
  assert.deepEqual(
    portsAfter.map((p: any) => [p.ID, p['Fixed IP Addresses']]),
    ports.map((p: any) => [p.ID, p['Fixed IP Addresses']]),
  );
  const port = await json('port', 'show', ports[0].ID);
  assert.equal(port.binding_host_id, hostOf(moved));
  assert.equal(fakeGuests(agents.get(hostOf(moved))!.dataDir).get(before.id)?.power, 'running');
  const events = await json('server', 'event', 'list', 'victim');
  assert.ok(
    events.some((e: any) => e.Action === 'evacuate'),
    JSON.stringify(events),
  );
  const migration = async () =>
    (await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', before.id, '--type', 'evacuation'))[0];
  const done = await migration();
  assert.equal(done['Source Compute'], killed.host);
  assert.equal(done['Dest Compute'], hostOf(moved));
  assert.equal(done.Status, 'done');

  // The old host comes back: its guest of the evacuated server is destroyed, not started again.
  assert.equal(fakeGuests(killed.dataDir).has(before.id), true);
  const index = HOSTS.indexOf(killed.host);
  agents.set(killed.host, await startAgent(killed.host, index, killed.dataDir));
  const dataDir = killed.dataDir;
  killed = undefined;
  await until(
    async () => fakeGuests(dataDir).has(before.id),
    (held) => !held,
    30_000,
  );
  assert.equal((await until(migration, (m: any) => m.Status === 'completed', 30_000)).Status, 'completed');
  const still = await json('--os-compute-api-version', '2.16', 'server', 'show', 'victim');
  assert.equal(still.status, 'ACTIVE');
  assert.equal(hostOf(still), hostOf(moved));
  assert.equal(fakeGuests(agents.get(hostOf(moved))!.dataDir).get(before.id)?.power, 'running');
  await ok('server', 'delete', '--wait', 'victim', 'after-1', 'after-2');
  await ok('network', 'delete', 'mhnet');
});

test('cold migration: migrate then confirm moves the guest and its disk to another host; migrate --host then revert brings it back', async () => {
  const [made] = await createServers('mover', 1);
  const source: string = hostOf(made);
  const guestsOf = (host: string) => fakeGuests(agents.get(host)!.dataDir);
  await ok('server', 'migrate', 'mover');
  const resized = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'mover'),
    (s: any) => s.status === 'VERIFY_RESIZE' || s.status === 'ERROR',
  );
  assert.equal(resized.status, 'VERIFY_RESIZE', JSON.stringify(resized.fault));
  const dest: string = hostOf(resized);
  assert.notEqual(dest, source);
  // Running on its new host; kept, stopped, on the old one until confirmed.
  assert.equal(guestsOf(dest).get(made.id)?.power, 'running');
  assert.equal(guestsOf(source).get(made.id)?.power, 'shutdown');
  const listed = await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', made.id, '--type', 'cold-migration');
  assert.deepEqual([listed[0]['Source Compute'], listed[0]['Dest Compute'], listed[0].Status], [source, dest, 'finished']);
  // A server's migrations under way, as Nova lists them there, are its live migrations only.
  const http = httpClient(controller.url);
  const token = await http.login('admin', controller.env.OS_PASSWORD!, 'admin');
  const own = await http.request('GET', `/compute/v2.1/servers/${made.id}/migrations`, { token, headers: { 'openstack-api-version': 'compute 2.23' } });
  assert.deepEqual([own.status, own.body], [200, { migrations: [] }]);
  await ok('server', 'migrate', 'confirm', 'mover');
  await until(
    () => json('server', 'show', 'mover'),
    (s: any) => s.status === 'ACTIVE',
  );
  await until(
    async () => guestsOf(source).has(made.id),
    (held) => !held,
    30_000,
  );
  assert.equal(guestsOf(dest).get(made.id)?.power, 'running');

  // To a named host (2.56), then reverted: back where it was, the copy on the named host gone.
  const target = HOSTS.find((h) => h !== dest)!;
  await ok('--os-compute-api-version', '2.56', 'server', 'migrate', '--host', target, 'mover');
  const again = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'mover'),
    (s: any) => s.status === 'VERIFY_RESIZE' || s.status === 'ERROR',
  );
  assert.equal(hostOf(again), target);
  await ok('server', 'migrate', 'revert', 'mover');
  const back = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'mover'),
    (s: any) => s.status === 'ACTIVE' || s.status === 'ERROR',
  );
  assert.equal(hostOf(back), dest);
  await until(
    async () => guestsOf(target).has(made.id),
    (held) => !held,
    30_000,
  );
  assert.equal(guestsOf(dest).get(made.id)?.power, 'running');
  const statuses = (await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', made.id)).map((m: any) => m.Status);
  assert.deepEqual(statuses, ['reverted', 'confirmed']);
  // A move to the host the server is on is refused.
  const same = await cliFails(controller.env, '--os-compute-api-version', '2.56', 'server', 'migrate', '--host', dest, 'mover');
  assert.match(same, /current host/);
  await ok('server', 'delete', '--wait', 'mover');
});

test('live migration: MIGRATING, then ACTIVE (or PAUSED, as it was) on another host with its port bound there and its addresses kept; aborted by an admin, or given up when the destination is down; refusals as Nova words them', async () => {
  await ok('network', 'create', 'flynet');
  await ok('subnet', 'create', '--network', 'flynet', '--subnet-range', '10.77.0.0/24', 'flysub');
  const [made] = await createServers('flier', 1, '--nic', 'net-id=flynet');
  assert.equal(made.addresses.flynet.length, 1);
  const source: string = hostOf(made);
  const guestsOf = (host: string) => fakeGuests(agents.get(host)!.dataDir);
  const [port] = await json('port', 'list', '--server', made.id);
  const target = HOSTS.find((h) => h !== source && h !== killed?.host && agents.get(h)?.child.exitCode === null)!;

  // Admin only; the microversions' bodies.
  const http = httpClient(controller.url);
  const token = await http.login('admin', controller.env.OS_PASSWORD!, 'admin');
  const live = (body: unknown, version = '2.30') =>
    http.request('POST', `/compute/v2.1/servers/${made.id}/action`, { token, body: { 'os-migrateLive': body }, headers: { 'openstack-api-version': `compute ${version}` } });
  for (const [body, version, message] of [
    [{ host: null, block_migration: false }, '2.1', /disk_over_commit/],
    [{ host: null, block_migration: 'auto', disk_over_commit: false }, '2.25', /disk_over_commit/],
    [{ host: null, block_migration: 'auto', force: true }, '2.68', /force/],
    [{ host: 'nowhere', block_migration: 'auto' }, '2.30', /Compute host nowhere could not be found/],
    [{ host: source, block_migration: 'auto' }, '2.30', /current host/],
  ] as const) {
    const refused = await live(body, version);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(JSON.stringify(refused.body), message);
  }

  // A destination whose agent is frozen: the server is MIGRATING, the migration listed as under
  // way, until an admin aborts it (2.65: before it sends), or the source sees that host's service
  // down and gives the move up.
  const frozen = agents.get(target)!.child;
  frozen.kill('SIGSTOP');
  try {
    const sent = await live({ host: target, block_migration: 'auto' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const [mid] = (await http.request('GET', `/compute/v2.1/servers/${made.id}/migrations`, { token, headers: { 'openstack-api-version': 'compute 2.59' } })).body
      .migrations;
    const abort = (version: string) =>
      http.request('DELETE', `/compute/v2.1/servers/${made.id}/migrations/${mid.id}`, { token, headers: { 'openstack-api-version': `compute ${version}` } });
    const early = await abort('2.24');
    assert.equal(early.status, 400, JSON.stringify(early.body));
    assert.match(JSON.stringify(early.body), /is accepted\. Cannot abort/);
    // nubo shows it as openstack does, and aborts it.
    const [mine, theirs] = await Promise.all([
      nuboOk('--os-compute-api-version', '2.80', 'server', 'migration', 'show', 'flier', String(mid.id)),
      ok('--os-compute-api-version', '2.80', 'server', 'migration', 'show', 'flier', String(mid.id)),
    ]);
    assert.equal(mine, theirs);
    await nuboOk('--os-compute-api-version', '2.65', 'server', 'migration', 'abort', 'flier', mid.uuid);
    const cancelled = await until(
      async () => (await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', made.id, '--type', 'live-migration'))[0],
      (m: any) => m.Status === 'cancelled' || m.Status === 'error',
      30_000,
    );
    assert.equal(cancelled.Status, 'cancelled');
    const gone = await http.request('GET', `/compute/v2.1/servers/${made.id}/migrations/${mid.id}`, { token, headers: { 'openstack-api-version': 'compute 2.23' } });
    assert.equal(gone.status, 404);
    assert.equal((await json('server', 'show', 'flier')).status, 'ACTIVE');

    // The CLI calls above may outlast service_down_time: the host is thawed until it is up again,
    // then frozen anew, so that the next move is accepted and only then sees its destination go down.
    frozen.kill('SIGCONT');
    await until(
      async () => (await json('compute', 'service', 'list', '--host', target))[0].State,
      (state) => state === 'up',
      30_000,
    );
    frozen.kill('SIGSTOP');
    const resent = await live({ host: target, block_migration: 'auto' });
    assert.equal(resent.status, 202, JSON.stringify(resent.body));
    const migrating = await http.request('GET', `/compute/v2.1/servers/${made.id}`, { token });
    assert.deepEqual([migrating.body.server.status, migrating.body.server['OS-EXT-STS:task_state']], ['MIGRATING', 'migrating']);
    const underWay = await http.request('GET', `/compute/v2.1/servers/${made.id}/migrations`, { token, headers: { 'openstack-api-version': 'compute 2.23' } });
    assert.deepEqual(
      underWay.body.migrations.map((m: any) => [m.source_compute, m.dest_compute, m.status]),
      [[source, target, 'accepted']],
    );
    const one = await http.request('GET', `/compute/v2.1/servers/${made.id}/migrations/${underWay.body.migrations[0].id}`, {
      token,
      headers: { 'openstack-api-version': 'compute 2.23' },
    });
    assert.deepEqual([one.status, one.body.migration.server_uuid, one.body.migration.status], [200, made.id, 'accepted']);
    const busy = await live({ host: null, block_migration: 'auto' });
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    assert.match(JSON.stringify(busy.body), /task_state migrating/);
    const given = await until(
      async () => (await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', made.id, '--type', 'live-migration'))[0],
      (m: any) => m.Status !== 'accepted',
      30_000,
    );
    assert.equal(given.Status, 'error');
  } finally {
    frozen.kill('SIGCONT');
  }
  const stayed = await json('--os-compute-api-version', '2.16', 'server', 'show', 'flier');
  assert.deepEqual([stayed.status, hostOf(stayed)], ['ACTIVE', source]);
  assert.equal(guestsOf(source).get(made.id)?.power, 'running');
  const [failed] = (await json('server', 'event', 'list', 'flier')).filter((e: any) => e.Action === 'live-migration');
  const event = await json('--os-compute-api-version', '2.51', 'server', 'event', 'show', 'flier', failed['Request ID']);
  assert.equal(event.events[0].result, 'Error');
  assert.deepEqual([(await json('port', 'show', port.ID)).binding_host_id], [source]);
  // Thawed, the host is up again and takes the server.
  await until(
    async () => (await json('compute', 'service', 'list', '--host', target))[0].State,
    (state) => state === 'up',
    30_000,
  );

  // Paused, it moves and stays paused there.
  await ok('server', 'pause', 'flier');
  await until(
    () => json('server', 'show', 'flier'),
    (s: any) => s.status === 'PAUSED',
  );
  await ok('--os-compute-api-version', '2.30', 'server', 'migrate', '--live-migration', '--host', target, 'flier');
  const arrived = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'flier'),
    (s: any) => (s.status === 'PAUSED' && hostOf(s) === target) || s.status === 'ERROR',
  );
  assert.equal(arrived.status, 'PAUSED', JSON.stringify(arrived.fault));
  assert.equal(guestsOf(target).get(made.id)?.power, 'paused');
  await ok('server', 'unpause', 'flier');
  const moved = await until(
    () => json('--os-compute-api-version', '2.16', 'server', 'show', 'flier'),
    (s: any) => s.status === 'ACTIVE' || s.status === 'ERROR',
  );
  assert.equal(moved.status, 'ACTIVE', JSON.stringify(moved.fault));
  assert.deepEqual(moved.addresses, made.addresses);
  const bound = await json('port', 'show', port.ID);
  assert.deepEqual([bound.binding_host_id, bound.status], [target, 'ACTIVE']);
  assert.equal(guestsOf(target).get(made.id)?.power, 'running');
  await until(
    async () => guestsOf(source).has(made.id),
    (held) => !held,
    30_000,
  );
  const [m] = await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', made.id, '--type', 'live-migration');
  assert.deepEqual([m['Source Compute'], m['Dest Compute'], m.Status], [source, target, 'completed']);
  // nubo lists them as openstack does, at each microversion's columns.
  for (const [version, ...by] of [['2.1'], ['2.23'], ['2.59'], ['2.80'], ['2.80', '--project', 'admin', '--user', 'admin']]) {
    const args = ['--os-compute-api-version', version!, 'server', 'migration', 'list', '--server', 'flier', ...by];
    const [mine, theirs] = await Promise.all([nuboOk(...args), ok(...args)]);
    assert.equal(mine, theirs, version);
  }
  // The controller asks the guest's new host for its console and its NMI (no agent runs with it).
  assert.match(await ok('console', 'log', 'show', 'flier'), /\[fake\] flier: arrived from another host/);
  await ok('--os-compute-api-version', '2.17', 'server', 'dump', 'create', 'flier');
  assert.match(await ok('console', 'log', 'show', '--lines', '1', 'flier'), /^Uhhuh\. NMI received/);

  // A stopped server is not live-migrated: Nova's 409.
  await ok('server', 'stop', 'flier');
  await until(
    () => json('server', 'show', 'flier'),
    (s: any) => s.status === 'SHUTOFF',
  );
  const stopped = await live({ host: null, block_migration: 'auto' });
  assert.equal(stopped.status, 409, JSON.stringify(stopped.body));
  assert.match(JSON.stringify(stopped.body), /vm_state stopped/);
  // Nor by a member of its project.
  await ok('user', 'create', '--password', 'member-secret', 'flier-member');
  await ok('role', 'add', '--user', 'flier-member', '--project', 'admin', 'member');
  const member = await cliFails({ ...controller.env, OS_USERNAME: 'flier-member', OS_PASSWORD: 'member-secret' }, 'server', 'migrate', '--live-migration', made.id);
  assert.match(member, /os-migrate-server:migrate_live.*HTTP 403/);
  await ok('server', 'delete', '--wait', 'flier');
  await ok('network', 'delete', 'flynet');
});
