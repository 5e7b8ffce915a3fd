// Footprint: the resident memory of `nubo up` (its own process, fake drivers, embedded database)
// at the end of a first start on a new data directory, at rest after a restart, its peak during
// each start, and at rest again once 1,000 servers and 1,000 images exist. It runs the compiled
// command (bin/nubo.js, what `npm install` builds) and the sources through tsx (`npm start`).
// Run: npm run bench:footprint
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/cloud.ts';
import { readCredentials } from '../src/credentials.ts';

const root = new URL('..', import.meta.url).pathname;
const MiB = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`.padStart(8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS and VmHWM (the peak) of a process, in kB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'))![1]);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Starts the cloud and resolves once its banner is out. */
async function up(argv: string[], dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...argv, 'up'], {
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

async function measure(label: string, argv: string[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nubo-footprint-'));
  const port = await freePort();
  try {
    let child = await up(argv, dataDir, port);
    const first = memoryOf(child.pid!);
    await down(child);
    child = await up(argv, dataDir, port);
    await sleep(5000);
    const rest = memoryOf(child.pid!);
    await populate(`http://127.0.0.1:${port}`, dataDir);
    await sleep(5000);
    const full = memoryOf(child.pid!);
    await down(child);
    console.log(`${label.padEnd(28)} first start: peak ${MiB(first.peak)}, after ${MiB(first.rss)}`);
    console.log(`${''.padEnd(28)} restart:     peak ${MiB(rest.peak)}, at rest ${MiB(rest.rss)}`);
    console.log(`${''.padEnd(28)} 1,000 servers (fake) and 1,000 images: ${MiB(full.rss)} (peak ${MiB(full.peak)})`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (existsSync(join(root, 'dist/cli/nubo.js'))) await measure('nubo up (compiled)', [join(root, 'bin/nubo.js')]);
else console.log('nubo up (compiled): dist/ is missing, run `npm run build` first');
await measure('npm start (sources, tsx)', ['--import', 'tsx', join(root, 'src/cli/nubo.ts')]);
