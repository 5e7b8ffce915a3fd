// Footprint: the resident memory of `nubo up` (its own process, fake drivers, embedded database)
// once a first start on a new data directory is done and at rest after it, the same for a
// restart, the peak during each start (of Nubo's process alone, and with the processes it starts,
// such as the one that creates the database), and at rest again once 1,000 servers and 1,000
// images exist. It runs the compiled command as installed (bin/nubo.js run as a program, so that
// its first line gives node its options) and the sources through tsx with the same options, as
// `npm start` does. As root, it also measures what serving metadata costs for
// 10 networks on the Linux data plane, in namespaces of its own.
// Run: npm run bench:footprint
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/cloud.ts';
import { readCredentials } from '../src/credentials.ts';
import { createLogger } from '../src/lib/log.ts';
import { createDataplane } from '../src/network/dataplane/index.ts';
import type { Dataplane, DhcpSpec } from '../src/network/dataplane/driver.ts';
import { namespaces } from '../src/network/dataplane/linux/names.ts';

const root = new URL('..', import.meta.url).pathname;
/** The options the `nubo` command's first line gives node, which `npm start` gives too. */
const nodeOptions = readFileSync(join(root, 'bin/nubo.js'), 'utf8').split('\n')[0]!.split(' ').filter((a) => a.startsWith('--'));
const MiB = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`.padStart(8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS and VmHWM (the peak) of a process, in kB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'))![1]);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const rssOf = (pid: number) => memoryOf(pid).rss;

/** The parent of every process, from /proc. */
function parents(): Map<number, number> {
  const parent = new Map<number, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // The field after the command name (in parentheses) is the state, then the parent's pid.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  return parent;
}

/** Samples the RSS of pid and all its descendants every 20 ms; stop() gives the highest sum, kB. */
function treePeak(pid: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    const parent = parents();
    const tree = new Set([pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [p, pp] of parent) if (tree.has(pp) && !tree.has(p)) grew = Boolean(tree.add(p));
    }
    let sum = 0;
    for (const p of tree) {
      try {
        sum += rssOf(p);
      } catch {
        // Gone meanwhile.
      }
    }
    peak = Math.max(peak, sum);
  };
  const timer = setInterval(sample, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Starts the cloud and resolves once its banner is out. */
async function up([command, ...argv]: string[], dataDir: string, port: number, spawned: (pid: number) => void = () => {}): Promise<ChildProcess> {
  const child = spawn(command!, [...argv, 'up'], {
    cwd: root,
    env: {
      ...process.env,
      NUBO_DATA_DIR: dataDir,
      NUBO_PORT: String(port),
      NUBO_COMPUTE_DRIVER: 'fake',
      NUBO_NETWORK_DATAPLANE: 'fake',
      NUBO_IMAGE_QUOTA_IMAGES: '5000',
      NUBO_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  spawned(child.pid!);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Nubo is up')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`nubo up exited with ${code}: ${out}`)));
  });
  return child;
}

async function down(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Creates n things with `inFlight` requests at a time. */
async function many(n: number, inFlight: number, create: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await create(next++);
    }),
  );
}

async function populate(url: string, dataDir: string): Promise<void> {
  const admin = readCredentials(dataDir)!;
  const login = await fetch(`${url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: admin.username, domain: { name: 'Default' }, password: admin.password } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  const token = login.headers.get('x-subject-token')!;
  const project = ((await login.json()) as any).token.project.id;
  const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-auth-token': token, 'content-type': type },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? new Blob([new Uint8Array(body)]) : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : ((await res.json()) as any);
  };
  await call('PUT', `/compute/v2.1/os-quota-sets/${project}`, { quota_set: { instances: 2000, cores: 2000, ram: 2000 * 64 } });
  const flavor = (await call('POST', '/compute/v2.1/flavors', { flavor: { name: 'bench', ram: 64, vcpus: 1, disk: 0 } })).flavor.id;
  const image = async (i: number) => {
    const { id } = await call('POST', '/image/v2/images', { name: `img${i}`, disk_format: 'raw', container_format: 'bare' });
    await call('PUT', `/image/v2/images/${id}/file`, Buffer.alloc(4096), 'application/octet-stream');
    return id as string;
  };
  const boot = await image(0);
  await many(999, 8, async (i) => void (await image(i + 1)));
  await many(1000, 8, async (i) => void (await call('POST', '/compute/v2.1/servers', { server: { name: `s${i}`, imageRef: boot, flavorRef: flavor } })));
}

const line = (what: string, m: { done: number; rest: number; peak: number; tree: number }) =>
  `${what.padEnd(12)} after start ${MiB(m.done)}, at rest ${MiB(m.rest)}; peak ${MiB(m.peak)} (with its children ${MiB(m.tree)})`;

async function measure(label: string, argv: string[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nubo-footprint-'));
  const port = await freePort();
  const startMeasured = async () => {
    let peak: { stop(): number } | undefined;
    const child = await up(argv, dataDir, port, (pid) => (peak = treePeak(pid)));
    const done = memoryOf(child.pid!);
    const tree = peak!.stop();
    await sleep(5000);
    const rest = memoryOf(child.pid!);
    return { child, m: { done: done.rss, rest: rest.rss, peak: rest.peak, tree: Math.max(tree, rest.peak) } };
  };
  try {
    const first = await startMeasured();
    await down(first.child);
    const again = await startMeasured();
    await populate(`http://127.0.0.1:${port}`, dataDir);
    await sleep(5000);
    const full = memoryOf(again.child.pid!);
    await down(again.child);
    console.log(label);
    console.log(`  ${line('first start', first.m)}`);
    console.log(`  ${line('restart', again.m)}`);
    console.log(`  1,000 servers (fake) and 1,000 images: ${MiB(full.rss)} (peak ${MiB(full.peak)})`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs fn and gives its duration in ms. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/**
 * What serving metadata costs for n networks on the Linux data plane, in namespaces of its own:
 * the time DHCP with metadata takes to start beyond DHCP without it, the memory it holds (in this
 * process, and in processes of its own in the DHCP namespaces), and the time a restart takes to
 * serve them all again.
 */
async function metadataCost(n: number): Promise<void> {
  const prefix = `nubo-f${randomBytes(2).toString('hex')}`;
  const hostNs = `${prefix}-host`;
  const stateDir = mkdtempSync(join(tmpdir(), 'nubo-footprint-net-'));
  // dnsmasq reads its files as nobody.
  chmodSync(stateDir, 0o755);
  const metadataSocket = join(stateDir, 'metadata.sock');
  const service = createServer((_req, res) => res.end('{}'));
  await new Promise<void>((r) => service.listen(metadataSocket, r));
  execFileSync('ip', ['netns', 'add', hostNs]);
  const open = () =>
    createDataplane({ driver: 'linux', hostNetns: hostNs, prefix, stateDir, physicalNetworks: {}, metadataSocket, log: createLogger('silent') });
  let dp: Dataplane = open();
  const ids = Array.from({ length: 2 * n }, () => randomUUID());
  const spec = (i: number): DhcpSpec => ({
    networkId: ids[i]!,
    port: { id: randomUUID(), mac: `fa:16:3e:00:01:${i.toString(16).padStart(2, '0')}`, addresses: [`10.30.${i}.2/24`] },
    subnets: [{ id: randomUUID(), cidr: `10.30.${i}.0/24`, gatewayIp: `10.30.${i}.1`, dnsNameservers: [], hostRoutes: [] }],
    hosts: [],
    mtu: 1450,
    // The first n networks without metadata, the next n with it.
    metadata: i >= n,
  });
  const withMetadata = Array.from({ length: n }, (_, i) => n + i);
  try {
    for (let i = 0; i < 2 * n; i++) await dp.ensureNetwork({ id: ids[i]!, type: 'vxlan', segmentationId: 3000 + i, mtu: 1450 });
    const without = await timed(async () => {
      for (let i = 0; i < n; i++) await dp.ensureDhcp(spec(i));
    });
    const before = rssOf(process.pid);
    const withIt = await timed(async () => {
      for (const i of withMetadata) await dp.ensureDhcp(spec(i));
    });
    const own = rssOf(process.pid) - before;
    // Every process in the namespaces but dnsmasq is there for metadata.
    let others = 0;
    let count = 0;
    for (const i of withMetadata) {
      const pids = execFileSync('ip', ['netns', 'pids', namespaces(prefix).dhcp(ids[i]!)], { encoding: 'utf8' })
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
      for (const pid of pids) {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('dnsmasq')) continue;
        others += rssOf(pid);
        count++;
      }
    }
    await dp.close();
    dp = open();
    const again = await timed(async () => {
      for (const i of withMetadata) await dp.ensureDhcp(spec(i));
    });
    const ms = (t: number) => `${t.toFixed(0)} ms`;
    console.log(`metadata for ${n} networks (Linux data plane)`);
    console.log(`  DHCP for ${n} networks: ${ms(without)} without metadata, ${ms(withIt)} with it (+${ms((withIt - without) / n)} a network)`);
    console.log(`  memory: this process ${MiB(own)} more, ${count} processes of its own ${MiB(others)}`);
    console.log(`  after a restart, DHCP with metadata for the ${n} networks again: ${ms(again)}`);
  } finally {
    for (const id of ids) await dp.deleteDhcp(id).catch(() => undefined);
    for (const id of ids) await dp.deleteNetwork(id).catch(() => undefined);
    await dp.close();
    execFileSync('ip', ['netns', 'del', hostNs]);
    service.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.getuid?.() === 0) await metadataCost(10);
else console.log('metadata for 10 networks: needs root (namespaces, dnsmasq)');
console.log(`node options: ${nodeOptions.join(' ') || 'none'}`);
if (existsSync(join(root, 'dist/cli/nubo.js'))) await measure('nubo up (compiled)', [join(root, 'bin/nubo.js')]);
else console.log('nubo up (compiled): dist/ is missing, run `npm run build` first');
await measure('npm start (sources, tsx)', [process.execPath, ...nodeOptions, '--import', 'tsx', join(root, 'src/cli/nubo.ts')]);
