// Storage backends side by side: the local file store and Ceph (a single-node cluster that the
// bench starts with scripts/ceph/up.sh and removes at the end). Each section measures one thing on
// both and prints a line per backend; a new comparison is one more entry in `sections`.
// Run: npx tsx bench/storage.ts [MiB] [rounds]   (needs curl and the Ceph packages)
import { execFile } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 256) * MiB;
const ROUNDS = Number(process.argv[3] ?? 3);
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'nubo-bench-storage-'));
const cephDir = join(work, 'ceph');
const source = join(work, 'image.raw');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (ms: number) => `${(size / MiB / (ms / 1000)).toFixed(0).padStart(5)} MiB/s`;

interface Backend {
  name: 'local' | 'ceph';
  cloud: TestCloud;
  token: string;
}

/** Random bytes, so that nothing can compress or skip them. */
function makeSource(): void {
  const fd = openSync(source, 'w');
  for (let done = 0; done < size; done += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, size - done)));
  fsyncSync(fd);
  closeSync(fd);
}

/** A queued image, then curl PUTs the file and reports its own time. */
async function upload(b: Backend): Promise<number> {
  const res = await b.cloud.request('POST', '/image/v2/images', { token: b.token, body: { name: 'bench', disk_format: 'raw', container_format: 'bare' } });
  const url = `${b.cloud.url}/image/v2/images/${res.body.id}/file`;
  const { stdout } = await run('curl', ['-sS', '-f', '-X', 'PUT', '-T', source, '-H', `x-auth-token: ${b.token}`, '-H', 'content-type: application/octet-stream', '-H', 'expect:', '-w', '%{time_total}', url]);
  return Number(stdout) * 1000;
}

async function download(b: Backend, id: string): Promise<number> {
  const url = `${b.cloud.url}/image/v2/images/${id}/file`;
  const { stdout } = await run('curl', ['-sS', '-f', '-o', '/dev/null', '-H', `x-auth-token: ${b.token}`, '-w', '%{time_total}', url]);
  return Number(stdout) * 1000;
}

const sections: [string, (b: Backend) => Promise<string>][] = [
  [
    `image upload, ${size / MiB} MiB`,
    async (b) => {
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) times.push(await upload(b));
      return rate(median(times));
    },
  ],
  [
    `image download, ${size / MiB} MiB`,
    async (b) => {
      const res = await b.cloud.request('GET', '/image/v2/images?name=bench', { token: b.token });
      const id = res.body.images[0].id as string;
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) times.push(await download(b, id));
      return rate(median(times));
    },
  ],
];

async function main(): Promise<void> {
  makeSource();
  const { stdout: up } = await run(join(root, 'scripts/ceph/up.sh'), [cephDir], { timeout: 180_000 });
  console.log(up.trim());
  const env = Object.fromEntries(
    (await run('grep', ['^NUBO_', join(cephDir, 'nubo.env')])).stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  // The cluster alone: rbd import of the same file, the most an upload through Nubo can reach.
  const imports: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await run('rbd', ['--conf', join(cephDir, 'ceph.conf'), '--id', 'nubo-image', 'import', '--no-progress', source, `images/bench-${i}`]);
    imports.push(performance.now() - start);
  }
  console.log(`rbd import alone, ${size / MiB} MiB: ${rate(median(imports))}`);

  const backends: Backend[] = [];
  try {
    for (const name of ['local', 'ceph'] as const) {
      const cloud = await startTestCloud({ env: name === 'ceph' ? env : {} });
      backends.push({ name, cloud, token: await cloud.adminToken() });
    }
    for (const [title, measure] of sections) {
      for (const b of backends) console.log(`${title.padEnd(32)} ${b.name.padEnd(6)} ${await measure(b)}`);
    }
  } finally {
    for (const b of backends) await b.cloud.stop();
    await run(join(root, 'scripts/ceph/down.sh'), [cephDir]);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
