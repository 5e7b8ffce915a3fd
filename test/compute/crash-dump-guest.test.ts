import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../src/lib/log.ts';
import { createQemuDriver } from '../../src/compute/virt/qemu/driver.ts';

// trigger_crash_dump's NMI reaches a real Linux guest: the test guest's kernel, not set up for a
// crash dump, logs the NMI on its serial console and runs on. One guest, no NIC, no cloud: what is
// tested is the driver's QMP inject-nmi (the API around it is tested on the fake driver).
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'nubo-nmi-'));
const driver = createQemuDriver({ instancesDir: join(work, 'instances'), log: createLogger(process.env.NUBO_TEST_LOG ?? 'silent') });
const uuid = randomUUID();

after(async () => {
  await driver.destroy(uuid);
  rmSync(work, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${timeoutMs / 1000} s; console:\n${(await driver.consoleLog(uuid)).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('the NMI of a crash dump reaches the guest kernel, which logs it and runs on', { timeout: 20 * 60_000 }, async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { maxBuffer: 64 << 20 });
  const image = stdout.trim().split('\n').at(-1)!;
  await driver.spawn({ uuid, name: 'nmi', vcpus: 1, memoryMiB: 256, rootGiB: 0, image: { id: randomUUID(), path: image, format: 'qcow2' }, nics: [] });
  // The guest's init has started: its kernel handles interrupts.
  await until('the guest booted', async () => (await driver.consoleLog(uuid)).includes('nubo-guest'), 15 * 60_000);
  const { pid } = await driver.info(uuid);
  await driver.injectNmi(uuid);
  await until('the kernel logged the NMI', async () => /NMI received/.test(await driver.consoleLog(uuid)), 60_000);
  assert.deepEqual(await driver.info(uuid), { power: 'running', pid });
});
