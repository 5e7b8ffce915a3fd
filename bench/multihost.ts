// Multi-host scheduling: a controller on PostgreSQL with its agents off and BENCH_HOSTS hosts
// (default 10), each a nubo agent on the fake driver, in this process with a store of its own;
// BENCH_SERVERS servers (default 100) asked in one request — the seconds until all are ACTIVE, the
// spread per host, and the same with the stack weigher. Needs the test PostgreSQL (test/helpers).
// Run: npx tsx bench/multihost.ts
import { loadConfig } from '../src/config.ts';
import { startAgent, type Agent } from '../src/agent.ts';
import { createLogger } from '../src/lib/log.ts';
import { freshPostgres, startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';
import { rawImage } from '../test/compute/helpers.ts';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 100);
const log = createLogger(process.env.NUBO_LOG_LEVEL ?? 'silent');

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

await run('spread');
await run('stack');
process.exit(0);
