import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { cliAs, freshPostgres, nubo, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { nuboArgv } from '../helpers/nubo-command.ts';

// Each `nubo agent` logs in to the controllers' PostgreSQL with the role `nubo host-credential
// create` made for its host: the agents work as with the owner's role, and the database itself
// stops a host's role from writing another host's rows or reading identity secrets.

const root = new URL('../..', import.meta.url).pathname;
const HOSTS = ['host1', 'host2'];

let db: Awaited<ReturnType<typeof freshPostgres>>;
let controller: SpawnedNubo;
/** Each host's connection string, as `nubo host-credential create` printed it. */
const credentials = new Map<string, string>();
interface AgentProcess {
  child: ChildProcess;
  dataDir: string;
  output(): string;
}
const agents = new Map<string, AgentProcess>();

async function startAgent(host: string, index: number): Promise<AgentProcess> {
  const dataDir = tempDir('nubo-agent-');
  const child = spawn(
    process.execPath,
    [
      ...nuboArgv,
      'agent',
      ...['--database', credentials.get(host)!, '--data-dir', dataDir, '--compute-host', host, '--compute-driver', 'fake', '--network-dataplane', 'fake'],
      ...['--image-data-dir', controller.dataDir, '--host-ip', `192.0.2.${index + 1}`, '--report-interval', '1'],
    ],
    { cwd: root, env: { ...process.env, NUBO_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nubo agent ${host} did not start:\n${out}`)), 120_000);
    child.stderr!.on('data', (d) => (out += d));
    child.stdout!.on('data', (d) => ((out += d), out.includes('Nubo agent is up') && (clearTimeout(timer), resolve())));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`nubo agent ${host} exited with ${code}:\n${out}`))));
  });
  child.removeAllListeners('exit');
  return { child, dataDir, output: () => out };
}

/** What the database refused an agent, from its log: a grant or a policy its work needs is missing. */
const refusals = (a: AgentProcess) =>
  a
    .output()
    .split('\n')
    .filter((l) => /permission denied|row-level security/.test(l))
    .map((l) => l.match(/(?:permission denied|new row violates)[^"\\]*/)![0]);

async function stopAgent(a: AgentProcess): Promise<void> {
  if (a.child.exitCode === null && a.child.signalCode === null) {
    const exited = new Promise((resolve) => a.child.once('exit', resolve));
    a.child.kill('SIGTERM');
    await exited;
  }
  rmSync(a.dataDir, { recursive: true, force: true });
}

/** Runs fn connected as host's role. */
async function asHost<T>(host: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: credentials.get(host) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Runs fn connected as the controllers' (the owner's) role. */
async function asOwner<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

before(async () => {
  db = await freshPostgres();
  controller = await spawnNubo({
    args: ['--database', db.url, '--no-agents', '--compute-host', 'controller', '--compute-driver', 'fake', '--network-dataplane', 'fake'],
    env: { NUBO_REPORT_INTERVAL: '1', NUBO_SERVICE_DOWN_TIME: '4' },
  });
  await Promise.all(
    HOSTS.map(async (host) => {
      const made = await nubo({}, 'host-credential', 'create', host, '--database', db.url);
      assert.equal(made.code, 0, made.stderr);
      credentials.set(host, made.stdout.trim());
    }),
  );
  await Promise.all(HOSTS.map(async (host, i) => agents.set(host, await startAgent(host, i))));
  const image = join(controller.dataDir, 'tiny.raw');
  writeFileSync(image, Buffer.alloc(1 << 20));
  await ok('image', 'create', '--public', '--disk-format', 'raw', '--file', image, 'tiny');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'small');
  await ok('network', 'create', 'net');
  await ok('subnet', 'create', '--network', 'net', '--subnet-range', '10.9.0.0/24', 'sub');
});

after(async () => {
  for (const a of agents.values()) await stopAgent(a);
  await controller?.stop();
  const roles = [...credentials.values()].map((url) => decodeURIComponent(new URL(url).username));
  await db?.drop();
  // Roles are the PostgreSQL server's, not the dropped database's.
  if (roles.length) {
    const admin = new pg.Client({ connectionString: process.env.NUBO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    await admin.end();
  }
});

const ok = cliAs(() => controller.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

const serverShow = (id: string) => json('--os-compute-api-version', '2.16', 'server', 'show', id);

/** One server on each host (anti-affinity), with a port on net; id by host. */
let placed: Map<string, string>;

test('agents logged in as their hosts\' roles register, beat, and build, stop and start servers with ports on their hosts', async () => {
  const services = await json('compute', 'service', 'list');
  assert.deepEqual(services.filter((s: any) => s.Binary === 'nova-compute' && s.State === 'up').map((s: any) => s.Host).sort(), HOSTS);
  const networkAgents = await json('network', 'agent', 'list');
  for (const host of HOSTS) assert.ok(networkAgents.some((a: any) => a.Host === host && a.Alive === true), JSON.stringify(networkAgents));

  const group = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'apart');
  await ok('server', 'create', '--image', 'tiny', '--flavor', 'small', '--network', 'net', '--hint', `group=${group.id}`, '--min', '2', '--max', '2', 'apart');
  const ids: string[] = (await json('server', 'list', '--name', '^apart-')).map((s: any) => s.ID);
  const made = await Promise.all(ids.map((id) => until(() => serverShow(id), (s: any) => s.status === 'ACTIVE' || s.status === 'ERROR')));
  assert.ok(made.every((s: any) => s.status === 'ACTIVE'), JSON.stringify(made.map((s: any) => s.fault)));
  placed = new Map(made.map((s: any) => [s['OS-EXT-SRV-ATTR:host'], s.id]));
  assert.deepEqual([...placed.keys()].sort(), HOSTS);
  const ports = await json('port', 'list', '--device-owner', 'compute:nova', '--long');
  assert.ok(ports.length === 2 && ports.every((p: any) => p.Status === 'ACTIVE'), JSON.stringify(ports));

  // The agent's report of a stop and a start goes through its role's policies.
  const id = placed.get('host1')!;
  await ok('server', 'stop', id);
  await until(() => serverShow(id), (s: any) => s.status === 'SHUTOFF');
  await ok('server', 'start', id);
  await until(() => serverShow(id), (s: any) => s.status === 'ACTIVE');
  const actions = await json('server', 'event', 'list', id);
  assert.deepEqual(actions.map((a: any) => a.Action).sort(), ['create', 'start', 'stop']);
  for (const a of agents.values()) assert.deepEqual(refusals(a), []);
});

test("a host's role changes no row of another host: servers, ports, services, network agents, hypervisors", async () => {
  const other = placed.get('host2')!;
  const before = await asOwner(async (c) => (await c.query('select * from compute_servers where id = $1', [other])).rows[0]);
  await asHost('host1', async (c) => {
    // Rows of host2 are not there for host1's writes: nothing matches.
    for (const [statement, params] of [
      ["update compute_servers set vm_state = 'error', power = 'shutdown' where id = $1", [other]],
      ["update compute_servers set vm_state = 'error' where host = 'host2'", []],
      ['delete from compute_servers where id = $1', [other]],
      ["update network_ports set status = 'DOWN', host_id = 'host1' where device_id = $1", [other]],
      ['delete from network_ports where device_id = $1', [other]],
      ["update compute_services set disabled = true where host = 'host2'", []],
      ["update network_agents set heartbeat_at = now() - interval '1 day' where host = 'host2'", []],
      ["update compute_hosts set vcpus = 1000 where name = 'host2'", []],
    ] as const)
      assert.equal((await c.query(statement, [...params])).rowCount, 0, statement);
    // Nor may it write a row that says host2, or move its own server there.
    for (const [statement, params] of [
      ["insert into compute_services (host, \"binary\") values ('host2', 'nova-compute-2')", []],
      ["update compute_servers set host = 'host2' where id = $1", [placed.get('host1')!]],
      ["update compute_services set host = 'host2' where host = 'host1'", []],
    ] as const)
      await assert.rejects(c.query(statement, [...params]), /row-level security/, statement);
    // Servers are made by the controllers only.
    await assert.rejects(c.query("insert into compute_servers (id) values ('x')"), /permission denied/);
    // Its own rows it writes, as its agents do.
    assert.equal((await c.query("update compute_services set heartbeat_at = now() where host = 'host1'")).rowCount, 1);
  });
  const after = await asOwner(async (c) => (await c.query('select * from compute_servers where id = $1', [other])).rows[0]);
  assert.deepEqual(after, before);
  const shown = await serverShow(other);
  assert.equal(shown.status, 'ACTIVE');
  assert.equal(shown['OS-EXT-SRV-ATTR:host'], 'host2');
});

test("a host's role reads what agents read, and no identity, orchestration or load-balancer table", async () => {
  await asHost('host1', async (c) => {
    // Other hosts' ports and servers stay readable: VXLAN forwarding entries and DHCP need them.
    assert.equal((await c.query('select id from compute_servers')).rowCount, 2);
    assert.equal((await c.query("select id from network_ports where device_owner = 'compute:nova'")).rowCount, 2);
    for (const table of ['identity_users', 'identity_token_keys', 'identity_credentials', 'identity_application_credentials', 'orchestration_stacks', 'lb_loadbalancers'])
      await assert.rejects(c.query(`select * from ${table} limit 1`), /permission denied/, table);
    // Nor may it make a table or a role of its own.
    await assert.rejects(c.query('create table mine (x int)'), /permission denied/);
    await assert.rejects(c.query('create role other'), /permission denied/);
  });
});

test("a guest's console is asked of its host's agent, which alone sees and answers the calls to its host", async () => {
  for (const [host, id] of placed) assert.match(await ok('console', 'log', 'show', id), /\[fake\] apart-\d: booted/, host);
  const other = placed.get('host2')!;
  const [call] = await asOwner(async (c) => (await c.query("insert into compute_host_calls (host, server_id, call) values ('host2', $1, 'consoleLog') returning id", [other])).rows);
  try {
    await asHost('host1', async (c) => {
      assert.equal((await c.query('select * from compute_host_calls')).rowCount, 0);
      assert.equal((await c.query("update compute_host_calls set output = 'forged', answered_at = now()")).rowCount, 0);
      await assert.rejects(c.query("insert into compute_host_calls (host, server_id, call) values ('host2', $1, 'injectNmi')", [other]), /permission denied/);
    });
  } finally {
    await asOwner((c) => c.query('delete from compute_host_calls where id = $1', [call.id]));
  }
  for (const a of agents.values()) assert.deepEqual(refusals(a), []);
});

test("each host made its own key (for the volumes it opens over NBD, its console relay), and its role reads no other host's key nor writes one", async () => {
  const keys = await asOwner(async (c) => (await c.query('select host, psk from compute_host_keys order by host')).rows);
  assert.deepEqual(
    keys.map((k) => k.host),
    [...agents.keys()].sort(),
  );
  assert.ok(keys.every((k) => /^[0-9a-f]{64}$/.test(k.psk)));
  await asHost('host1', async (c) => {
    const seen = (await c.query('select host from compute_host_keys')).rows;
    assert.deepEqual(seen, [{ host: 'host1' }]);
    await assert.rejects(c.query("insert into compute_host_keys (host, psk) values ('host9', 'ab')"), /row-level security/);
    await assert.rejects(c.query("update compute_host_keys set psk = 'ab'"), /permission denied/);
  });
});

test("a live migration goes through both hosts' roles: the destination wires the port, the switch-over binds it there", async () => {
  await ok('server', 'create', '--image', 'tiny', '--flavor', 'small', '--network', 'net', 'flier');
  const made = await until(() => serverShow('flier'), (s: any) => s.status === 'ACTIVE' || s.status === 'ERROR');
  assert.equal(made.status, 'ACTIVE', JSON.stringify(made.fault));
  const source = made['OS-EXT-SRV-ATTR:host'];
  await ok('--os-compute-api-version', '2.25', 'server', 'migrate', '--live-migration', 'flier');
  const moved = await until(() => serverShow('flier'), (s: any) => (s.status === 'ACTIVE' && s['OS-EXT-SRV-ATTR:host'] !== source) || s.status === 'ERROR');
  assert.equal(moved.status, 'ACTIVE', JSON.stringify(moved.fault));
  const [port] = await json('port', 'list', '--server', 'flier');
  assert.equal((await json('port', 'show', port.ID)).binding_host_id, moved['OS-EXT-SRV-ATTR:host']);
  // Its traffic's key was made through a host's role, and both its hosts read the same one.
  const keyOf = (c: pg.Client) =>
    c.query('select k.psk from compute_migration_keys k join compute_migrations m on m.id = k.migration_id where m.server_id = $1', [made.id]);
  const [key] = (await asOwner(keyOf)).rows;
  assert.match(key.psk, /^[0-9a-f]{64}$/);
  for (const host of HOSTS) assert.deepEqual((await asHost(host, keyOf)).rows, [key]);
  for (const a of agents.values()) assert.deepEqual(refusals(a), []);
  await ok('server', 'delete', '--wait', 'flier');
});

test("a deleted server's records go through its host's role; a deleted credential logs in no more", async () => {
  const id = placed.get('host2')!;
  await ok('server', 'delete', id);
  await until(() => json('server', 'list', '--name', '^apart-'), (l: any[]) => !l.some((s) => s.ID === id));
  const ports = await json('port', 'list', '--device-owner', 'compute:nova');
  assert.equal(ports.length, 1);
  assert.deepEqual(refusals(agents.get('host2')!), []);

  await stopAgent(agents.get('host2')!);
  agents.delete('host2');
  const gone = await nubo({}, 'host-credential', 'delete', 'host2', '--database', db.url);
  assert.equal(gone.code, 0, gone.stderr);
  await assert.rejects(asHost('host2', async () => undefined), /does not exist|authentication failed/);
  assert.equal((await asOwner((c) => c.query("select * from compute_host_roles where host = 'host2'"))).rowCount, 0);
});
