// Network: 10,000 ports (BENCH_PORTS, 0 to skip) on one /16 — the create rate and the list latency;
// and the agent's time to converge 100 and 500 new ports (taps, DHCP entries served, firewall rules)
// on the Linux data plane, on one network and spread over ten, so that growth with ports per network
// shows. Run: npx tsx bench/network.ts   (the second part runs as root, in namespaces of its own)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { and, eq, like } from 'drizzle-orm';
import { startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';
import { hostNamespace } from '../test/helpers/netns.ts';
import { ports as portsTable } from '../src/network/tables.ts';
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

/** One convergence case: `ports` new ports spread evenly over `nets` networks. */
async function converge(ports: number, nets: number, limitMs: number): Promise<void> {
  // A namespace standing for the host; its cleanup kills the dnsmasqs and removes every namespace
  // and the state directory the cloud made under it.
  const host = await hostNamespace('b');
  try {
    const c = await startTestCloud({ networkNetns: host.name });
    try {
      const { call, net } = await setup(c, '10.1.0.0/22', ports + 10 * nets);
      const networksIds = [net.id];
      for (let i = 1; i < nets; i++) {
        const more = (await call('POST', '/networks', { network: { name: `bench-${i}` } })).network;
        await call('POST', '/subnets', { subnet: { network_id: more.id, cidr: `10.${2 + i}.0.0/22`, ip_version: 4 } });
        networksIds.push(more.id);
      }
      const computeHost = c.cloud.config.computeHost;
      const db = c.cloud.store.db;
      // Timed from a quiet agent: every network's DHCP server up (its port ACTIVE).
      const dhcpUp = async () =>
        (await db.select({ id: portsTable.id }).from(portsTable).where(and(eq(portsTable.deviceOwner, 'network:dhcp'), eq(portsTable.status, 'ACTIVE'))))
          .length === nets;
      while (!(await dhcpUp())) await new Promise((r) => setTimeout(r, 50));
      await c.cloud.network.agent!.idle();
      const active = async () =>
        (await db.select({ id: portsTable.id }).from(portsTable).where(and(like(portsTable.deviceOwner, 'compute:%'), eq(portsTable.status, 'ACTIVE'))))
          .length;

      const t0 = performance.now();
      const created = await measure(ports, 8, (i) =>
        call('POST', '/ports', { port: { network_id: networksIds[i % nets], device_owner: 'compute:nova', 'binding:host_id': computeHost } }),
      );
      const accepted = performance.now() - t0;
      let n = 0;
      while ((n = await active()) < ports && performance.now() - t0 < limitMs) await new Promise((r) => setTimeout(r, 20));
      const done = performance.now() - t0;
      const label = `agent: ${ports} ports on ${nets} network${nets > 1 ? 's' : ' '}`.padEnd(34);
      if (n < ports) {
        console.log(`${label} API ${fmt(accepted)}, only ${n} ACTIVE after ${fmt(done)}: gave up`);
        return;
      }
      // What ACTIVE stands for, checked on the host itself (not timed): a tap each, every lease
      // served by its network's dnsmasq, every port filtered.
      const dp = c.cloud.network.dataplane;
      const { stdout } = await run('ip', ['netns', 'exec', host.name, 'ip', '-json', 'link', 'show', 'type', 'tun']);
      const taps = (JSON.parse(stdout || '[]') as unknown[]).length;
      let served = 0;
      for (const id of networksIds) served += (await dp.servedLeases(id)).length;
      const inventory = await dp.inventory();
      const filtered = (await Promise.all(inventory.ports.map((id) => dp.isFiltered(id)))).filter(Boolean).length;
      console.log(
        `${label} API ${fmt(accepted)} (${created.perSecond.toFixed(0)}/s), converged after ${fmt(done)} (${fmt(done - accepted)} after the last answer), ${fmt(done / ports)}/port; taps ${taps}, leases served ${served}, filtered ${filtered}`,
      );
    } finally {
      await c.stop();
    }
  } finally {
    await host.cleanup();
  }
}

if (PORTS > 0) await scale();
if (process.getuid?.() !== 0) console.log('agent convergence: skipped (needs root for the Linux data plane)');
else {
  // BENCH_CONVERGE: cases as ports x networks, comma-separated; BENCH_LIMIT_S: when a case gives up.
  const cases = (process.env.BENCH_CONVERGE ?? '100x1,100x10,500x1,500x10').split(',').map((c) => c.split('x').map(Number) as [number, number]);
  for (const [ports, nets] of cases) await converge(ports, nets, Number(process.env.BENCH_LIMIT_S ?? 600) * 1000);
}
