import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { hostNamespace } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { consoleUntil as consoleOf } from '../helpers/console.ts';

// The seed's other image formats, booted for real under QEMU with the openstack CLI, two guests
// at once in one cloud: the test image converted to VMDK (the host converts it to qcow2 before
// the guest's disk is made on it), which reads its metadata over the network; and an ISO of the
// test image's own kernel, initramfs and boot configuration behind isolinux, which boots as a
// CD-ROM beside a blank root disk of the flavor's size, and says what it sees of that disk.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let cloud: SpawnedNubo;
let work: string;

const cli = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));

const consoleUntil = (name: string, pattern: RegExp) => consoleOf(cli, name, pattern);

/** An El Torito ISO (isolinux, no emulation) with the kernel, initramfs and syslinux.cfg taken out
 * of the test image's FAT file system: the same guest, from a CD-ROM. */
async function isoOf(guestImage: string): Promise<string> {
  const raw = join(work, 'guest.raw');
  await run('qemu-img', ['convert', '-O', 'raw', guestImage, raw]);
  const tree = join(work, 'iso');
  mkdirSync(join(tree, 'isolinux'), { recursive: true });
  const mtools = { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } };
  await run('mcopy', ['-i', raw, '::vmlinuz', '::initrd.gz', tree], mtools);
  // The same boot entry, its files named from the root of the CD (isolinux looks in its own directory).
  const cfg = (await run('mtype', ['-i', raw, '::syslinux.cfg'], mtools)).stdout;
  writeFileSync(join(tree, 'isolinux', 'isolinux.cfg'), cfg.replace(/^(\s*(?:LINUX|INITRD)\s+)(?!\/)/gm, '$1/'));
  copyFileSync('/usr/lib/ISOLINUX/isolinux.bin', join(tree, 'isolinux', 'isolinux.bin'));
  copyFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32', join(tree, 'isolinux', 'ldlinux.c32'));
  const iso = join(work, 'guest.iso');
  await run('genisoimage', [
    ...['-quiet', '-o', iso, '-V', 'NUBOISO', '-J', '-r'],
    ...['-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', tree],
  ]);
  rmSync(raw);
  return iso;
}

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  host = await hostNamespace('f');
  work = tempDir('nubo-formats-');
  const vmdk = join(work, 'guest.vmdk');
  await run('qemu-img', ['convert', '-O', 'vmdk', guestImage, vmdk]);
  const iso = await isoOf(guestImage);
  cloud = await spawnNubo({ dataDir: join(work, 'data'), env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
  await cli('image', 'create', 'guest-vmdk', '--file', vmdk, '--disk-format', 'vmdk', '--container-format', 'bare');
  await cli('image', 'create', 'guest-iso', '--file', iso, '--disk-format', 'iso', '--container-format', 'bare');
  await cli('keypair', 'create', 'mykey');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await seedNetworks(cli);
  // Two TCG boots at once are what two cores take well.
  await cli('server', 'create', '--flavor', 'm1.nano', '--image', 'guest-vmdk', '--network', 'private-net', '--key-name', 'mykey', 'vm-vmdk');
  // The ISO guest reports its disks from a user-data script, read from its config drive.
  const userData = join(work, 'user-data.sh');
  writeFileSync(
    userData,
    [
      '#!/bin/sh',
      'echo "iso-guest: disks=$(ls /sys/block | tr \'\\n\' \' \')"',
      'echo "iso-guest: vda sectors=$(cat /sys/block/vda/size) nonzero_bytes=$(head -c 4194304 /dev/vda | tr -d \'\\000\' | wc -c)"',
      'echo "iso-guest: sr0 type=$(cat /sys/block/sr0/device/type)"',
      '',
    ].join('\n'),
  );
  await cli(
    // --nic none is 2.37's, which openstackclient 6.0 does not negotiate by itself.
    ...['--os-compute-api-version', '2.37', 'server', 'create', '--flavor', 'm1.nano', '--image', 'guest-iso', '--nic', 'none', '--config-drive', 'true'],
    ...['--user-data', userData, 'vm-iso'],
  );
});

after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a VMDK image boots: the guest reaches its ready line with its metadata and key from the network', async () => {
  const log = await consoleUntil('vm-vmdk', /nubo-guest ready: .*/);
  assert.match(log, /nubo-guest ready: hostname=vm-vmdk ip=192\.168\.10\.\d+ keys=1 source=metadata/);
  const server = await json('server', 'show', 'vm-vmdk');
  assert.equal(server.status, 'ACTIVE');
  assert.equal((await json('image', 'show', 'guest-vmdk')).disk_format, 'vmdk');
});

test("an ISO image boots as a CD-ROM beside a blank root disk of the flavor's size", async () => {
  const log = await consoleUntil('vm-iso', /nubo-guest ready: .*/);
  assert.match(log, /nubo-guest ready: hostname=vm-iso ip=none keys=0 source=config-drive/);
  // The kernel and initramfs came from the CD-ROM (type 5, an MMC device): the root disk is empty.
  assert.match(log, /iso-guest: sr0 type=5/);
  assert.match(log, /iso-guest: disks=.*\bsr0\b.*\bvda\b/);
  assert.match(log, /iso-guest: vda sectors=2097152 nonzero_bytes=0\b/, '1 GiB of zeros in 512-byte sectors');
  assert.equal((await json('server', 'show', 'vm-iso')).status, 'ACTIVE');
});

test('deleting both servers leaves no qemu of theirs', async () => {
  const ids = [(await json('server', 'show', 'vm-vmdk')).id, (await json('server', 'show', 'vm-iso')).id] as string[];
  await cli('server', 'delete', '--wait', 'vm-vmdk', 'vm-iso');
  for (const id of ids) {
    const { stdout } = await run('pgrep', ['-f', `qemu-system-x86_64.*${id}`]).catch(() => ({ stdout: '' }));
    assert.equal(stdout.trim(), '');
  }
});
