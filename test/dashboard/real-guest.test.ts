import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { adminEnv, cliAs, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { hostNamespace } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';

// One real guest launched from the dashboard's form: the test image under qemu, on the seed
// workflow's private network behind its router, on the Linux data plane in a namespace of its own.
// The list shows it reach ACTIVE by itself, its page follows the guest's own console until the
// guest says it is ready, and it is deleted from the page, its qemu gone.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let c: TestCloud;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let work: string;
let browser: Browser;
const cli = cliAs(() => adminEnv(c.url, c.cloud.credentials!.password));

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  work = tempDir('nubo-dashboard-guest-');
  host = await hostNamespace('d');
  c = await startTestCloud({ dataDir: join(work, 'data'), computeDriver: 'qemu', networkNetns: host.name });
  await cli('image', 'create', 'nubo-guest', '--file', stdout.trim().split('\n').at(-1)!, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await seedNetworks(cli);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  // Guests outlive their cloud by design; a test that failed half-way must not leave one running.
  await c?.stop();
  if (work) await run('pkill', ['-9', '-f', join(work, 'data')]).catch(() => undefined);
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a real guest launched from the form reaches ACTIVE in the list, its console is followed, and it is deleted', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('dialog', (d) => d.accept());
  const failures: string[] = [];
  page.on('pageerror', (e) => failures.push(e.message));
  await page.goto(`${c.url}/servers`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(c.cloud.credentials!.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/topology$/);
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Servers', exact: true }).click();

  await page.getByText('Launch a server').click();
  const form = page.getByRole('form', { name: 'Launch a server' });
  await form.getByLabel('Name').fill('vm');
  await form.getByLabel('Image').selectOption({ label: 'nubo-guest' });
  await form.getByLabel('Flavor').selectOption({ label: 'm1.nano (1 vCPU, 256 MB, 1 GB)' });
  await form.getByLabel('Network').selectOption({ label: 'private-net' });
  await form.getByRole('button', { name: 'Launch' }).click();
  await page.getByRole('status').getByText('Server vm is being built.').waitFor();

  // The row's status badge, polled by the page: BUILD, then ACTIVE once qemu runs the guest.
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'vm', exact: true }) });
  await row.getByText('ACTIVE', { exact: true }).waitFor({ timeout: 300_000 });
  const shown = JSON.parse(await cli('server', 'show', 'vm', '-f', 'json'));
  assert.equal(shown.status, 'ACTIVE');
  assert.match(JSON.stringify(shown.addresses), /192\.168\.10\./);
  const { stdout: ps } = await run('ps', ['-eo', 'args']);
  assert.ok(
    ps.split('\n').some((l) => l.startsWith('qemu-system') && l.includes(shown.id)),
    'a qemu runs for the server',
  );

  // The guest's own serial console, followed in its page until it says it is ready.
  await row.getByRole('link', { name: 'vm' }).click();
  await page.getByRole('heading', { level: 1, name: 'Server vm' }).waitFor();
  await page.getByRole('button', { name: 'Follow the console log' }).click();
  await page
    .getByLabel('Console log')
    .getByText(/nubo-guest ready: /)
    .waitFor({ timeout: 300_000 });

  await page.getByRole('button', { name: 'Delete server vm', exact: true }).click();
  await page.waitForURL(/\/servers$/);
  await page.getByRole('cell', { name: 'vm', exact: true }).waitFor({ state: 'detached', timeout: 120_000 });
  const { stdout: after } = await run('ps', ['-eo', 'args']);
  assert.ok(!after.split('\n').some((l) => l.startsWith('qemu-system') && l.includes(shown.id)), 'its qemu is gone');
  assert.deepEqual(failures, [], 'no script error in the page');
  await page.close();
});
