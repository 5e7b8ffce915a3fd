// Logins against I/O: image download latency while wrong-password logins flood the identity API,
// beside the same download on a quiet cloud and under a flood of the cheapest requests (what any
// flood costs this machine), and the token issue rate at 20 valid logins in flight. Two clouds in
// turn: one with the login limits lifted (the password hashing alone must not starve the server)
// and one with the default limits (the flood is refused early).
// Run: npx tsx bench/auth-flood.ts [MiB]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/cloud.ts';
import { measure, percentile } from './stats.ts';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 64) * MiB;
const FLOOD = 50;
const USERS = 50;
const DOWNLOADS = 5;
const LONGEST = 60_000;
const ISSUES = 100;
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'nubo-bench-'));

async function call(url: string, method: string, token: string | undefined, body?: unknown) {
  const headers: Record<string, string> = { ...(token ? { 'x-auth-token': token } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

const loginBody = (name: string, password: string, project?: string) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
  },
});

/** A login; its status, whatever it is. */
async function login(base: string, body: unknown): Promise<number> {
  const res = await fetch(`${base}/identity/v3/auth/tokens?nocatalog`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

function download(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    request(url, { headers: { 'x-auth-token': token } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (bytes === size ? resolve(performance.now() - start) : reject(new Error(`download: ${res.statusCode}, ${bytes} bytes`))));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function downloads(url: string, token: string): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < DOWNLOADS; i++) ms.push(await download(url, token));
  return ms.sort((a, b) => a - b);
}

/** FLOOD calls of `send` in flight until stopped (or LONGEST ms). */
function flood(send: (i: number) => Promise<number>) {
  const statuses: Record<number, number> = {};
  let running = true;
  let n = 0;
  const started = performance.now();
  const done = Promise.all(
    Array.from({ length: FLOOD }, async () => {
      while (running && performance.now() - started < LONGEST) {
        const status = await send(n++);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return {
    /** Whether the flood still runs: a download that ends after it was not measured under it. */
    get on() {
      return performance.now() - started < LONGEST;
    },
    async stop() {
      running = false;
      await done;
      const seconds = (performance.now() - started) / 1000;
      return `${n} in ${seconds.toFixed(1)} s (${Object.entries(statuses).map(([s, k]) => `${k}× ${s}`).join(', ')})`;
    },
  };
}

/** Downloads, one after the other, while the flood runs; those that outlast it are counted. */
async function underFlood(file: string, token: string, send: (i: number) => Promise<number>) {
  const f = flood(send);
  await new Promise((r) => setTimeout(r, 1000));
  const times: number[] = [];
  let outlasted = 0;
  for (let i = 0; i < DOWNLOADS && f.on; i++) {
    times.push(await download(file, token));
    if (!f.on) outlasted++;
  }
  return { times: times.sort((a, b) => a - b), outlasted, what: await f.stop() };
}

const ms = (v: number) => `${(v / 1000).toFixed(2)} s`;
const spread = (l: number[]) => `median ${ms(percentile(l, 50))}, max ${ms(l.at(-1)!)}`;

async function run(name: string, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const dataDir = join(work, name);
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/nubo.ts'), 'up', '--port', String(port), '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, NUBO_LOG_LEVEL: 'warn', NUBO_ADMIN_PASSWORD: 'bench', NUBO_COMPUTE_DRIVER: 'fake', NUBO_NETWORK_DATAPLANE: 'fake', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('Nubo is up') && resolve());
      child.on('exit', (code) => reject(new Error(`nubo up exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const admin = loginBody('admin', 'bench', 'admin');
    const token = (await call(`${base}/identity/v3/auth/tokens?nocatalog`, 'POST', undefined, admin)).headers.get('x-subject-token')!;
    for (let i = 0; i < USERS; i++) await call(`${base}/identity/v3/users`, 'POST', token, { user: { name: `user${i}`, password: `secret${i}` } });
    const image = ((await (await call(`${base}/image/v2/images`, 'POST', token, { name: 'bench', disk_format: 'raw', container_format: 'bare' })).json()) as { id: string }).id;
    const file = `${base}/image/v2/images/${image}/file`;
    await new Promise<void>((resolve, reject) => {
      const req = request(file, { method: 'PUT', headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': size } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`upload: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(randomBytes(size));
    });

    const quiet = await downloads(file, token);
    const issue = await measure(ISSUES, 20, async () => {
      const status = await login(base, admin);
      if (status !== 201) throw new Error(`token issue: ${status}`);
    });
    // A flood of the cheapest requests first: what any flood of this size costs the downloads here.
    const cheap = await underFlood(file, token, async () => {
      const res = await fetch(`${base}/identity/v3`);
      await res.arrayBuffer();
      return res.status;
    });
    const logins = await underFlood(file, token, (i) => login(base, loginBody(`user${i % USERS}`, 'wrong')));

    console.log(`\n${name}:`);
    console.log(`  download ${size / MiB} MiB, quiet          ${spread(quiet)}`);
    for (const [what, r] of [[`${FLOOD} GET /identity/v3 in flight`, cheap], [`${FLOOD} wrong-password logins in flight over ${USERS} users`, logins]] as const) {
      const partly = r.outlasted ? `; ${r.outlasted} outlasted the flood's ${LONGEST / 1000} s, so took longer still` : '';
      console.log(`  download ${size / MiB} MiB, under ${what}: ${spread(r.times)}   (${(percentile(r.times, 50) / percentile(quiet, 50)).toFixed(1)} × quiet; ${r.times.length} downloads${partly})`);
      console.log(`    the flood: ${r.what}`);
    }
    console.log(`  token issue, 20 valid logins in flight: ${issue.perSecond.toFixed(1)} req/s, p50 ${ms(issue.p50)}, p99 ${ms(issue.p99)}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

try {
  console.log(`auth-flood bench: nubo up from ${root}, a ${size / MiB} MiB image, ${DOWNLOADS} downloads each way`);
  await run('login limits lifted (password hashing only)', { NUBO_LOGIN_USER_FAILURES: '1000000', NUBO_LOGIN_ADDRESS_ATTEMPTS: '1000000' });
  await run('default login limits', {});
} finally {
  rmSync(work, { recursive: true, force: true });
}
