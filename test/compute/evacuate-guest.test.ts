import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { cliAs, freshPostgres, httpClient, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { nbdOpens } from '../helpers/nbd.ts';
import { nuboArgv } from '../helpers/nubo-command.ts';

// Evacuation of a real guest: a PostgreSQL controller and two `nubo agent`s on the qemu driver (in
// this machine's namespace; the guest has no network). The guest's agent is killed with SIGKILL,
// leaving its qemu running as a dead host's would be; once the host is down, evacuate starts the
// server on the other host from its image, and the old agent, restarted, stops the old qemu.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const HOSTS = ['qhost1', 'qhost2'];

let db: Awaited<ReturnType<typeof freshPostgres>>;
let controller: SpawnedNubo;
let work: string;
const agents = new Map<string, ChildProcess>();
const dataDirOf = (host: string) => join(work, host);

const cli = cliAs(() => controller.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => eventually(what, () => check().catch(() => false), timeoutMs);

/** `nubo agent` for a host on the qemu driver; resolves once it says it is up. */
async function startAgent(host: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      ...nuboArgv,
      'agent',
      ...['--database', db.url, '--data-dir', dataDirOf(host), '--compute-host', host, '--compute-driver', 'qemu', '--network-dataplane', 'fake'],
      ...['--image-data-dir', controller.dataDir, '--host-ip', '127.0.0.1', '--report-interval', '1'],
    ],
    { cwd: root, env: { ...process.env, NUBO_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nubo agent ${host} did not start:\n${out}`)), 120_000);
    const take = (d: Buffer) => ((out += d), out.includes('Nubo agent is up') && (clearTimeout(timer), resolve()));
    child.stdout!.on('data', take);
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`nubo agent ${host} exited with ${code}:\n${out}`))));
  });
  child.removeAllListeners('exit');
  agents.set(host, child);
}

async function killAgent(host: string, signal: NodeJS.Signals): Promise<void> {
  const child = agents.get(host)!;
  agents.delete(host);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** The qemu processes of a server, each with the host whose data directory it runs from. */
async function qemusOf(id: string): Promise<{ pid: number; host: string }[]> {
  const { stdout } = await run('pgrep', ['-f', `qemu-system.*${id}`]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((pid) => {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return { pid: Number(pid), host: HOSTS.find((h) => cmdline.includes(dataDirOf(h) + '/')) ?? 'elsewhere' };
    });
}

/** Evacuates the server to dest (the HTTP API: the CLI of this Debian fails reading the answer,
 * docs/multi-host.md) and waits for it ACTIVE there. */
async function evacuate(id: string, name: string, dest: string): Promise<void> {
  const http = httpClient(controller.url);
  const token = await http.login('admin', controller.env.OS_PASSWORD!, 'admin');
  const evacuated = await http.request('POST', `/compute/v2.1/servers/${id}/action`, {
    token,
    headers: { 'openstack-api-version': 'compute 2.29' },
    body: { evacuate: { host: dest } },
  });
  assert.equal(evacuated.status, 200, JSON.stringify(evacuated.body));
  await until(`${name} ACTIVE on the other host`, async () => {
    const shown = await json('server', 'show', name);
    return shown.status === 'ACTIVE' && shown['OS-EXT-SRV-ATTR:host'] === dest;
  });
}

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  work = tempDir('nubo-evacuate-');
  db = await freshPostgres();
  controller = await spawnNubo({
    dataDir: join(work, 'controller'),
    args: ['--database', db.url, '--no-agents', '--compute-host', 'controller', '--compute-driver', 'fake'],
    env: { NUBO_REPORT_INTERVAL: '1', NUBO_SERVICE_DOWN_TIME: '4', NUBO_VOLUME_EXPORT_ADDRESS: '127.0.0.1' },
  });
  for (const host of HOSTS) await startAgent(host);
  await cli('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
});

after(async () => {
  for (const host of [...agents.keys()]) await killAgent(host, 'SIGTERM');
  // Guests outlive their agent by design: a test that failed half-way must not leave one running.
  if (work) for (const host of HOSTS) await run('pkill', ['-9', '-f', dataDirOf(host) + '/']).catch(() => undefined);
  await controller?.stop();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a real guest of a killed agent is evacuated to the other host and boots there from its image; the old agent, back, stops its qemu', async () => {
  const made = await json(
    '--os-compute-api-version',
    '2.37',
    'server',
    'create',
    '--flavor',
    'm1.nano',
    '--image',
    'nubo-guest',
    '--nic',
    'none',
    '--config-drive',
    'true',
    'vm',
  );
  const id: string = made.id;
  let shown: any;
  await until('vm ACTIVE', async () => (shown = await json('server', 'show', 'vm')).status === 'ACTIVE');
  const source: string = shown['OS-EXT-SRV-ATTR:host'];
  const dest = HOSTS.find((h) => h !== source)!;
  const [old] = await qemusOf(id);
  assert.equal(old?.host, source);

  await killAgent(source, 'SIGKILL');
  await until(
    'its host down',
    async () => (await json('compute', 'service', 'list', '--host', source, '--service', 'nova-compute'))[0].State === 'down',
    30_000,
  );
  // The killed agent's qemu runs on, as a guest on a host cut off would.
  assert.deepEqual(
    (await qemusOf(id)).map((q) => q.pid),
    [old.pid],
  );

  await evacuate(id, 'vm', dest);
  const started = (await qemusOf(id)).find((q) => q.host === dest);
  assert.ok(started, 'a qemu of the server started by the other host');
  // It boots from the image: its console, in its new host's directory, says the guest is up.
  const consoleLog = join(dataDirOf(dest), 'compute', 'instances', id, 'console.log');
  await until('the evacuated guest booted', async () => readFileSync(consoleLog, 'utf8').includes('nubo-guest ready'), 240_000);

  await startAgent(source);
  await until('the old qemu stopped', async () => !(await qemusOf(id)).some((q) => q.pid === old.pid), 60_000);
  assert.deepEqual(await qemusOf(id), [started]);
  const [migration] = await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', id, '--type', 'evacuation');
  assert.deepEqual([migration['Source Compute'], migration['Dest Compute'], migration.Status], [source, dest, 'completed']);
  await cli('server', 'delete', '--wait', 'vm');
  assert.deepEqual(await qemusOf(id), []);
});

/** The TCP peers of a process's established connections to a local port. */
async function connectionsOf(pid: number, port: number): Promise<number> {
  const { stdout } = await run('ss', ['-Htnp', 'state', 'established', 'dst', `127.0.0.1:${port}`]);
  return stdout.split('\n').filter((l) => l.includes(`pid=${pid},`)).length;
}

test('a volume-backed real guest opens its volume over NBD with TLS; evacuated, it boots from it on the other host, and the dead host is cut off it', async () => {
  await cli('--os-compute-api-version', '2.37', 'server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--boot-from-volume', '1', '--nic', 'none', 'vm-bfv');
  let shown: any;
  await until('vm-bfv ACTIVE', async () => (shown = await json('server', 'show', 'vm-bfv')).status === 'ACTIVE', 240_000);
  const id: string = shown.id;
  const source: string = shown['OS-EXT-SRV-ATTR:host'];
  const dest = HOSTS.find((h) => h !== source)!;
  const [volume] = await json('volume', 'list', '--long');
  const volumeId: string = volume.ID;
  assert.equal(volume.Status, 'in-use');
  // A data volume hot-plugged into the running guest: in-use once its qemu has opened the export.
  const data = await json('volume', 'create', '--size', '1', 'data');
  await until('data available', async () => (await json('volume', 'show', 'data')).status === 'available', 60_000);
  await cli('server', 'add', 'volume', 'vm-bfv', 'data');
  await until('data in-use', async () => (await json('volume', 'show', 'data')).status === 'in-use', 60_000);
  const consoleOf = (host: string) => join(dataDirOf(host), 'compute', 'instances', id, 'console.log');
  await until('the guest booted from its volume', async () => readFileSync(consoleOf(source), 'utf8').includes('nubo-guest ready'), 240_000);

  // The controller serves it to the source's key alone; the guest's qemu holds a connection.
  const served = async (of = volumeId): Promise<{ port: number; hosts: string[] } | null | undefined> => {
    const c = new pg.Client(db.url);
    await c.connect();
    try {
      return (await c.query('select nbd_export from volume_volumes where id = $1', [of])).rows[0]?.nbd_export;
    } finally {
      await c.end();
    }
  };
  const exported = (await served())!;
  assert.deepEqual(exported.hosts, [source]);
  assert.equal(await nbdOpens({ dataDir: dataDirOf(source), host: source, address: '127.0.0.1', port: exported.port, volumeId }), true);
  assert.equal(await nbdOpens({ dataDir: dataDirOf(dest), host: dest, address: '127.0.0.1', port: exported.port, volumeId }), false, "another host's key is refused");
  const [old] = await qemusOf(id);
  assert.equal(await connectionsOf(old!.pid, exported.port), 1);
  const dataExport = (await served(data.id))!;
  assert.deepEqual(dataExport.hosts, [source]);
  assert.equal(await connectionsOf(old!.pid, dataExport.port), 1);

  await killAgent(source, 'SIGKILL');
  await until('its host down', async () => (await json('compute', 'service', 'list', '--host', source, '--service', 'nova-compute'))[0].State === 'down', 30_000);
  await evacuate(id, 'vm-bfv', dest);
  // It boots again from the same volume, opened over NBD by the other host.
  await until('the evacuated guest booted from its volume', async () => readFileSync(consoleOf(dest), 'utf8').includes('nubo-guest ready'), 240_000);
  const moved = (await served())!;
  assert.deepEqual(moved.hosts, [dest]);
  assert.equal(await nbdOpens({ dataDir: dataDirOf(dest), host: dest, address: '127.0.0.1', port: moved.port, volumeId }), true);
  assert.equal(await nbdOpens({ dataDir: dataDirOf(source), host: source, address: '127.0.0.1', port: moved.port, volumeId }), false, "the dead host's key is refused");
  // The dead host's qemu runs on, but no longer reaches the volume: it cannot write it any more.
  assert.ok((await qemusOf(id)).some((q) => q.pid === old!.pid));
  assert.equal(await connectionsOf(old!.pid, moved.port), 0);
  const started = (await qemusOf(id)).find((q) => q.host === dest)!;
  assert.equal(await connectionsOf(started.pid, moved.port), 1);
  // Its data volume came along, opened by the new host alone.
  const dataMoved = (await served(data.id))!;
  assert.deepEqual(dataMoved.hosts, [dest]);
  assert.equal(await connectionsOf(started.pid, dataMoved.port), 1);
  assert.equal(await connectionsOf(old!.pid, dataMoved.port), 0);

  await startAgent(source);
  await until('the old qemu stopped', async () => !(await qemusOf(id)).some((q) => q.pid === old!.pid), 60_000);
  await cli('server', 'delete', '--wait', 'vm-bfv');
  // Once no guest elsewhere holds it, the volume is served no more.
  await until('the exports gone', async () => (await served()) === null && (await served(data.id)) === null, 30_000);
  assert.equal(await nbdOpens({ dataDir: dataDirOf(dest), host: dest, address: '127.0.0.1', port: moved.port, volumeId }), false);
  await cli('volume', 'delete', volumeId, 'data');
});
