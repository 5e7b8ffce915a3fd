// Image data throughput: a 1 GiB upload and download through `nubo up`, beside what this machine
// does with the same bytes on its own (write them to disk, hash them with sha512 in Node), and
// the server's extra memory while it receives them. Run: npx tsx bench/image.ts [MiB]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, readFileSync, rmSync, closeSync, fsyncSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MiB;
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'nubo-bench-'));
const source = join(work, 'image.raw');

const rate = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
const fmt = (r: number) => `${r.toFixed(0).padStart(5)} MiB/s`;

/** Random bytes, so that nothing along the way can compress or skip them. */
function makeSource(): void {
  const fd = openSync(source, 'w');
  for (let done = 0; done < size; done += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, size - done)));
  fsyncSync(fd);
  closeSync(fd);
}

/** The disk: the same bytes written in 1 MiB pieces and synced, as the image store does. */
async function diskLimit(): Promise<number> {
  const target = join(work, 'disk-limit');
  const fd = openSync(target, 'w');
  const start = performance.now();
  for await (const chunk of createReadStream(source, { highWaterMark: MiB })) writeSync(fd, chunk as Buffer);
  fsyncSync(fd);
  const ms = performance.now() - start;
  closeSync(fd);
  rmSync(target);
  return rate(size, ms);
}

async function hashLimit(algorithm: string): Promise<{ rate: number; digest: string }> {
  const hash = createHash(algorithm);
  const start = performance.now();
  for await (const chunk of createReadStream(source, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  return { rate: rate(size, performance.now() - start), digest };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function call(url: string, method: string, token: string | undefined, body?: unknown) {
  const headers: Record<string, string> = { ...(token ? { 'x-auth-token': token } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

/** PUT the file, streamed from disk, as a client with the whole file at hand does. */
function upload(url: string, token: string, bytes: number, file = source): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(url, { method: 'PUT', headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': bytes } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 204 ? resolve(performance.now() - start) : reject(new Error(`upload: ${res.statusCode}`))));
    });
    req.on('error', reject);
    createReadStream(file, { highWaterMark: MiB, end: bytes - 1 }).pipe(req);
  });
}

function download(url: string, token: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    request(url, { headers: { 'x-auth-token': token } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ ms: performance.now() - start, bytes }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const ROUNDS = 3;

async function main(): Promise<void> {
  console.log(`preparing ${size / MiB} MiB of random data in ${work}`);
  makeSource();
  const port = await freePort();
  const dataDir = join(work, 'cloud');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/nubo.ts'), 'up', '--port', String(port), '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, NUBO_LOG_LEVEL: 'warn', NUBO_ADMIN_PASSWORD: 'bench', NUBO_IMAGE_QUOTA_BYTES: '1T' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('Nubo is up') && resolve());
      child.on('exit', (code) => reject(new Error(`nubo up exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const auth = await call(`${base}/identity/v3/auth/tokens`, 'POST', undefined, {
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'bench' } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } },
    });
    const token = auth.headers.get('x-subject-token')!;
    const create = async () => ((await (await call(`${base}/image/v2/images`, 'POST', token, { name: 'bench', disk_format: 'raw', container_format: 'bare' })).json()) as { id: string }).id;

    // A small upload first, so that the baseline includes code already loaded and run once.
    await upload(`${base}/image/v2/images/${await create()}/file`, token, 8 * MiB);
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssOf(child.pid!);
    let extra = 0;

    // The host is shared and its disk uneven: each figure is the best of a few rounds, limits and
    // server measured in turn.
    const runs: { disk: number; sha512: number; md5: number; up: number; down: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const disk = await diskLimit();
      const sha512 = await hashLimit('sha512');
      const md5 = await hashLimit('md5');
      const id = await create();
      const before = rssOf(child.pid!);
      const sampler = setInterval(() => (extra = Math.max(extra, rssOf(child.pid!) - before)), 20);
      const upMs = await upload(`${base}/image/v2/images/${id}/file`, token, size);
      clearInterval(sampler);
      const image = (await (await call(`${base}/image/v2/images/${id}`, 'GET', token)).json()) as { os_hash_value: string; size: number };
      if (image.os_hash_value !== sha512.digest || image.size !== size) throw new Error('the stored image differs from the source');
      const down = await download(`${base}/image/v2/images/${id}/file`, token);
      if (down.bytes !== size) throw new Error(`download returned ${down.bytes} bytes`);
      await call(`${base}/image/v2/images/${id}`, 'DELETE', token);
      runs.push({ disk, sha512: sha512.rate, md5: md5.rate, up: rate(size, upMs), down: rate(size, down.ms) });
      console.log(`round ${round + 1}: ${Object.entries(runs.at(-1)!).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} MiB/s`);
    }
    const best = (k: keyof (typeof runs)[number]) => Math.max(...runs.map((r) => r[k]));
    const [disk, sha512, md5, up, dl] = [best('disk'), best('sha512'), best('md5'), best('up'), best('down')];
    const limit = Math.min(disk, sha512);
    console.log(`\nmachine limits (best of ${ROUNDS}, same ${size / MiB} MiB, ${cpus().length} CPUs):`);
    console.log(`  disk write + fsync     ${fmt(disk)}`);
    console.log(`  sha512 in Node         ${fmt(sha512)}`);
    console.log(`  md5 in Node            ${fmt(md5)}   (the server computes md5 and sha512, each in a thread)`);
    console.log(`  limit = min(disk, sha512) ${fmt(limit)}`);
    console.log(`\nnubo up (child process ${child.pid}), best of ${ROUNDS}:`);
    console.log(`  upload                 ${fmt(up)}   ${(up / limit).toFixed(2)} × limit  (${(up / disk).toFixed(2)} × disk, ${(up / sha512).toFixed(2)} × sha512)`);
    console.log(`  download               ${fmt(dl)}   ${(dl / limit).toFixed(2)} × limit`);
    console.log(`  server RSS             ${(idle / MiB).toFixed(0)} MiB idle, +${(extra / MiB).toFixed(1)} MiB at most during an upload`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
