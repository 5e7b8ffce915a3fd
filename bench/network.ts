// Network: 10,000 ports (BENCH_PORTS) on one /16 — the create rate and the list latency; and the agent's
// time to converge 100 new ports (taps, DHCP entries, firewall rules) on the Linux data plane.
// Run: npx tsx bench/network.ts   (the second part runs as root, in a namespace of its own)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';
import { fmt, measure } from './stats.ts';

const run = promisify(execFile);

async function setup(c: TestCloud, cidr: string, ports: number) {
  const token = await c.adminToken();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await c.request(method, `/networking/v2.0${path}`, { token, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
  await call('PUT', `/quotas/${project}`, { quota: { port: ports + 10 } });
  const net = (await call('POST', '/networks', { network: { name: 'bench' } })).network;
  await call('POST', '/subnets', { subnet: { network_id: net.id, cidr, ip_version: 4 } });
  return { call, net };
}

/** How many ports the scale part makes (BENCH_PORTS; the figure is at 10,000). */
const PORTS = Number(process.env.BENCH_PORTS ?? 10_000);

async function scale(): Promise<void> {
  const c = await startTestCloud();
  const { call, net } = await setup(c, '10.0.0.0/16', PORTS);
  const created = await measure(PORTS, 8, () => call('POST', '/ports', { port: { network_id: net.id, port_security_enabled: false } }));
  console.log(`${PORTS} ports on a /16, 8 in flight        ${created.perSecond.toFixed(0)} ports/s   p50 ${fmt(created.p50)}   p99 ${fmt(created.p99)}`);
  const all = await measure(10, 1, async () => {
    const n = (await call('GET', '/ports')).ports.length;
    if (n < PORTS) throw new Error(`expected ${PORTS} ports, got ${n}`);
  });
  console.log(`GET /ports, ${PORTS} ports                  p50 ${fmt(all.p50)}   p99 ${fmt(all.p99)}`);
  const page = await measure(100, 1, () => call('GET', '/ports?limit=50'));
  console.log(`GET /ports?limit=50                       p50 ${fmt(page.p50)}   p99 ${fmt(page.p99)}`);
  const one = await measure(100, 1, () =>
    call('GET', `/ports?fixed_ips=ip_address%3D10.0.${Math.floor(Math.random() * 39)}.${1 + Math.floor(Math.random() * 250)}`),
  );
  console.log(`GET /ports?fixed_ips=ip_address=…        p50 ${fmt(one.p50)}   p99 ${fmt(one.p99)}`);
  await c.stop();
}

async function converge(): Promise<void> {
  const ns = `nubo-b${randomBytes(3).toString('hex')}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    const c = await startTestCloud({ networkNetns: ns });
    const { call, net } = await setup(c, '10.1.0.0/24', 100);
    const host = c.cloud.config.computeHost;
    await c.cloud.network.agent.idle();
    const t0 = performance.now();
    await measure(100, 8, () => call('POST', '/ports', { port: { network_id: net.id, device_owner: 'compute:nova', 'binding:host_id': host } }));
    const accepted = performance.now() - t0;
    for (;;) {
      await c.cloud.network.agent.idle();
      const ports: { status: string; device_owner: string }[] = (await call('GET', `/ports?network_id=${net.id}&device_owner=compute:nova`)).ports;
      if (ports.every((p) => p.status === 'ACTIVE')) break;
    }
    const done = performance.now() - t0;
    console.log(`agent: 100 ports wired (taps, DHCP, rules)  API ${fmt(accepted)}, converged after ${fmt(done)}`);
    for (const p of (await call('GET', `/ports?network_id=${net.id}`)).ports) if (p.device_owner !== 'network:dhcp') await call('DELETE', `/ports/${p.id}`);
    await call('DELETE', `/networks/${net.id}`);
    await c.cloud.network.agent.idle();
    await c.stop();
  } finally {
    const { stdout } = await run('ip', ['netns', 'list']);
    for (const line of stdout.split('\n')) if (line.startsWith(ns)) await run('ip', ['netns', 'del', line.split(' ')[0]!]).catch(() => undefined);
  }
}

await scale();
if (process.getuid?.() === 0) await converge();
else console.log('agent convergence: skipped (needs root for the Linux data plane)');
