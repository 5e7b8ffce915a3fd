// Volume: create-from-image of a 1 GiB qcow2 image holding 1000 MiB of random data (MB/s of the image's virtual size, from the API
// call to `available`) beside `qemu-img convert` of the same image alone, and 100 blank volumes
// created in parallel (seconds until all are available).
// Run: npx tsx bench/volume.ts   (needs qemu-utils and curl)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';

const run = promisify(execFile);
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MB/s`;

async function waitAll(c: TestCloud, token: string, project: string, ids: string[]): Promise<void> {
  for (const deadline = Date.now() + 600_000; ; ) {
    const vols: { id: string; status: string }[] = (await c.request('GET', `/volume/v3/${project}/volumes/detail`, { token })).body.volumes;
    const mine = vols.filter((v) => ids.includes(v.id));
    const failed = mine.find((v) => v.status === 'error');
    if (failed) throw new Error(`volume ${failed.id} went to error`);
    if (mine.filter((v) => v.status === 'available').length === ids.length) return;
    if (Date.now() > deadline) throw new Error('volumes did not become available in 10 minutes');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'nubo-bench-volume-'));
  const c = await startTestCloud();
  try {
    const token = await c.adminToken();
    const project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id as string;
    const api = (method: string, path: string, body?: unknown) => c.request(method, `/volume/v3/${project}${path}`, { token, body });
    await api('PUT', `/os-quota-sets/${project}`, { quota_set: { volumes: 1000, gigabytes: 10000 } });

    // A 1 GiB image of incompressible data, as qcow2: every cluster is allocated and converted.
    const raw = join(work, 'data.raw');
    const qcow2 = join(work, 'image.qcow2');
    // 1000 MiB of data in 1 GiB: the qcow2 file must not exceed the 1 GB volume (Cinder refuses an
    // image file larger than the volume, as this service does).
    await run('dd', ['if=/dev/urandom', `of=${raw}`, 'bs=4M', 'count=250', 'status=none']);
    await run('truncate', ['-s', String(GiB), raw]);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
    rmSync(raw);

    const out = join(work, 'out.raw');
    let t = performance.now();
    await run('qemu-img', ['convert', '-q', '-W', '-f', 'qcow2', '-O', 'raw', qcow2, out]);
    const alone = performance.now() - t;
    rmSync(out);

    const image = (await c.request('POST', '/image/v2/images', { token, body: { name: 'bench', disk_format: 'qcow2', container_format: 'bare' } })).body.id as string;
    await run('curl', ['-sf', '-X', 'PUT', '-H', `x-auth-token: ${token}`, '-H', 'content-type: application/octet-stream', '-T', qcow2, `${c.url}/image/v2/images/${image}/file`]);

    t = performance.now();
    const res = await api('POST', '/volumes', { volume: { size: 1, imageRef: image, name: 'from-image' } });
    if (res.status !== 202) throw new Error(`create from image: ${res.status} ${JSON.stringify(res.body)}`);
    await waitAll(c, token, project, [res.body.volume.id]);
    const fromImage = performance.now() - t;
    console.log(`create from a 1 GiB qcow2 image: ${rate(GiB, fromImage)} (${secs(fromImage)}, API call to available)`);
    console.log(`qemu-img convert alone:          ${rate(GiB, alone)} (${secs(alone)})`);

    t = performance.now();
    const ids = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const r = await api('POST', '/volumes', { volume: { size: 1, name: `p${i}` } });
        if (r.status !== 202) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.volume.id as string;
      }),
    );
    const accepted = performance.now() - t;
    await waitAll(c, token, project, ids);
    const all = performance.now() - t;
    console.log(`100 blank 1 GiB volumes in parallel: accepted in ${secs(accepted)}, all available after ${secs(all)}`);
  } finally {
    await c.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
