// Moving a real guest between hosts: scripts/multihost with the qemu driver and two hosts (host1
// also the network host), one test guest of 256 MiB reached through its floating IP. For each
// of BENCH_ROUNDS live migrations back and forth (default 6): the time from the request to ACTIVE
// on the other host and the pings lost meanwhile (one every 100 ms from the machine to the guest's
// floating IP); then for each of two cold migrations, the time to VERIFY_RESIZE, from the confirm
// to ACTIVE, and until the guest, booted again, answers. As root; builds the test guest image.
// Run: npx tsx bench/migration.ts
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { httpClient, tempDir } from '../test/helpers/cloud.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const image = (await run('bash', [join(root, 'scripts/guest/build.sh')], { maxBuffer: 1 << 24 })).stdout.trim().split('\n').at(-1)!;
const dir = tempDir('nubo-bench-mig-');
try {
  await run(join(root, 'scripts/multihost/up.sh'), [dir, '2'], {
    env: { ...process.env, NUBO_COMPUTE_DRIVER: 'qemu', NUBO_REPORT_INTERVAL: '2' },
    timeout: 300_000,
  });
  const vars = (file: string, re: RegExp) => Object.fromEntries([...readFileSync(join(dir, file), 'utf8').matchAll(re)].map((m) => [m[1]!, m[2]!]));
  const cloud = vars('cloud.env', /^(\w+)=(.*)$/gm);
  const rc = vars('openrc', /^export (\w+)=['"]?([^'"\n]*)['"]?$/gm);
  const c = httpClient(cloud.URL!);
  const token = await c.login(rc.OS_USERNAME!, rc.OS_PASSWORD!, rc.OS_PROJECT_NAME!);
  const api = async (method: string, path: string, body?: unknown, version = '2.30') => {
    const r = await c.request(method, path, { token, body, headers: { 'openstack-api-version': `compute ${version}` } });
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const imageId = (await api('POST', '/image/v2/images', { name: 'guest', disk_format: 'qcow2', container_format: 'bare' })).id;
  const upload = await fetch(`${cloud.URL}/image/v2/images/${imageId}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: readFileSync(image),
  });
  if (upload.status !== 204) throw new Error(`image upload: ${upload.status}`);
  const flavor = (await api('POST', '/compute/v2.1/flavors', { flavor: { name: 'nano', ram: 256, disk: 1, vcpus: 1 } })).flavor.id;
  const net = (await api('POST', '/networking/v2.0/networks', { network: { name: 'tnet' } })).network;
  const sub = (await api('POST', '/networking/v2.0/subnets', { subnet: { network_id: net.id, cidr: '192.168.88.0/24', ip_version: 4 } })).subnet;
  const extBase = cloud.EXT!.replace(/\.1\/24$/, '');
  const ext = (
    await api('POST', '/networking/v2.0/networks', {
      network: { name: 'ext', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
    })
  ).network;
  await api('POST', '/networking/v2.0/subnets', {
    subnet: {
      network_id: ext.id,
      cidr: `${extBase}.0/24`,
      gateway_ip: `${extBase}.1`,
      enable_dhcp: false,
      ip_version: 4,
      allocation_pools: [{ start: `${extBase}.10`, end: `${extBase}.99` }],
    },
  });
  const router = (await api('POST', '/networking/v2.0/routers', { router: { name: 'r1', external_gateway_info: { network_id: ext.id } } })).router;
  await api('PUT', `/networking/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
  const groups = (await api('GET', '/networking/v2.0/security-groups?name=default')).security_groups;
  await api('POST', '/networking/v2.0/security-group-rules', {
    security_group_rule: { security_group_id: groups[0].id, direction: 'ingress', protocol: 'icmp' },
  });
  const server = (await api('POST', '/compute/v2.1/servers', { server: { name: 'mover', imageRef: imageId, flavorRef: flavor, networks: [{ uuid: net.id }] } }))
    .server;
  const show = async () => (await api('GET', `/compute/v2.1/servers/${server.id}`)).server;
  const until = async (what: string, done: (s: any) => boolean) => {
    for (const end = Date.now() + 300_000; Date.now() < end; await sleep(100)) {
      const s = await show();
      if (s.status === 'ERROR') throw new Error(`${what}: ERROR ${JSON.stringify(s.fault)}`);
      if (done(s)) return s;
    }
    throw new Error(`${what}: not within 300 s`);
  };
  await until('ACTIVE', (s) => s.status === 'ACTIVE');
  const [port] = (await api('GET', `/networking/v2.0/ports?device_id=${server.id}`)).ports;
  const fip = (await api('POST', '/networking/v2.0/floatingips', { floatingip: { floating_network_id: ext.id, port_id: port.id } })).floatingip
    .floating_ip_address;

  // One ping every 100 ms for the whole run (busybox's: the machine may have no iputils, and it
  // prints only the answers); a migration's loss is the sequence numbers missing meanwhile.
  const answered = new Set<number>();
  const ping = spawn('busybox', ['ping', '-i', '0.1', fip], { stdio: ['ignore', 'pipe', 'ignore'] });
  ping.on('error', (err) => console.error(`ping: ${err.message}`));
  let out = '';
  ping.stdout.on('data', (d) => {
    out += d;
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const seq = /seq=(\d+)/.exec(out.slice(0, nl));
      out = out.slice(nl + 1);
      if (seq) answered.add(Number(seq[1]));
    }
  });
  const last = () => Math.max(-1, ...answered);
  try {
    for (let i = 0; answered.size < 5; i++) {
      if (i > 3000) throw new Error('the guest never answered pings');
      await sleep(100);
    }
    const live: { ms: number; lost: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const from = (await show())['OS-EXT-SRV-ATTR:host'];
      const to = from === 'host1' ? 'host2' : 'host1';
      const before = last();
      const t0 = performance.now();
      await api('POST', `/compute/v2.1/servers/${server.id}/action`, { 'os-migrateLive': { host: to, block_migration: 'auto' } });
      await until('live migration', (s) => s.status === 'ACTIVE' && s['OS-EXT-SRV-ATTR:host'] === to);
      const ms = performance.now() - t0;
      // Answers again for a second: what is missing in between was lost.
      const again = last();
      for (let i = 0; i < 300 && last() < again + 10; i++) await sleep(100);
      let lost = 0;
      for (let seq = before + 1; seq <= last(); seq++) if (!answered.has(seq)) lost++;
      live.push({ ms, lost });
      console.log(`live   ${from} → ${to}: ACTIVE there ${(ms / 1000).toFixed(2)} s after the request, ${lost} of ${last() - before} pings lost`);
    }
    console.log(
      `live   median of ${ROUNDS}: ${(median(live.map((l) => l.ms)) / 1000).toFixed(2)} s to ACTIVE, ${median(live.map((l) => l.lost))} pings lost (${median(live.map((l) => l.lost)) * 100} ms)`,
    );
    for (let round = 0; round < 2; round++) {
      const from = (await show())['OS-EXT-SRV-ATTR:host'];
      const t0 = performance.now();
      await api('POST', `/compute/v2.1/servers/${server.id}/action`, { migrate: null });
      await until('cold migration', (s) => s.status === 'VERIFY_RESIZE');
      const verify = performance.now() - t0;
      const t1 = performance.now();
      await api('POST', `/compute/v2.1/servers/${server.id}/action`, { confirmResize: null });
      await until('confirm', (s) => s.status === 'ACTIVE');
      const confirmed = performance.now() - t1;
      // The guest booted again on its new host: it answers pings (and its power button) once up.
      const seen = last();
      for (let i = 0; i < 3000 && last() <= seen; i++) await sleep(100);
      console.log(
        `cold   ${from} → ${(await show())['OS-EXT-SRV-ATTR:host']}: VERIFY_RESIZE ${(verify / 1000).toFixed(2)} s after the request, ACTIVE ${(confirmed / 1000).toFixed(2)} s after the confirm, answering pings ${((performance.now() - t0) / 1000).toFixed(2)} s after the request`,
      );
    }
  } finally {
    ping.kill();
  }
} finally {
  await run(join(root, 'scripts/multihost/down.sh'), [dir], { timeout: 120_000 });
}
process.exit(0);
