// Load balancer: requests per second through a load balancer's floating IP (HAProxy in its
// namespace, ROUND_ROBIN over two busybox httpd servers in namespaces standing for guests) beside
// the same requests straight to one server, and the time from `loadbalancer create` to ACTIVE.
// Run as root: npx tsx bench/loadbalancer.ts   (BENCH_REQUESTS, default 2000; 8 in flight)
import { rmSync } from 'node:fs';
import { cliAs, spawnNubo, tempDir } from '../test/helpers/cloud.ts';
import { eventually, hostNamespace, inNs } from '../test/helpers/netns.ts';
import { seedNetworks } from '../test/helpers/seed.ts';
import { webServer } from '../test/helpers/web-server.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const HOST = 'lbbench';

const host = await hostNamespace('lbb');
const work = tempDir('nubo-lb-bench-');
const nubo = await spawnNubo({
  env: {
    ...{ NUBO_COMPUTE_DRIVER: 'fake', NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name },
    ...{ NUBO_PHYSICAL_NETWORKS: 'physnet1:br-ex:172.24.4.1/24', NUBO_COMPUTE_HOST: HOST },
  },
});
const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

/** Requests per second of curl fetching url REQUESTS times, 8 at a time, from the host namespace. */
async function rate(url: string): Promise<number> {
  const start = performance.now();
  await inNs(host.name, 'curl', '-s', '-f', '-Z', '--parallel-max', '8', '-o', '/dev/null', `${url}?[1-${REQUESTS}]`);
  return REQUESTS / ((performance.now() - start) / 1000);
}

try {
  await seedNetworks(ok);
  const ips: string[] = [];
  for (const name of ['web1', 'web2']) {
    const web = await webServer({ json, ok }, host, HOST, work, name);
    await web.start();
    ips.push(web.ip);
  }
  // Made and polled over the API every 20 ms: the CLI's --wait polls every few seconds.
  const token = (await json('token', 'issue')).id as string;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${nubo.url}/load-balancer/v2.0/lbaas${path}`, {
      method,
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as { loadbalancer: { id: string; vip_port_id: string; provisioning_status: string } };
  };
  const subnet = (await json('subnet', 'show', 'private-subnet')).id as string;
  const t0 = performance.now();
  const { loadbalancer: lb } = await api('POST', '/loadbalancers', { loadbalancer: { name: 'lb1', vip_subnet_id: subnet } });
  while ((await api('GET', `/loadbalancers/${lb.id}`)).loadbalancer.provisioning_status !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
  const createMs = performance.now() - t0;
  await ok('loadbalancer', 'listener', 'create', '--name', 'l1', '--protocol', 'HTTP', '--protocol-port', '80', '--wait', 'lb1');
  await ok('loadbalancer', 'pool', 'create', '--name', 'p1', '--lb-algorithm', 'ROUND_ROBIN', '--listener', 'l1', '--protocol', 'HTTP', '--wait');
  for (const ip of ips) await ok('loadbalancer', 'member', 'create', '--address', ip, '--protocol-port', '80', '--wait', 'p1');
  const fip = (await json('floating', 'ip', 'create', '--port', lb.vip_port_id, 'public-net')).floating_ip_address as string;
  // A server's own floating IP, so that both paths cross the router's NAT.
  const web1Port = (await json('port', 'list', '--name', 'web1-port'))[0].ID as string;
  const direct = (await json('floating', 'ip', 'create', '--port', web1Port, 'public-net')).floating_ip_address as string;
  await eventually('both floating IPs answering', async () => {
    const a = await inNs(host.name, 'curl', '-s', '-f', '--max-time', '2', `http://${fip}/`).then(() => true, () => false);
    const b = await inNs(host.name, 'curl', '-s', '-f', '--max-time', '2', `http://${direct}/`).then(() => true, () => false);
    return a && b;
  }, 60_000);
  const through = await rate(`http://${fip}/`);
  const straight = await rate(`http://${direct}/`);
  console.log(`loadbalancer create --wait to ACTIVE          ${(createMs / 1000).toFixed(2)} s (POST to ACTIVE, polled every 20 ms)`);
  console.log(`${REQUESTS} GETs, 8 in flight, through the LB   ${through.toFixed(0)} requests/s`);
  console.log(`${REQUESTS} GETs, 8 in flight, to one server    ${straight.toFixed(0)} requests/s`);
  await ok('loadbalancer', 'delete', '--cascade', '--wait', 'lb1');
} finally {
  await nubo.stop();
  await host.cleanup();
  rmSync(work, { recursive: true, force: true });
}
