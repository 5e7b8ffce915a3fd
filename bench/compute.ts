// Compute: with the fake driver, 200 servers created in parallel → seconds until all are ACTIVE,
// and GET /servers/detail latency with 1,000 servers; with qemu, Nubo's own time from the API
// call to qemu's exec beside qemu's start time measured alone, and the wall time of each lifecycle
// action on one guest (API call → settled in its status: resize, rebuild, shelve/unshelve,
// suspend/resume, rescue) beside a plain stop and start.
// Run: npx tsx bench/compute.ts   (the qemu part needs qemu-system-x86 and the guest image tools)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';
import { computeOf, rawImage } from '../test/compute/helpers.ts';
import { pickAccel } from '../src/compute/virt/qemu/driver.ts';
import { fmt, measure } from './stats.ts';

const run = promisify(execFile);

async function setup(c: TestCloud, quota: number) {
  const token = await c.adminToken();
  const api = computeOf(c, token);
  const project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
  await api.call('PUT', `/os-quota-sets/${project}`, { quota_set: { instances: quota, cores: quota, ram: quota * 64 } });
  const flavor = await api.flavor('bench', 64, 0);
  return { api, token, flavor };
}

async function fake(): Promise<void> {
  const c = await startTestCloud({ computeDriver: 'fake' });
  const { api, token, flavor } = await setup(c, 2000);
  const image = await rawImage(c, token, 4096);
  const body = (i: number) => ({ server: { name: `s${i}`, imageRef: image, flavorRef: flavor } });

  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await api.call('POST', '/servers', body(i))).body.server.id as string));
  const accepted = performance.now() - t0;
  for (const deadline = Date.now() + 120_000; ;) {
    const all: { status: string }[] = (await api.call('GET', '/servers/detail')).body.servers;
    if (all.filter((s) => s.status === 'ACTIVE').length >= ids.length) break;
    if (Date.now() > deadline)
      throw new Error(
        `not all ACTIVE: ${JSON.stringify(Object.entries(all.reduce((m: Record<string, number>, s) => ({ ...m, [s.status]: (m[s.status] ?? 0) + 1 }), {})))}`.slice(
          0,
          500,
        ),
      );
    await new Promise((r) => setTimeout(r, 20));
  }
  const active = performance.now() - t0;
  console.log(`fake: 200 servers in parallel     accepted in ${fmt(accepted)}, all ACTIVE after ${fmt(active)}`);

  for (let i = 200; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => api.call('POST', '/servers', body(i + k))));
  const r = await measure(50, 1, async () => {
    const res = await api.call('GET', '/servers/detail');
    if (res.body.servers.length !== 1000) throw new Error(`expected 1000 servers, got ${res.body.servers.length}`);
  });
  console.log(`fake: GET /servers/detail, 1,000 servers   p50 ${fmt(r.p50)}   p99 ${fmt(r.p99)}`);
  const m = await measure(200, 1, () => api.call('GET', '/servers/detail?limit=50'));
  console.log(`fake: GET /servers/detail?limit=50          p50 ${fmt(m.p50)}   p99 ${fmt(m.p99)}`);
  await c.stop();
}

/** When qemu was exec'd for a guest, in ms since boot: its process's start time (field 22 of
 * /proc/PID/stat, in clock ticks of 1/100 s). */
async function execTime(uuid: string): Promise<number> {
  for (;;) {
    const { stdout } = await run('pgrep', ['-f', `qemu-system-x86_64.*${uuid}`]).catch(() => ({ stdout: '' }));
    const pid = stdout.trim().split('\n')[0];
    // The daemonizing parent matches too, and is gone a moment later: looked for again then.
    const stat = pid
      ? (() => {
          try {
            return readFileSync(`/proc/${pid}/stat`, 'utf8');
          } catch {
            return undefined;
          }
        })()
      : undefined;
    if (stat) return Number(stat.split(') ')[1]!.split(' ')[19]) * 10;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Each action's wall time on one guest, from the API call until the server settles in `status`. */
async function lifecycle(api: ReturnType<typeof computeOf>, image: string, flavor: string, bigger: string): Promise<void> {
  const id = await api.create({ name: 'life', imageRef: image, flavorRef: flavor });
  await api.settled(id, 'ACTIVE', 300_000);
  // The last column: whether the step boots the guest. The next step waits (untimed) for that
  // boot's ready line: a guest still booting does not hear the power button, and its stop would
  // wait out the shutdown timeout.
  const steps: [string, unknown, string, boolean][] = [
    ['stop', { 'os-stop': null }, 'SHUTOFF', false],
    ['start', { 'os-start': null }, 'ACTIVE', true],
    ['suspend', { suspend: null }, 'SUSPENDED', false],
    ['resume', { resume: null }, 'ACTIVE', false],
    ['shelve (offloaded)', { shelve: null }, 'SHELVED_OFFLOADED', false],
    ['unshelve', { unshelve: null }, 'ACTIVE', true],
    ['rescue', { rescue: null }, 'RESCUE', true],
    ['unrescue', { unrescue: null }, 'ACTIVE', true],
    ['rebuild', { rebuild: { imageRef: image } }, 'ACTIVE', true],
    // A resize cannot shrink the disk: to the bigger flavor and back by a revert, then again, confirmed.
    ['resize', { resize: { flavorRef: bigger } }, 'VERIFY_RESIZE', true],
    ['revertResize', { revertResize: null }, 'ACTIVE', true],
    ['resize (again)', { resize: { flavorRef: bigger } }, 'VERIFY_RESIZE', true],
    ['confirmResize', { confirmResize: null }, 'ACTIVE', false],
  ];
  const readyLines = async () => ((await api.action(id, { 'os-getConsoleOutput': {} })).body.output ?? '').split('nubo-guest ready').length - 1;
  // A new boot adds a ready line; a rebuild or an unshelve starts a new console log with one.
  const readyAfter = async (before: number) => {
    for (let n = -1, end = Date.now() + 300_000; (n === before || n < 1) && Date.now() < end; n = await readyLines())
      await new Promise((r) => setTimeout(r, 500));
  };
  await readyAfter(0);
  for (const [name, body, status, boots] of steps) {
    const before = await readyLines();
    const t = performance.now();
    const res = await api.action(id, body);
    if (res.status >= 300) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
    await api.settled(id, status, 600_000);
    console.log(`qemu (${pickAccel()}): ${name.padEnd(20)} ${fmt(performance.now() - t)}`);
    if (boots) await readyAfter(before);
  }
  await api.call('DELETE', `/servers/${id}`);
  await api.gone(id, 60_000);
}

async function qemu(): Promise<void> {
  const { stdout } = await run('bash', [join(import.meta.dirname, '../scripts/guest/build.sh')], { maxBuffer: 1 << 24 });
  const guest = stdout.trim().split('\n').at(-1)!;
  const c = await startTestCloud({ computeDriver: 'qemu' });
  const { api, token } = await setup(c, 10);
  const flavor = await api.flavor('nano', 256, 1);
  const bigger = await api.flavor('micro', 384, 2);
  const created = await c.request('POST', '/image/v2/images', { token, body: { name: 'g', disk_format: 'qcow2', container_format: 'bare' } });
  await fetch(`${c.url}/image/v2/images/${created.body.id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: readFileSync(guest),
  });
  const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;

  // Nubo: from the API call to qemu's exec (image copy, overlay, config drive, scheduling).
  const overheads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = uptime();
    const id = await api.create({ name: `q${i}`, imageRef: created.body.id, flavorRef: flavor, config_drive: true });
    overheads.push((await execTime(id)) - before);
    await api.settled(id, 'ACTIVE', 120_000);
    await api.call('DELETE', `/servers/${id}`);
    await api.gone(id, 60_000);
  }
  await lifecycle(api, created.body.id, flavor, bigger);
  await c.stop();

  // qemu alone: the same kind of command line on an overlay made beforehand, until QMP answers.
  const work = mkdtempSync(join(tmpdir(), 'nubo-bench-'));
  const alone: number[] = [];
  try {
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', guest, join(work, 'disk')]);
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await run('qemu-system-x86_64', [
        ...['-accel', pickAccel() === 'kvm' ? 'kvm' : 'tcg,tb-size=32', '-m', '256', '-nodefaults', '-display', 'none', '-nic', 'none'],
        ...['-drive', `file=${join(work, 'disk')},if=virtio,format=qcow2`, '-qmp', `unix:${join(work, 'q')},server=on,wait=off`],
        ...['-daemonize', '-pidfile', join(work, 'pid')],
      ]);
      alone.push(performance.now() - t);
      await run('kill', ['-9', readFileSync(join(work, 'pid'), 'utf8').trim()]);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `qemu (${pickAccel()}): Nubo, API call → qemu exec        median ${fmt(median(overheads))}  (${overheads.map(fmt).join(', ')}; first copies the image)`,
  );
  console.log(`qemu (${pickAccel()}): qemu alone, exec → daemonized      median ${fmt(median(alone))}`);
}

await fake();
await qemu();
