import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { imagesOf } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// Which images a server boots from, as the API decides before any host sees them (on the fake
// driver): other hypervisors' formats and ISO images are accepted; an ISO needs a flavor with a
// disk, the blank disk it boots beside; hardware properties Nova does not know are refused.
const run = promisify(execFile);
let c: TestCloud;
let admin: ReturnType<typeof computeOf>;
let token: string;
let work: string;
let tiny: string;

async function imageOf(file: string, diskFormat: string, properties: Record<string, string> = {}) {
  const images = imagesOf(c, token);
  const { id } = await images.create({ name: diskFormat, disk_format: diskFormat, container_format: 'bare', ...properties });
  const up = await images.upload(id, new Uint8Array(readFileSync(file)));
  assert.equal(up.status, 204, JSON.stringify(up.body));
  return id as string;
}

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  token = await c.adminToken();
  admin = computeOf(c, token);
  work = tempDir('nubo-boot-formats-');
  tiny = await admin.flavor('tiny', 128, 1);
});
after(async () => {
  await c?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a VMDK image boots: the host converts it (the fake driver stands for qemu)', async () => {
  const raw = join(work, 'disk.raw');
  writeFileSync(raw, Buffer.alloc(1 << 20, 0x5a));
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, join(work, 'disk.vmdk')]);
  const id = await admin.create({ name: 'vm-vmdk', imageRef: await imageOf(join(work, 'disk.vmdk'), 'vmdk'), flavorRef: tiny });
  await admin.settled(id, 'ACTIVE');
});

test("an ISO image boots with a flavor that has a disk, and is refused with one that has none (400)", async () => {
  mkdirSync(join(work, 'iso'));
  writeFileSync(join(work, 'iso', 'hello.txt'), 'hello');
  await run('genisoimage', ['-quiet', '-o', join(work, 'x.iso'), '-V', 'NUBO', join(work, 'iso')]);
  const iso = await imageOf(join(work, 'x.iso'), 'iso');
  const id = await admin.create({ name: 'vm-iso', imageRef: iso, flavorRef: tiny });
  await admin.settled(id, 'ACTIVE');
  const diskless = await admin.flavor('diskless', 128, 0);
  const res = await admin.call('POST', '/servers', { server: { name: 'vm-iso0', imageRef: iso, flavorRef: diskless } });
  assert.equal(res.status, 400);
  assert.match(res.body.badRequest.message, /ISO: it boots beside a blank root disk of the flavor's size, and the flavor's disk is 0/);
});

test('hardware properties with values Nova does not know are refused at create (400); known ones are accepted', async () => {
  const bad = await rawImage(c, token, 1 << 20, { name: 'floppy', disk_format: 'raw', container_format: 'bare', hw_disk_bus: 'floppy' });
  const res = await admin.call('POST', '/servers', { server: { name: 'vm-bad', imageRef: bad, flavorRef: tiny } });
  assert.equal(res.status, 400);
  assert.match(res.body.badRequest.message, /hw_disk_bus=floppy is not supported; use one of virtio, scsi, sata, ide/);
  const good = await rawImage(c, token, 1 << 20, {
    ...{ name: 'uefi', disk_format: 'raw', container_format: 'bare' },
    ...{ hw_disk_bus: 'sata', hw_cdrom_bus: 'scsi', hw_vif_model: 'e1000', hw_firmware_type: 'uefi' },
  });
  await admin.settled(await admin.create({ name: 'vm-good', imageRef: good, flavorRef: tiny }), 'ACTIVE');
});

test('a disk format no server boots from is refused, naming those it boots from', async () => {
  const aki = await rawImage(c, token, 1 << 20, { name: 'kernel', disk_format: 'aki', container_format: 'aki' });
  const res = await admin.call('POST', '/servers', { server: { name: 'vm-aki', imageRef: aki, flavorRef: tiny } });
  assert.equal(res.status, 400);
  assert.match(res.body.badRequest.message, /disk format aki; servers boot from qcow2, raw, vmdk, vhd, vhdx, vdi, iso images/);
});
