// Image data throughput: a 1 GiB upload and download through `nubo up`, beside what this machine
// does with the same bytes on its own (write them to disk, read them, hash them in Node) and
// beside the simplest server: one thread that reads and sends 64 KiB at a time (and on upload
// receives, hashes md5 and sha512 and writes 64 KiB at a time). Every transfer is a plain curl.
// Each figure is the median of a few rounds, first on the machine as it is ("quiet"), then with
// two busy processes beside it that the bench starts and stops itself.
// Run: npx tsx bench/image.ts [MiB] [rounds] [quiet,hog]   (needs curl and python3)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MiB;
const ROUNDS = Number(process.argv[3] ?? 3);
/** Both by default; one alone when measuring a change against one of them. */
const PHASES = (process.argv[4] ?? 'quiet,hog').split(',');
const root = new URL('..', import.meta.url).pathname;
/** Nubo runs with the options the `nubo` command's first line gives node, as `npm start` does. */
const nodeOptions = readFileSync(join(root, 'bin/nubo.js'), 'utf8').split('\n')[0]!.split(' ').filter((a) => a.startsWith('--'));
const work = mkdtempSync(join(tmpdir(), 'nubo-bench-'));
const source = join(work, 'image.raw');
const run = promisify(execFile);

const rate = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
const fmt = (r: number) => `${r.toFixed(0).padStart(5)} MiB/s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Random bytes, so that nothing along the way can compress or skip them. */
function makeSource(): void {
  const fd = openSync(source, 'w');
  for (let done = 0; done < size; done += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, size - done)));
  fsyncSync(fd);
  closeSync(fd);
}

/** The disk: the same bytes written in 1 MiB pieces and synced, as the image store does. */
async function diskWrite(): Promise<number> {
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

/** Reading the file back, as a download does: from the page cache when the memory holds it. */
async function fileRead(): Promise<number> {
  const start = performance.now();
  for await (const chunk of createReadStream(source, { highWaterMark: MiB })) void chunk;
  return rate(size, performance.now() - start);
}

async function hashRate(algorithm: string): Promise<{ rate: number; digest: string }> {
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

/** CPU seconds the process has used so far, every thread counted (user + system). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A transfer's rate, and the server's CPU seconds per GiB for it: what the share of a busy
 * machine it gets has to pay for. */
async function measured(pid: number, transfer: () => Promise<number>): Promise<[number, number]> {
  const before = cpuOf(pid);
  const r = await transfer();
  return [r, ((cpuOf(pid) - before) * 1024 * MiB) / size];
}

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

/** curl PUTs the file and reports its own timing; no 100-continue round trip. */
async function curlUpload(url: string, headers: string[], file = source, bytes = size): Promise<number> {
  const args = ['-sS', '-o', '/dev/null', '-X', 'PUT', '-T', file, '-H', 'Expect:', '-H', 'content-type: application/octet-stream', '-w', '%{http_code} %{time_total}'];
  const { stdout } = await run('curl', [...args, ...headers.flatMap((h) => ['-H', h]), url]);
  const [code, seconds] = stdout.trim().split(' ');
  if (code !== '204') throw new Error(`upload to ${url}: ${code}`);
  return rate(bytes, Number(seconds) * 1000);
}

async function curlDownload(url: string, headers: string[]): Promise<number> {
  const { stdout } = await run('curl', ['-sS', '-f', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', ...headers.flatMap((h) => ['-H', h]), url]);
  const [bytes, seconds] = stdout.trim().split(' ').map(Number);
  if (bytes !== size) throw new Error(`download from ${url}: ${bytes} bytes`);
  return rate(size, seconds! * 1000);
}

/** The simplest server, in one thread: GET sends the file 64 KiB at a time; PUT receives 64 KiB
 * at a time, hashes it with md5 and sha512, writes it, syncs at the end. */
const LOOP_SERVER = `
import hashlib, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
CHUNK = 65536
while True:
    conn, _ = srv.accept()
    with conn:
        head = b''
        while b'\\r\\n\\r\\n' not in head:
            head += conn.recv(CHUNK)
        head, _, body = head.partition(b'\\r\\n\\r\\n')
        lines = head.decode().split('\\r\\n')
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(':', 1) for l in lines[1:])}
        if lines[0].startswith('GET'):
            conn.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' % os.path.getsize(path))
            with open(path, 'rb', buffering=0) as f:
                while chunk := f.read(CHUNK):
                    conn.sendall(chunk)
        else:
            left = int(headers['content-length'])
            md5, sha512 = hashlib.md5(), hashlib.sha512()
            with open(out, 'wb', buffering=0) as f:
                while left > 0:
                    body = body or conn.recv(CHUNK)
                    if not body:
                        break
                    md5.update(body); sha512.update(body); f.write(body)
                    left -= len(body)
                    body = b''
                os.fsync(f.fileno())
            os.unlink(out)
            conn.sendall(b'HTTP/1.1 204 No Content\\r\\nConnection: close\\r\\n\\r\\n')
`;

function startLoopServer(): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn('python3', ['-c', LOOP_SERVER, source, join(work, 'loop-upload')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, base: `http://127.0.0.1:${d.toString().trim()}` }));
    child.once('exit', (code) => reject(new Error(`the loop server exited with ${code}`)));
  });
}

async function startNubo(): Promise<{ child: ChildProcess; base: string; token: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', join(root, 'src/cli/nubo.ts'), 'up', '--port', String(port), '--data-dir', join(work, 'cloud')], {
    cwd: root,
    env: { ...process.env, NUBO_LOG_LEVEL: 'warn', NUBO_ADMIN_PASSWORD: 'bench', NUBO_IMAGE_QUOTA_BYTES: '1T' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('Nubo is up') && resolve());
    child.once('exit', (code) => reject(new Error(`nubo up exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const auth = await call(`${base}/identity/v3/auth/tokens`, 'POST', undefined, {
    auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'bench' } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } },
  });
  return { child, base, token: auth.headers.get('x-subject-token')! };
}

/** Two processes that spin, as other work on a busy machine does. */
function startHog(): ChildProcess[] {
  return [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

interface Round {
  disk: number;
  read: number;
  sha512: number;
  md5: number;
  up: number;
  down: number;
  loopUp: number;
  loopDown: number;
  upCpu: number;
  downCpu: number;
  loopUpCpu: number;
  loopDownCpu: number;
}

async function main(): Promise<void> {
  console.log(`preparing ${size / MiB} MiB of random data in ${work}; nubo up with node options: ${nodeOptions.join(' ') || 'none'}`);
  makeSource();
  const nubo = await startNubo();
  const loop = await startLoopServer();
  let hog: ChildProcess[] = [];
  try {
    const auth = [`x-auth-token: ${nubo.token}`];
    const create = async () => ((await (await call(`${nubo.base}/image/v2/images`, 'POST', nubo.token, { name: 'bench', disk_format: 'raw', container_format: 'bare' })).json()) as { id: string }).id;
    const expected = (await hashRate('sha512')).digest;

    // A small upload first, so that the baseline includes code already loaded and run once.
    const small = join(work, 'small.raw');
    writeFileSync(small, randomBytes(8 * MiB));
    await curlUpload(`${nubo.base}/image/v2/images/${await create()}/file`, auth, small, 8 * MiB);
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssOf(nubo.child.pid!);
    let extra = 0;

    const phases: { name: string; load: number; rounds: Round[] }[] = [];
    for (const name of PHASES) {
      if (name === 'hog') hog = startHog();
      const phase = { name, load: loadavg()[0]!, rounds: [] as Round[] };
      phases.push(phase);
      console.log(`\n${name}: load average ${phase.load.toFixed(1)} on ${cpus().length} CPUs${name === 'hog' ? ', plus 2 busy processes' : ''}`);
      for (let i = 0; i < ROUNDS; i++) {
        const disk = await diskWrite();
        const read = await fileRead();
        const sha512 = (await hashRate('sha512')).rate;
        const md5 = (await hashRate('md5')).rate;
        const id = await create();
        const before = rssOf(nubo.child.pid!);
        const sampler = setInterval(() => (extra = Math.max(extra, rssOf(nubo.child.pid!) - before)), 20);
        const [up, upCpu] = await measured(nubo.child.pid!, () => curlUpload(`${nubo.base}/image/v2/images/${id}/file`, auth)).finally(() => clearInterval(sampler));
        const image = (await (await call(`${nubo.base}/image/v2/images/${id}`, 'GET', nubo.token)).json()) as { os_hash_value: string; size: number };
        if (image.os_hash_value !== expected || image.size !== size) throw new Error('the stored image differs from the source');
        const [down, downCpu] = await measured(nubo.child.pid!, () => curlDownload(`${nubo.base}/image/v2/images/${id}/file`, auth));
        await call(`${nubo.base}/image/v2/images/${id}`, 'DELETE', nubo.token);
        const [loopUp, loopUpCpu] = await measured(loop.child.pid!, () => curlUpload(`${loop.base}/upload`, []));
        const [loopDown, loopDownCpu] = await measured(loop.child.pid!, () => curlDownload(`${loop.base}/file`, []));
        phase.rounds.push({ disk, read, sha512, md5, up, down, loopUp, loopDown, upCpu, downCpu, loopUpCpu, loopDownCpu });
        const figures = Object.entries(phase.rounds.at(-1)!).map(([k, v]) => (k.endsWith('Cpu') ? `${k} ${v.toFixed(2)} s/GiB` : `${k} ${v.toFixed(0)} MiB/s`));
        console.log(`  round ${i + 1}: ${figures.join(', ')}`);
      }
      for (const p of hog.splice(0)) p.kill('SIGKILL');
    }

    const m = (phase: (typeof phases)[number], k: keyof Round) => median(phase.rounds.map((r) => r[k]));
    const row = (label: string, cell: (p: (typeof phases)[number]) => string) => console.log(`  ${label.padEnd(24)}${phases.map((p) => cell(p).padEnd(44)).join('')}`);
    console.log(`\nmedians of ${ROUNDS} rounds of ${size / MiB} MiB, ${cpus().length} CPUs`);
    console.log(`  ${''.padEnd(24)}${phases.map((p) => `${p.name} (load ${p.load.toFixed(1)} at start)`.padEnd(44)).join('')}`);
    console.log('machine limits');
    row('disk write + fsync', (p) => fmt(m(p, 'disk')));
    row('file read', (p) => fmt(m(p, 'read')));
    row('sha512 in Node', (p) => fmt(m(p, 'sha512')));
    row('md5 in Node', (p) => fmt(m(p, 'md5')));
    row('limit: min(disk, sha512)', (p) => fmt(Math.min(m(p, 'disk'), m(p, 'sha512'))));
    console.log('64 KiB loop, one thread (python3)');
    const cpu = (p: (typeof phases)[number], k: keyof Round) => `, server CPU ${m(p, k).toFixed(2)} s/GiB`;
    row('upload (md5 + sha512)', (p) => fmt(m(p, 'loopUp')) + cpu(p, 'loopUpCpu'));
    row('download', (p) => fmt(m(p, 'loopDown')) + cpu(p, 'loopDownCpu'));
    console.log('nubo up');
    const limit = (p: (typeof phases)[number]) => Math.min(m(p, 'disk'), m(p, 'sha512'));
    row('upload', (p) => `${fmt(m(p, 'up'))}  ${(m(p, 'up') / limit(p)).toFixed(2)} × limit, ${(m(p, 'up') / m(p, 'loopUp')).toFixed(2)} × loop`);
    row('', (p) => cpu(p, 'upCpu').slice(2));
    row('download', (p) => `${fmt(m(p, 'down'))}  ${(m(p, 'down') / m(p, 'read')).toFixed(2)} × read, ${(m(p, 'down') / m(p, 'loopDown')).toFixed(2)} × loop`);
    row('', (p) => cpu(p, 'downCpu').slice(2));
    // Other work on a shared machine comes and goes between rounds: a ratio within one round
    // compares transfers made under the same conditions, which a ratio of medians does not.
    const ratio = (p: (typeof phases)[number], f: (r: Round) => number) => median(p.rounds.map(f)).toFixed(2);
    console.log('within each round (median of the rounds\' ratios)');
    row('upload', (p) => `${ratio(p, (r) => r.up / Math.min(r.disk, r.sha512))} × limit, ${ratio(p, (r) => r.up / r.loopUp)} × loop`);
    row('download', (p) => `${ratio(p, (r) => r.down / r.loopDown)} × loop`);
    console.log(`  server RSS              ${(idle / MiB).toFixed(0)} MiB idle, +${(extra / MiB).toFixed(1)} MiB at most during an upload`);
  } finally {
    for (const p of hog) p.kill('SIGKILL');
    loop.child.kill('SIGKILL');
    nubo.child.kill('SIGTERM');
    await new Promise((r) => nubo.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
