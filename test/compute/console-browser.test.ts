import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import { adminEnv, cliAs, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { consoleUntil } from '../helpers/console.ts';

// The consoles of a real guest, as a user reaches them: the test guest boots under qemu, the real
// openstack CLI asks for its noVNC URL, Debian's Chromium opens it, and the screenshot shows the
// guest's screen drawn (the kernel's text on the VGA console). Then the serial console's URL is
// opened as a WebSocket, and the line the guest prints when the server is stopped arrives on it.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let c: TestCloud;
let work: string;
let browser: Browser | undefined;
const cli = cliAs(() => adminEnv(c.url, c.cloud.credentials!.password));

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  work = tempDir('nubo-console-');
  c = await startTestCloud({ dataDir: join(work, 'data'), computeDriver: 'qemu' });
  await cli('image', 'create', 'nubo-guest', '--file', stdout.trim().split('\n').at(-1)!, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  // No network: the consoles reach the guest through qemu, not through its NICs.
  await cli('--os-compute-api-version', '2.37', 'server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--nic', 'none', '--wait', 'vm');
});

after(async () => {
  await browser?.close();
  // Guests outlive their cloud by design; a test that failed half-way must not leave one running.
  if (work) await run('pkill', ['-9', '-f', join(work, 'data')]).catch(() => undefined);
  await c?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the noVNC URL shows the guest's screen in Chromium; the serial console streams its lines", async () => {
  // The serial log is written while no console client is connected.
  await consoleUntil(cli, 'vm', /nubo-guest ready: /);

  const url = (await cli('console', 'url', 'show', '--novnc', 'vm', '-f', 'value', '-c', 'url')).trim();
  assert.match(url, new RegExp(`^${c.url}/compute/console/vnc\\.html\\?path=`));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  await page.goto(url);
  await page.waitForSelector('body[data-state="connected"]', { timeout: 60_000 });
  // The status line is the page's, not the guest's: out of the picture.
  await page.evaluate(() => document.getElementById('status')!.remove());

  /** The share of the screen's pixels, in a screenshot of the guest's screen alone (noVNC's
   * canvas, scaled to the window), that are not its background (its most common colour). */
  const screen = page.locator('#screen canvas');
  const drawn = async () => {
    const shot = await screen.screenshot({ type: 'png' });
    return page.evaluate(async (b64) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const px = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const counts = new Map<number, number>();
      for (let i = 0; i < px.length; i += 4) {
        const key = (px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const background = Math.max(...counts.values());
      return { colours: counts.size, share: 1 - background / (px.length / 4) };
    }, shot.toString('base64'));
  };
  let last = { colours: 0, share: 0 };
  // The guest's text, light on dark, covers well over 1% of a screen full of kernel messages.
  await eventually('the screen shows text', async () => ((last = await drawn()), last.colours >= 2 && last.share > 0.01), 120_000).catch(() =>
    assert.fail(`the screen is not drawn: ${JSON.stringify(last)}`),
  );

  // The serial console: the guest prints a line when its power button is pressed.
  const serialUrl = (await cli('console', 'url', 'show', '--serial', 'vm', '-f', 'value', '-c', 'url')).trim();
  assert.match(serialUrl, /^ws:\/\/.*\/compute\/console\/serial\?token=/);
  let received = '';
  const ws = new WebSocket(serialUrl, ['binary']);
  ws.on('message', (d) => (received += String(d)));
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  await cli('server', 'stop', 'vm');
  await eventually('the power-off line arrives on the WebSocket', async () => /nubo-guest: power button, powering off/.test(received), 120_000).catch(() =>
    assert.fail(`the serial WebSocket got:\n${received}`),
  );
  ws.close();
});
