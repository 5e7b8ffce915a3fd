// Multi-host scheduling: a controller on PostgreSQL with its agents off and BENCH_HOSTS hosts
// (default 10), each a nubo agent on the fake driver, in this process with a store of its own;
// BENCH_SERVERS servers (default 100) asked in one request — the seconds until all are ACTIVE, the
// spread per host, and the same with the stack weigher. Needs the test PostgreSQL (test/helpers).
// As root, then TCP throughput between guests' namespaces on a vxlan network of scripts/multihost,
// across two hosts and on one.
// Run: npx tsx bench/multihost.ts
import { loadConfig } from '../src/config.ts';
import { startAgent, type Agent } from '../src/agent.ts';
import { createLogger } from '../src/lib/log.ts';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freshPostgres, httpClient, startTestCloud, tempDir, type TestCloud } from '../test/helpers/cloud.ts';
import { tapName } from '../src/network/dataplane/driver.ts';
import { rawImage } from '../test/compute/helpers.ts';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 100);
const log = createLogger(process.env.NUBO_LOG_LEVEL ?? 'silent');
const execFileP = promisify(execFile);

async function run(weigher: 'spread' | 'stack'): Promise<void> {
  const db = await freshPostgres();
  let c: TestCloud | undefined;
  const agents: Agent[] = [];
  try {
    c = await startTestCloud({ database: db.url, env: { NUBO_AGENTS: 'false', NUBO_SCHEDULER_WEIGHER: weigher, NUBO_COMPUTE_HOST: 'controller' }, log });
    for (let i = 0; i < HOSTS; i++) {
      const config = loadConfig(
        {
          database: db.url,
          dataDir: `${c.dataDir}/host${i}`,
          computeHost: `host${String(i).padStart(2, '0')}`,
          computeDriver: 'fake',
          networkDataplane: 'fake',
          imageDataDir: c.dataDir,
          hostIp: `192.0.2.${i + 1}`,
        },
        {},
      );
      agents.push(await startAgent(config, log));
    }
    const token = await c.adminToken();
    const project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
    await c.request('PUT', `/compute/v2.1/os-quota-sets/${project}`, { token, body: { quota_set: { instances: SERVERS, cores: SERVERS, ram: SERVERS * 512 } } });
    const flavor = (await c.request('POST', '/compute/v2.1/flavors', { token, body: { flavor: { name: 'bench', ram: 512, disk: 1, vcpus: 1 } } })).body.flavor.id;
    const image = await rawImage(c, token, 1 << 20, { name: 'bench', disk_format: 'raw', container_format: 'bare' });
    const t0 = performance.now();
    const made = await c.request('POST', '/compute/v2.1/servers', {
      token,
      headers: { 'openstack-api-version': 'compute 2.37' },
      body: { server: { name: 'bench', imageRef: image, flavorRef: flavor, networks: 'none', min_count: SERVERS, max_count: SERVERS } },
    });
    if (made.status !== 202) throw new Error(JSON.stringify(made.body));
    let rows: any[] = [];
    // Placed: every server has a host (or failed); settled: every guest is running (or failed).
    let placed: number | undefined;
    for (;;) {
      rows = (await c.request('GET', '/compute/v2.1/servers/detail?name=^bench-', { token })).body.servers;
      if (placed === undefined && rows.length === SERVERS && rows.every((s) => s['OS-EXT-SRV-ATTR:host'] || s.status === 'ERROR')) placed = (performance.now() - t0) / 1000;
      if (rows.length === SERVERS && rows.every((s) => s.status === 'ACTIVE' || s.status === 'ERROR')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    const perHost = new Map<string, number>();
    for (const s of rows) if (s.status === 'ACTIVE') perHost.set(s['OS-EXT-SRV-ATTR:host'], (perHost.get(s['OS-EXT-SRV-ATTR:host']) ?? 0) + 1);
    const counts = [...perHost.entries()].sort(([a], [b]) => a.localeCompare(b));
    const errors = rows.filter((s) => s.status === 'ERROR').length;
    console.log(
      `${weigher.padEnd(6)} ${SERVERS} servers on ${HOSTS} hosts (fake driver): all placed in ${placed!.toFixed(1)} s, all settled in ${seconds.toFixed(1)} s (${((seconds * 1000) / SERVERS).toFixed(0)} ms a server), ${errors} in ERROR`,
    );
    console.log(`       per host: ${counts.map(([h, n]) => `${h}=${n}`).join(' ')}`);
  } finally {
    for (const a of agents) await a.close();
    await c?.stop();
    await db.drop();
  }
}

/** Seconds to send `bytes` over TCP from one namespace to an address another listens on (python3 at
 * both ends: busybox nc does not say when it is done). */
async function transfer(from: string, to: string, ip: string, bytes: number): Promise<number> {
  const receiver = execFileP(
    'ip',
    ['netns', 'exec', to, 'python3', '-c', 'import socket\ns=socket.socket()\ns.bind(("0.0.0.0",5001))\ns.listen(1)\nc,_=s.accept()\nn=0\nwhile (b:=c.recv(1<<16)): n+=len(b)\nprint(n)'],
    { timeout: 120_000 },
  );
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = performance.now();
  await execFileP(
    'ip',
    ['netns', 'exec', from, 'python3', '-c', `import socket\nc=socket.create_connection(("${ip}",5001))\nb=bytes(1<<20)\nfor _ in range(${bytes >> 20}): c.sendall(b)\nc.close()`],
    { timeout: 120_000 },
  );
  const got = Number((await receiver).stdout.trim());
  if (got !== bytes) throw new Error(`sent ${bytes} bytes, ${got} arrived`);
  return (performance.now() - t0) / 1000;
}

/** TCP between two namespaces standing for guests on a tenant vxlan network, on two hosts of
 * scripts/multihost (through the VXLAN devices and the underlay) and on one host (its bridge). */
async function vxlanThroughput(): Promise<void> {
  const root = new URL('..', import.meta.url).pathname;
  const dir = tempDir('nubo-bench-multihost-');
  try {
    await execFileP(join(root, 'scripts/multihost/up.sh'), [dir, '2'], { env: { ...process.env, NUBO_COMPUTE_DRIVER: 'fake' }, timeout: 300_000 });
    const vars = (file: string, re: RegExp) => Object.fromEntries([...readFileSync(join(dir, file), 'utf8').matchAll(re)].map((m) => [m[1]!, m[2]!]));
    const cloud = vars('cloud.env', /^(\w+)=(.*)$/gm);
    const rc = vars('openrc', /^export (\w+)=['"]?([^'"\n]*)['"]?$/gm);
    const c = httpClient(cloud.URL!);
    const token = await c.login(rc.OS_USERNAME!, rc.OS_PASSWORD!, rc.OS_PROJECT_NAME!);
    const net = (await c.request('POST', '/networking/v2.0/networks', { token, body: { network: { name: 'bench' } } })).body.network;
    await c.request('POST', '/networking/v2.0/subnets', { token, body: { subnet: { network_id: net.id, cidr: '192.168.88.0/24', ip_version: 4 } } });
    const guest = async (host: number, name: string) => {
      const port = (
        await c.request('POST', '/networking/v2.0/ports', {
          token,
          body: { port: { network_id: net.id, name, device_owner: 'compute:nova', port_security_enabled: false } },
        })
      ).body.port;
      const hostNs = `${cloud.TAG}-h${host}`;
      const ns = `${hostNs}-${name}`;
      const ip = port.fixed_ips[0].ip_address as string;
      await execFileP('ip', ['netns', 'add', ns]);
      await execFileP('ip', ['-n', hostNs, 'link', 'add', tapName(port.id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      // The network's MTU, as DHCP would give a guest.
      await execFileP('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', port.mac_address, 'mtu', String(net.mtu), 'up']);
      await execFileP('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await c.request('PUT', `/networking/v2.0/ports/${port.id}`, { token, body: { port: { 'binding:host_id': `host${host}` } } });
      for (let i = 0; (await c.request('GET', `/networking/v2.0/ports/${port.id}`, { token })).body.port.status !== 'ACTIVE'; i++) {
        if (i > 600) throw new Error(`port ${name} never went ACTIVE`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { ns, ip };
    };
    const [a, b, same] = [await guest(1, 'ga'), await guest(2, 'gb'), await guest(1, 'gc')];
    const bytes = 256 << 20;
    const across = await transfer(a.ns, b.ns, b.ip, bytes);
    const local = await transfer(a.ns, same.ns, same.ip, bytes);
    const mbits = (s: number) => ((bytes * 8) / s / 1e6).toFixed(0);
    console.log(`vxlan  TCP ${bytes >> 20} MiB between two guests' namespaces: across two hosts (VXLAN) ${mbits(across)} Mbit/s, on one host ${mbits(local)} Mbit/s`);
  } finally {
    await execFileP(join(root, 'scripts/multihost/down.sh'), [dir], { timeout: 120_000 });
  }
}

await run('spread');
await run('stack');
// The data plane part needs root (namespaces, bridges); BENCH_VXLAN=0 leaves it out.
if (process.getuid?.() === 0 && process.env.BENCH_VXLAN !== '0') await vxlanThroughput();
process.exit(0);
