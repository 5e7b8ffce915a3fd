// Volume: create-from-image of a 1 GiB qcow2 image holding 1000 MiB of random data (MB/s of the image's virtual size, from the API
// call to `available`) beside `qemu-img convert` of the same image alone, 100 blank volumes
// created in parallel (seconds until all are available), and the attach and detach latency in a
// running qemu guest of the test image (median of a few rounds: from the API call to the guest's
// kernel reporting the disk on its console, and to the volume being available again).
// Run: npx tsx bench/volume.ts   (needs qemu-utils, curl, qemu-system-x86 and the guest image tools)
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUNDS = 5;
const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MB/s`;

/** A qcow2 image uploaded from a file (curl streams it; the bench's process does not hold it). */
async function qcow2Image(c: TestCloud, token: string, name: string, path: string): Promise<string> {
  const image = (await c.request('POST', '/image/v2/images', { token, body: { name, disk_format: 'qcow2', container_format: 'bare' } })).body.id as string;
  const url = `${c.url}/image/v2/images/${image}/file`;
  await run('curl', ['-sf', '-X', 'PUT', '-H', `x-auth-token: ${token}`, '-H', 'content-type: application/octet-stream', '-T', path, url]);
  return image;
}

async function waitAll(c: TestCloud, token: string, project: string, ids: string[]): Promise<void> {
  for (const deadline = Date.now() + 600_000; ;) {
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

    const image = await qcow2Image(c, token, 'bench', qcow2);

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

/** Polls until check() is true; the time it took, in ms from start. */
async function until(what: string, start: number, check: () => Promise<boolean>, timeoutMs = 300_000): Promise<number> {
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
  return performance.now() - start;
}

/** Attach and detach of a 1 GiB volume in a running guest: from the API call to the guest's kernel
 * reporting the disk (its console, read through the API), and to `available` after a detach. */
async function attachLatency(): Promise<void> {
  const { stdout } = await run('bash', [join(import.meta.dirname, '../scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const c = await startTestCloud({ computeDriver: 'qemu' });
  try {
    const token = await c.adminToken();
    const project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id as string;
    // 2.37: `networks: 'none'`, a guest with no NIC, needs no network service set up.
    const nova = (method: string, path: string, body?: unknown) =>
      c.request(method, `/compute/v2.1${path}`, { token, body, headers: { 'openstack-api-version': 'compute 2.37' } });
    const cinder = (method: string, path: string, body?: unknown) => c.request(method, `/volume/v3/${project}${path}`, { token, body });
    const image = await qcow2Image(c, token, 'guest', stdout.trim().split('\n').at(-1)!);
    const flavor = (await nova('POST', '/flavors', { flavor: { name: 'nano', ram: 256, vcpus: 1, disk: 1 } })).body.flavor.id as string;
    const server = (await nova('POST', '/servers', { server: { name: 'bench', imageRef: image, flavorRef: flavor, networks: 'none' } })).body.server
      .id as string;
    const consoleText = async () => ((await nova('POST', `/servers/${server}/action`, { 'os-getConsoleOutput': { length: -1 } })).body.output ?? '') as string;
    await until('the guest is ready', performance.now(), async () => /nubo-guest ready: /.test(await consoleText()), 600_000);
    const volume = (await cinder('POST', '/volumes', { volume: { size: 1, name: 'attach-bench' } })).body.volume.id as string;
    const status = async () => (await cinder('GET', `/volumes/${volume}`)).body.volume.status as string;
    await until('the volume is available', performance.now(), async () => (await status()) === 'available');

    const attach: number[] = [];
    const detach: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // The kernel reports each hot-plug once: count the reports so far.
      const seen = (await consoleText()).match(/\[vd[b-z]\] 2097152 512-byte logical blocks/g)?.length ?? 0;
      let t = performance.now();
      const r = await nova('POST', `/servers/${server}/os-volume_attachments`, { volumeAttachment: { volumeId: volume } });
      if (r.status !== 200) throw new Error(`attach: ${r.status} ${JSON.stringify(r.body)}`);
      attach.push(
        await until(
          'the guest sees the disk',
          t,
          async () => ((await consoleText()).match(/\[vd[b-z]\] 2097152 512-byte logical blocks/g)?.length ?? 0) > seen,
        ),
      );
      await until('in-use', performance.now(), async () => (await status()) === 'in-use');
      t = performance.now();
      const d = await nova('DELETE', `/servers/${server}/os-volume_attachments/${volume}`);
      if (d.status !== 202) throw new Error(`detach: ${d.status} ${JSON.stringify(d.body)}`);
      detach.push(await until('available after the detach', t, async () => (await status()) === 'available'));
    }
    console.log(`attach, API call to the guest's kernel seeing the disk: median ${secs(median(attach))} of ${ROUNDS} (${attach.map(secs).join(', ')})`);
    console.log(`detach, API call to available (the guest let it go): median ${secs(median(detach))} of ${ROUNDS} (${detach.map(secs).join(', ')})`);
    await nova('DELETE', `/servers/${server}`);
    await until('the server is gone', performance.now(), async () => (await nova('GET', `/servers/${server}`)).status === 404);
  } finally {
    await c.stop();
  }
}

await main();
await attachLatency();
