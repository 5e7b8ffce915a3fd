import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { imagesOf, makeProject, storeFiles } from './helpers.ts';

// Quotas come from the data directory's nubo.yaml, as an operator sets them.
let c: TestCloud;
let dataDir: string;
let admin: string;
before(async () => {
  dataDir = tempDir('nubo-quota-');
  writeFileSync(join(dataDir, 'nubo.yaml'), 'image_quota_images: 3\nimage_quota_bytes: 2M\n');
  c = await startTestCloud({ dataDir });
  admin = await c.adminToken();
});
after(async () => {
  await c?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function* pieces(data: Buffer, size = 64 * 1024) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

test('an upload over the byte quota is stopped while streaming with 413, and leaves nothing', async () => {
  const p = await makeProject(c, admin, 'bytes');
  const api = imagesOf(c, p.token);
  const image = await api.create({ disk_format: 'raw' });
  // No length announced: the server finds out as the bytes arrive.
  const streamed = await api.upload(image.id, pieces(randomBytes(3 * 1024 * 1024)));
  assert.equal(streamed.status, 413);
  assert.match(streamed.body.code, /^413 /);
  assert.match(streamed.body.message, /exceeds the quota/);
  assert.equal((await api.show(image.id)).body.status, 'queued');
  assert.deepEqual(storeFiles(dataDir), { images: [], temp: [] });

  // A length announced over the quota is refused before any byte is read.
  const announced = await api.upload(image.id, randomBytes(3 * 1024 * 1024));
  assert.equal(announced.status, 413);

  // The quota counts every image of the project.
  assert.equal((await api.upload(image.id, randomBytes(1536 * 1024))).status, 204);
  const second = await api.create({ disk_format: 'raw' });
  assert.equal((await api.upload(second.id, pieces(randomBytes(1024 * 1024)))).status, 413);
  assert.equal((await api.upload(second.id, randomBytes(512 * 1024))).status, 204);
  assert.deepEqual(storeFiles(dataDir).images, [image.id, second.id].sort());

  const usage = await api.call('GET', '/v2/info/usage');
  assert.deepEqual(usage.body.usage, { image_size_total: { limit: 2, usage: 2 }, image_count_total: { limit: 3, usage: 2 } });
});

test('a project may hold as many images as its quota, then gets 413', async () => {
  const p = await makeProject(c, admin, 'count');
  const api = imagesOf(c, p.token);
  for (let i = 0; i < 3; i++) await api.create({ name: `n${i}` });
  const over = await api.call('POST', '/v2/images', { name: 'n3' });
  assert.equal(over.status, 413);
  assert.match(over.body.message, /Maximum number of images exceeded/);
  // Another project is not affected.
  const other = await makeProject(c, admin, 'count-other');
  await imagesOf(c, other.token).create({ name: 'fine' });
});

test('quota settings: defaults, environment, units', () => {
  const env = { NUBO_DATA_DIR: dataDir };
  assert.deepEqual(loadConfig({}, { NUBO_DATA_DIR: join(dataDir, 'elsewhere') }).imageQuota, { images: 1000, bytes: 2 ** 40 });
  assert.deepEqual(loadConfig({}, { ...env, NUBO_IMAGE_QUOTA_IMAGES: '7', NUBO_IMAGE_QUOTA_BYTES: '20G' }).imageQuota, { images: 7, bytes: 20 * 2 ** 30 });
  assert.equal(loadConfig({}, { ...env, NUBO_IMAGE_QUOTA_BYTES: '1536' }).imageQuota.bytes, 1536);
  assert.throws(() => loadConfig({}, { ...env, NUBO_IMAGE_QUOTA_BYTES: 'lots' }), /image_quota_bytes must be a number of bytes/);
});
