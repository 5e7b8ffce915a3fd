import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { eventually, imagesOf, run, storeFiles } from './helpers.ts';

let c: TestCloud;
let api: ReturnType<typeof imagesOf>;
let work: string;
let qcow2: Buffer;
before(async () => {
  c = await startTestCloud();
  api = imagesOf(c, await c.adminToken());
  work = tempDir('nubo-upload-');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', 'x.qcow2', '64M'], { cwd: work });
  await run('qemu-io', ['-c', 'write -P 0xab 0 2M', '-c', 'write -P 0x17 40M 1M', 'x.qcow2'], { cwd: work });
  qcow2 = readFileSync(join(work, 'x.qcow2'));
});
after(async () => {
  await c?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The bytes in pieces of `size`, as a client streams them without announcing a length. */
async function* pieces(data: Buffer, size = 100_000) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const hex = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');

test('a qcow2 streams in and out: queued → active, size, md5, sha512 and virtual size from its header', async () => {
  const image = await api.create({ name: 'cirros', disk_format: 'qcow2' });
  assert.equal(image.status, 'queued');
  const up = await api.upload(image.id, pieces(qcow2));
  assert.equal(up.status, 204, JSON.stringify(up.body));
  const shown = (await api.show(image.id)).body;
  assert.equal(shown.status, 'active');
  assert.equal(shown.size, qcow2.length);
  assert.equal(shown.virtual_size, 64 * 1024 * 1024);
  assert.equal(shown.checksum, hex('md5', qcow2));
  assert.equal(shown.os_hash_algo, 'sha512');
  assert.equal(shown.os_hash_value, hex('sha512', qcow2));

  const down = await api.download(image.id);
  assert.equal(down.status, 200);
  assert.ok(down.data.equals(qcow2), 'the data comes back byte for byte');
  assert.equal(down.headers.get('content-md5'), shown.checksum);
  assert.equal(down.headers.get('content-type'), 'application/octet-stream');
  assert.equal(Number(down.headers.get('content-length')), qcow2.length);

  const part = await api.download(image.id, { range: 'bytes=4-11' });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 4-11/${qcow2.length}`);
  assert.ok(part.data.equals(qcow2.subarray(4, 12)));
  assert.equal((await api.download(image.id, { range: `bytes=${qcow2.length}-` })).status, 416);
  assert.ok(storeFiles(c.dataDir).images.includes(image.id));
});

test('a second upload to an active image is a conflict and leaves the data alone', async () => {
  const image = await api.create({ disk_format: 'raw' });
  const first = randomBytes(300_000);
  assert.equal((await api.upload(image.id, first)).status, 204);
  const again = await api.upload(image.id, randomBytes(300_000));
  assert.equal(again.status, 409);
  assert.match(again.body.message, /active to saving is not allowed/);
  assert.equal(again.body.code, '409 Conflict');
  assert.ok((await api.download(image.id)).data.equals(first));
});

test('an image without data answers 204 to a download; one without formats refuses data', async () => {
  const image = await api.create({ disk_format: 'raw' });
  assert.equal((await api.download(image.id)).status, 204);
  const bare = await api.call('POST', '/v2/images', { name: 'no-formats' });
  const refused = await api.upload(bare.body.id, Buffer.alloc(10));
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /disk_format, container_format must be set/);
  assert.equal((await api.upload('00000000-0000-0000-0000-000000000000', Buffer.alloc(10))).status, 404);
  const wrongType = await c.request('PUT', `/image/v2/images/${image.id}/file`, { token: await c.adminToken(), raw: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(wrongType.status, 415);
});

test('refused data stops the upload with a 400 and leaves nothing: no file, the image queued', async () => {
  await run('qemu-img', ['create', '-q', '-f', 'raw', 'base.raw', '1M'], { cwd: work });
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'backed.qcow2'], { cwd: work });
  writeFileSync(join(work, 'desc.vmdk'), '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/shadow" 0\n');
  const tail = randomBytes(2 * 1024 * 1024);
  const cases: [string, Buffer, RegExp][] = [
    ['raw', Buffer.concat([qcow2, tail]), /does not match disk_format raw: it is qcow2/],
    ['qcow2', readFileSync(join(work, 'backed.qcow2')), /names a backing file/],
    ['qcow2', tail, /does not match disk_format qcow2: it is not qcow2/],
    ['vmdk', readFileSync(join(work, 'desc.vmdk')), /bare descriptor/],
  ];
  for (const [disk_format, data, why] of cases) {
    const image = await api.create({ disk_format });
    const res = await api.upload(image.id, pieces(data));
    assert.equal(res.status, 400, `${disk_format}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.message, why);
    assert.equal((await api.show(image.id)).body.status, 'queued');
    assert.ok(!storeFiles(c.dataDir).images.includes(image.id));
    assert.deepEqual(storeFiles(c.dataDir).temp, []);
  }
  // The image is as good as new: right data goes in.
  const image = await api.create({ disk_format: 'qcow2' });
  assert.equal((await api.upload(image.id, Buffer.concat([Buffer.from('not a header'), tail]))).status, 400);
  assert.equal((await api.upload(image.id, qcow2)).status, 204);
});

test('a connection cut mid-upload leaves the image queued and no file; a new upload then succeeds', async () => {
  const image = await api.create({ disk_format: 'raw' });
  const data = randomBytes(8 * 1024 * 1024);
  const token = await c.adminToken();
  const url = new URL(`${c.url}/image/v2/images/${image.id}/file`);
  const req = httpRequest(url, { method: 'PUT', headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': data.length } });
  req.on('error', () => {});
  req.write(data.subarray(0, 3 * 1024 * 1024));
  await eventually(async () => assert.equal((await api.show(image.id)).body.status, 'saving'));
  await eventually(() => assert.equal(storeFiles(c.dataDir).temp.length, 1));
  req.destroy();
  await eventually(async () => {
    assert.equal((await api.show(image.id)).body.status, 'queued');
    assert.deepEqual(storeFiles(c.dataDir).temp, []);
  });
  assert.ok(!storeFiles(c.dataDir).images.includes(image.id));
  assert.equal((await api.upload(image.id, data)).status, 204);
  assert.equal((await api.show(image.id)).body.checksum, hex('md5', data));
});

test('an image deleted during its upload: the upload ends with 410 and its bytes are removed', async () => {
  const image = await api.create({ disk_format: 'raw' });
  const token = await c.adminToken();
  const data = randomBytes(4 * 1024 * 1024);
  const answer = new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${c.url}/image/v2/images/${image.id}/file`, { method: 'PUT', headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': data.length } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.write(data.subarray(0, 1024 * 1024));
    void eventually(async () => assert.equal((await api.show(image.id)).body.status, 'saving')).then(async () => {
      assert.equal((await api.call('DELETE', `/v2/images/${image.id}`)).status, 204);
      req.end(data.subarray(1024 * 1024));
    });
  });
  assert.equal(await answer, 410);
  assert.deepEqual(storeFiles(c.dataDir).temp, []);
  assert.ok(!storeFiles(c.dataDir).images.includes(image.id));
});

test('deleting an image removes its bytes; a protected image stays', async () => {
  const image = await api.create({ disk_format: 'raw', protected: true });
  assert.equal((await api.upload(image.id, Buffer.alloc(1000, 1))).status, 204);
  const refused = await api.call('DELETE', `/v2/images/${image.id}`);
  assert.equal(refused.status, 403);
  assert.match(refused.body.message, /is protected and cannot be deleted/);
  assert.equal((await api.patch(image.id, [{ op: 'replace', path: '/protected', value: false }])).status, 200);
  assert.equal((await api.call('DELETE', `/v2/images/${image.id}`)).status, 204);
  assert.ok(!storeFiles(c.dataDir).images.includes(image.id));
  assert.equal((await api.show(image.id)).status, 404);
});

test('the formats of an active image are fixed', async () => {
  const image = await api.create({ disk_format: 'raw' });
  assert.equal((await api.patch(image.id, [{ op: 'replace', path: '/disk_format', value: 'iso' }])).status, 200);
  assert.equal((await api.patch(image.id, [{ op: 'replace', path: '/disk_format', value: 'raw' }])).status, 200);
  assert.equal((await api.upload(image.id, Buffer.alloc(512))).status, 204);
  const res = await api.patch(image.id, [{ op: 'replace', path: '/disk_format', value: 'qcow2' }]);
  assert.equal(res.status, 403);
  assert.match(res.body.message, /disk_format can be only replaced for a queued image/);
});

test('after a crash mid-upload, the next start puts the image back to queued and removes leftovers', async () => {
  const dataDir = tempDir('nubo-crash-');
  const database = join(dataDir, 'db');
  let cloud = await startTestCloud({ dataDir, database });
  const crash = imagesOf(cloud, await cloud.adminToken());
  const kept = await crash.create({ disk_format: 'raw' });
  assert.equal((await crash.upload(kept.id, Buffer.alloc(4096, 7))).status, 204);
  const caught = await crash.create({ disk_format: 'raw' });
  // What a process killed mid-upload leaves: the record saving, a temporary file, and bytes
  // renamed into place whose record never became active.
  const storeId = readFileSync(join(dataDir, 'images', 'store-id'), 'utf8').trim();
  const { images } = await import('../../src/image/tables.ts');
  const { eq } = await import('drizzle-orm');
  await cloud.cloud.store.db.update(images).set({ status: 'saving', uploadingTo: storeId }).where(eq(images.id, caught.id));
  writeFileSync(join(dataDir, 'images', 'tmp', `${caught.id}.partial`), 'half an image');
  writeFileSync(join(dataDir, 'images', caught.id), 'bytes without a record');
  await cloud.stop();

  cloud = await startTestCloud({ dataDir, database });
  const after = imagesOf(cloud, await cloud.adminToken());
  assert.equal((await after.show(caught.id)).body.status, 'queued');
  assert.deepEqual(storeFiles(dataDir), { images: [kept.id], temp: [] });
  assert.ok((await after.download(kept.id)).data.equals(Buffer.alloc(4096, 7)));
  await cloud.stop();
  rmSync(dataDir, { recursive: true, force: true });
});
