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
import { hosts } from '../src/compute/tables.ts';

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

/**
 * Boot-to-ACTIVE of ten servers of the test guest, made in one request, with root disks as local
 * qcow2 overlays of a host copy of the image and as RBD clones of it (compute_images_type), the
 * image raw in the rbd store both times; then the space their ten disks hold.
 */
async function tenServers(env: Record<string, string>, guestRaw: string): Promise<void> {
  for (const type of ['local', 'rbd'] as const) {
    const cloud = await startTestCloud({ computeDriver: 'qemu', env: { ...env, NUBO_COMPUTE_IMAGES_TYPE: type } });
    try {
      const token = await cloud.adminToken();
      const call = (method: string, path: string, body?: unknown) => cloud.request(method, `/compute/v2.1${path}`, { token, body });
      const project = (await cloud.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
      await call('PUT', `/os-quota-sets/${project}`, { quota_set: { instances: 10, cores: 10, ram: 10 * 256 } });
      // Ten one-vCPU servers on a small host: its CPU allocation ratio raised, as Nova's cpu_allocation_ratio is.
      await cloud.cloud.store.db.update(hosts).set({ cpuRatio: 16 });
      const flavor = (await call('POST', '/flavors', { flavor: { name: 'nano', ram: 256, disk: 1, vcpus: 1 } })).body.flavor.id;
      const image = (await cloud.request('POST', '/image/v2/images', { token, body: { name: 'guest', disk_format: 'raw', container_format: 'bare' } })).body.id;
      await run('curl', ['-sS', '-f', '-X', 'PUT', '-T', guestRaw, '-H', `x-auth-token: ${token}`, '-H', 'content-type: application/octet-stream', `${cloud.url}/image/v2/images/${image}/file`]);
      const start = performance.now();
      const made = await call('POST', '/servers', { server: { name: 'b', imageRef: image, flavorRef: flavor, min_count: 10, max_count: 10 } });
      if (made.status !== 202) throw new Error(`server create: ${made.status} ${JSON.stringify(made.body)}`);
      for (const deadline = Date.now() + 600_000; ; await new Promise((r) => setTimeout(r, 50))) {
        const all: { status: string }[] = (await call('GET', '/servers/detail')).body.servers;
        if (all.filter((s) => s.status === 'ACTIVE').length === 10) break;
        if (all.some((s) => s.status === 'ERROR') || Date.now() > deadline) throw new Error(`not all ACTIVE: ${all.map((s) => s.status).join(' ')}`);
      }
      const active = performance.now() - start;
      const held =
        type === 'rbd'
          ? (JSON.parse((await run('rbd', ['--conf', join(cephDir, 'ceph.conf'), 'du', '-p', 'vms', '--format', 'json'])).stdout) as { total_used_size: number }).total_used_size
          : Number((await run('du', ['-sb', join(cloud.dataDir, 'compute', 'instances')])).stdout.split('\t')[0]);
      console.log(`10 servers to ACTIVE, ${type === 'rbd' ? 'RBD clones ' : 'local disks'}  ${(active / 1000).toFixed(1).padStart(5)} s, their disks hold ${(held / MiB).toFixed(1)} MiB`);
      for (const s of (await call('GET', '/servers')).body.servers) await call('DELETE', `/servers/${s.id}`);
      for (const deadline = Date.now() + 300_000; (await call('GET', '/servers')).body.servers.length && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
      await cloud.request('DELETE', `/image/v2/images/${image}`, { token });
    } finally {
      // Guests outlive their cloud by design: none of the bench's may stay.
      await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
      await cloud.stop();
    }
  }
}

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
  // And rbd export to a pipe, the most a download through Nubo can reach.
  await run('rbd', ['--conf', join(cephDir, 'ceph.conf'), '--id', 'nubo-image', 'snap', 'create', 'images/bench-0@snap']);
  const exports: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await run('sh', ['-c', `rbd --conf '${join(cephDir, 'ceph.conf')}' --id nubo-image export --no-progress images/bench-0@snap - | cat >/dev/null`]);
    exports.push(performance.now() - start);
  }
  console.log(`rbd export alone, ${size / MiB} MiB: ${rate(median(exports))}`);

  const backends: Backend[] = [];
  try {
    for (const name of ['local', 'ceph'] as const) {
      const cloud = await startTestCloud({ env: name === 'ceph' ? env : {} });
      backends.push({ name, cloud, token: await cloud.adminToken() });
    }
    for (const [title, measure] of sections) {
      for (const b of backends) console.log(`${title.padEnd(32)} ${b.name.padEnd(6)} ${await measure(b)}`);
    }
    const { stdout: guest } = await run('bash', [join(root, 'scripts/guest/build.sh')], { maxBuffer: 1 << 24 });
    await run('qemu-img', ['convert', '-O', 'raw', guest.trim().split('\n').at(-1)!, join(work, 'guest.raw')]);
    await tenServers(env, join(work, 'guest.raw'));
    // What the cluster holds on the host: the OSD's file is sparse, so du counts its used blocks.
    const du = JSON.parse((await run('rbd', ['--conf', join(cephDir, 'ceph.conf'), 'du', '-p', 'images', '--format', 'json'])).stdout) as { total_used_size: number };
    const onDisk = Number((await run('du', ['-sb', '--apparent-size', cephDir])).stdout.split('\t')[0]);
    const blocks = Number((await run('du', ['-sB1', cephDir])).stdout.split('\t')[0]);
    console.log(`images pool (rbd du) ${(du.total_used_size / MiB).toFixed(0)} MiB; the cluster's directory ${(blocks / MiB).toFixed(0)} MiB on disk (${(onDisk / MiB).toFixed(0)} MiB apparent)`);
  } finally {
    for (const b of backends) await b.cloud.stop();
    await run(join(root, 'scripts/ceph/down.sh'), [cephDir]);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
