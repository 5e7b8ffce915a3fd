import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { imagesOf, run } from './helpers.ts';

// image_format_check_skip: the operator turns the format match off for raw images only; the
// data that is never acceptable (a qcow2 with a backing file) is refused all the same.
let c: TestCloud;
let work: string;
before(async () => {
  work = tempDir('nubo-skip-');
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'nubo.yaml'), 'image_format_check_skip: [raw]\n');
  c = await startTestCloud({ dataDir });
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', 'plain.qcow2', '8M'], { cwd: work });
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(work, 'plain.qcow2'), '-F', 'qcow2', 'backed.qcow2'], { cwd: work });
});
after(async () => {
  await c?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('a qcow2 declared raw is kept when raw is skipped; other formats are still checked; unsafe data never passes', async () => {
  const images = imagesOf(c, await c.adminToken());
  const plain = readFileSync(join(work, 'plain.qcow2'));

  const raw = await images.create({ name: 'raw-really-qcow2', disk_format: 'raw' });
  assert.equal((await images.upload(raw.id, plain)).status, 204);
  assert.equal((await images.show(raw.id)).body.status, 'active');

  const vmdk = await images.create({ name: 'vmdk-really-qcow2', disk_format: 'vmdk' });
  const refused = await images.upload(vmdk.id, plain);
  assert.equal(refused.status, 400);
  assert.match(
    refused.body.message,
    /does not match disk_format vmdk: it is qcow2.*turn this check off for vmdk images with the setting image_format_check_skip/,
  );

  const backed = await images.create({ name: 'backed', disk_format: 'raw' });
  const unsafe = await images.upload(backed.id, readFileSync(join(work, 'backed.qcow2')));
  assert.equal(unsafe.status, 400);
  assert.match(unsafe.body.message, /refused/);
});
