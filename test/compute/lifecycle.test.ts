import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { consoleUntil } from '../helpers/console.ts';

// The lifecycle actions on one real guest of the test image, in sequence, with the real openstack
// CLI, the guest reached by ssh through its floating IP: suspend/resume keeps its uptime; shelve
// removes its qemu and unshelve boots it again with data written before; a rescue shows its disk
// second; a rebuild on another image keeps its ports and addresses. One guest for all:
// each TCG boot costs minutes on two cores.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let cloud: SpawnedNubo;
let work: string;
let pem: string;
let fip: string;
let id: string;

const cli = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 300_000) => eventually(what, () => check().catch(() => false), timeoutMs);

const ssh = (command: string) =>
  inNs(
    host.name,
    ...['ssh', '-i', pem, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes'],
    ...['-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${fip}`, command],
  ).then((r) => r.stdout.trim());

const status = async () => (await json('server', 'show', 'vm')) as Record<string, any>;
const settled = (want: string, timeoutMs?: number) =>
  until(`vm ${want}`, async () => {
    const s = await status();
    return s.status === want && s['OS-EXT-STS:task_state'] === null;
  }, timeoutMs);

/** Whether a qemu runs for the server, asked of the host's processes. */
function qemuRuns(): boolean {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .some((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmd.startsWith('qemu-system') && cmd.includes(id);
      } catch {
        return false;
      }
    });
}

// The test guest runs from its initramfs: what it keeps goes on its disk raw, at 512 MiB, past
// its small FAT file system and inside the flavor's 1 GiB.
const PATTERN = 'nubo-lifecycle-pattern-0123456789';
const writePattern = (dev: string) => ssh(`printf '${PATTERN}' | dd of=/dev/${dev} bs=512 seek=1048576 conv=notrunc 2>/dev/null; sync`);
const readPattern = (dev: string) => ssh(`dd if=/dev/${dev} bs=512 skip=1048576 count=1 2>/dev/null | head -c ${PATTERN.length}`);

const uptime = async () => Number((await ssh('cat /proc/uptime')).split(' ')[0]);
const answers = () => until('ssh into vm', async () => (await ssh('hostname')) === 'vm');

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  host = await hostNamespace('l');
  work = tempDir('nubo-lifecycle-');
  cloud = await spawnNubo({ dataDir: join(work, 'data'), env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
  // Two images of the same guest, the second for the rebuild.
  for (const name of ['nubo-guest', 'nubo-guest-2']) {
    await cli('image', 'create', name, '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  }
  pem = join(work, 'key.pem');
  writeFileSync(pem, await cli('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await seedNetworks(cli);
  await cli('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default');
  id = (await json('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--key-name', 'mykey', 'vm')).id;
  await consoleUntil(cli, 'vm', /nubo-guest ready: .*keys=1/, 300_000);
  fip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address;
  await cli('server', 'add', 'floating', 'ip', 'vm', fip);
  await answers();
});

after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('suspend: SUSPENDED with no qemu left; resume: the guest carries on, its uptime kept', async () => {
  const before = await uptime();
  await cli('server', 'suspend', 'vm');
  await settled('SUSPENDED');
  assert.equal(qemuRuns(), false, 'the guest has no process while suspended');
  await cli('server', 'resume', 'vm');
  await settled('ACTIVE');
  assert.equal(qemuRuns(), true);
  await answers();
  const after = await uptime();
  assert.ok(after >= before, `the guest's uptime went on (${before} s before, ${after} s after), it did not boot again`);
});

test("shelve: the disk into vm-shelved and the qemu gone (offloaded at once); unshelve boots it again with its disk's data and its addresses", async () => {
  await writePattern('vda');
  const addresses = (await status()).addresses;
  await cli('server', 'shelve', 'vm');
  await settled('SHELVED_OFFLOADED');
  assert.equal(qemuRuns(), false);
  assert.equal((await json('image', 'show', 'vm-shelved')).status, 'active');
  await cli('server', 'unshelve', 'vm');
  await settled('ACTIVE');
  await answers();
  assert.equal(await readPattern('vda'), PATTERN, 'its disk came back from the shelved image');
  assert.deepEqual((await status()).addresses, addresses);
  assert.doesNotMatch(await cli('image', 'list', '-f', 'value', '-c', 'Name'), /vm-shelved/, 'the shelved image is deleted');
});

test('rescue: RESCUE, booted from the image with its own disk second (its data on /dev/vdb); unrescue: back on its own disk', async () => {
  await cli('server', 'rescue', 'vm');
  await settled('RESCUE');
  await answers();
  assert.equal(await readPattern('vdb'), PATTERN, 'its own disk is the second disk');
  assert.notEqual(await readPattern('vda'), PATTERN, 'the rescue boots a disk of its own');
  await cli('server', 'unrescue', 'vm');
  await settled('ACTIVE');
  await answers();
  assert.equal(await readPattern('vda'), PATTERN);
  assert.equal(await ssh('test -e /dev/vdb && echo yes || echo no'), 'no');
});

test('rebuild on another image: REBUILD then ACTIVE on a fresh disk, with the same id, port and addresses', async () => {
  const before = await status();
  const ports = await cli('port', 'list', '--server', 'vm', '-f', 'value', '-c', 'ID');
  await cli('server', 'rebuild', '--image', 'nubo-guest-2', 'vm');
  await settled('ACTIVE');
  const after = await status();
  assert.equal(after.id, id);
  assert.equal(after.image.split(' ')[0], 'nubo-guest-2');
  assert.deepEqual(after.addresses, before.addresses);
  assert.equal(await cli('port', 'list', '--server', 'vm', '-f', 'value', '-c', 'ID'), ports);
  await answers();
  assert.notEqual(await readPattern('vda'), PATTERN, 'a fresh disk from the new image');
});
