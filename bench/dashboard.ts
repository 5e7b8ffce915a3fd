// Dashboard: time to interactive of the instance list and of the topology for a project of 200
// servers on 20 networks behind one router (fake compute driver), in Debian's Chromium. Each
// figure is the page's own clock (performance.now(), from the start of the navigation) when the
// view has drawn all 200 servers, over BENCH_RUNS reloads (default 5) of a browser already
// started; the page's files revalidate with their ETag as a returning user's would. Before that,
// the first page (the login form, drawn by the page's script) from a cold start of the browser:
// a new Chromium with an empty profile each time, timed from its launch and by the page's clock.
// Run: npx tsx bench/dashboard.ts
import { chromium, type Page } from 'playwright-core';
import { startTestCloud } from '../test/helpers/cloud.ts';
import { makeProject } from '../test/image/helpers.ts';
import { computeOf, rawImage } from '../test/compute/helpers.ts';
import { neutronOf } from '../test/network/client.ts';
import { percentile } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function main() {
  const c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const admin = await c.adminToken();
    const pub = (
      await neutronOf(c, admin).ok('POST', '/networks', {
        network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
      })
    ).network.id;
    await neutronOf(c, admin).ok('POST', '/subnets', { subnet: { network_id: pub, cidr: '172.24.4.0/24', ip_version: 4, enable_dhcp: false } });
    const image = await rawImage(c, admin, 1 << 20, { name: 'cirros-like' });
    const tiny = await computeOf(c, admin).flavor('tiny', 128, 1);
    const big = await makeProject(c, admin, 'big');
    await c.request('PUT', `/compute/v2.1/os-quota-sets/${big.id}`, { token: admin, body: { quota_set: { instances: -1, cores: -1, ram: -1 } } });
    await c.request('PUT', `/networking/v2.0/quotas/${big.id}`, { token: admin, body: { quota: { network: -1, subnet: -1, port: -1 } } });
    const net = neutronOf(c, big.token);
    const router = (await net.ok('POST', '/routers', { router: { name: 'edge', external_gateway_info: { network_id: pub } } })).router.id;
    const made = Date.now();
    for (let i = 0; i < 20; i++) {
      const n = (await net.ok('POST', '/networks', { network: { name: `net-${String(i + 1).padStart(2, '0')}` } })).network.id;
      const s = (await net.ok('POST', '/subnets', { subnet: { network_id: n, cidr: `10.50.${i}.0/24`, ip_version: 4 } })).subnet.id;
      await net.ok('PUT', `/routers/${router}/add_router_interface`, { subnet_id: s });
      await computeOf(c, big.token).create({ name: `n${i + 1}-vm`, imageRef: image, flavorRef: tiny, networks: [{ uuid: n }], min_count: 10 });
    }
    console.log(`200 servers on 20 networks made through the API in ${((Date.now() - made) / 1000).toFixed(1)} s`);

    const cold: { total: number; page: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const began = performance.now();
      const fresh = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      try {
        const p = await fresh.newPage({ viewport: { width: 1280, height: 800 } });
        await p.goto(`${c.url}/login`);
        await p.getByRole('button', { name: 'Log in' }).waitFor();
        cold.push({ total: performance.now() - began, page: await p.evaluate(() => performance.now()) });
      } finally {
        await fresh.close();
      }
    }
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50).toFixed(0);
    console.log(
      `first page (login) from a cold start of the browser: interactive ${median(cold.map((x) => x.page))} ms after its navigation began, ` +
        `${median(cold.map((x) => x.total))} ms after the browser's launch (medians over ${RUNS} launches)`,
    );

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${c.url}/login`);
    await page.getByLabel('User name').fill('big-user');
    await page.getByLabel('Password').fill('pw');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/topology$/);

    /** performance.now() when `ready` first holds after loading `path` afresh. */
    const interactive = async (p: Page, path: string, ready: string) => {
      await p.goto(`${c.url}${path}`);
      return p.waitForFunction(ready, undefined, { timeout: 60_000, polling: 'raf' }).then(() => p.evaluate(() => performance.now()));
    };
    const views: [string, string, string][] = [
      [
        'instance list',
        '/servers',
        `document.querySelectorAll('tbody tr').length === 200 && document.querySelector('.list')?.getAttribute('aria-busy') === 'false'`,
      ],
      ['topology', '/topology', `document.querySelectorAll('.node.server').length === 200`],
    ];
    for (const [name, path, ready] of views) {
      await interactive(page, path, ready); // the first load, not counted: files cached after it
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await interactive(page, path, ready));
      times.sort((a, b) => a - b);
      console.log(
        `${name} (200 servers, 20 networks): interactive after ${percentile(times, 50).toFixed(0)} ms median, ${times[0]!.toFixed(0)}–${times.at(-1)!.toFixed(0)} ms over ${RUNS} loads`,
      );
    }
    // Where the topology's time goes: the lists from the APIs, against the page's own work.
    const apis = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('nubo.session')!);
      const t = performance.now();
      const h = { 'x-auth-token': s.token, accept: 'application/json' };
      await Promise.all(
        [
          '/networking/v2.0/networks',
          '/networking/v2.0/subnets',
          '/networking/v2.0/routers',
          '/networking/v2.0/ports',
          '/networking/v2.0/floatingips',
          '/compute/v2.1/servers/detail',
          '/image/v2/images?limit=1000',
        ].map((u) => fetch(u, { headers: h }).then((r) => r.text())),
      );
      return performance.now() - t;
    });
    console.log(`of which the topology's API lists, read in parallel: ${apis.toFixed(0)} ms`);
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(`load average during the run: ${load} on ${(await import('node:os')).cpus().length} cores`);
  } finally {
    await browser.close();
    await c.stop();
  }
}

await main();
