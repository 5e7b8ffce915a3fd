import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startGuestCloudOnCeph, type GuestCloud } from '../helpers/guest-cloud.ts';
import { tempDir } from '../helpers/cloud.ts';

// image_conversion_output_format raw on the rbd store, as Glance's rbd deployments run: the test
// guest uploaded as qcow2 with the real openstack CLI is stored raw, its record describes the raw
// bytes (format, size, checksum, os_hash), and a server from it boots from a clone of it, nothing
// copied. A qcow2 that must never reach qemu-img is still refused first, and one whose raw size
// is over the quota is refused before it is converted; neither leaves anything behind.
const run = promisify(execFile);
const dir = tempDir('nubo-rbd-convert-');
let c: GuestCloud;
let qcow2: string;
let raw: Buffer;
let token: string;

before(async () => {
  c = await startGuestCloudOnCeph('v', { NUBO_IMAGE_CONVERSION_OUTPUT_FORMAT: 'raw', NUBO_IMAGE_QUOTA_BYTES: '2G' });
  const { stdout } = await run('bash', [join(import.meta.dirname, '..', '..', 'scripts/guest/build.sh')], { maxBuffer: 1 << 24 });
  qcow2 = stdout.trim().split('\n').at(-1)!;
  await run('qemu-img', ['convert', '-O', 'raw', qcow2, join(dir, 'guest.raw')]);
  raw = readFileSync(join(dir, 'guest.raw'));
  token = await c.cloud.adminToken();
});
after(async () => {
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const inPool = async () => (await c.ceph.rbd(['ls', 'images'])).split('\n').filter(Boolean);
const conversions = () => readdirSync(join(c.cloud.dataDir, 'image-conversion'));

/** A queued qcow2 image and its data PUT through the API: the response. */
async function putQcow2(name: string, file: string): Promise<{ id: string; res: Response }> {
  const made = await c.cloud.request('POST', '/image/v2/images', { token, body: { name, disk_format: 'qcow2', container_format: 'bare' } });
  const res = await fetch(`${c.cloud.url}/image/v2/images/${made.body.id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', accept: 'application/json' },
    body: readFileSync(file),
  });
  return { id: made.body.id as string, res };
}

let imageId: string;

test("a qcow2 upload is stored raw: the record says raw with the raw bytes' size and digests; the download is those bytes", async () => {
  assert.notEqual(readFileSync(qcow2).length, raw.length, 'the qcow2 and its raw form differ in size');
  const image = await c.json('image', 'create', '--file', qcow2, '--disk-format', 'qcow2', '--container-format', 'bare', 'converted');
  imageId = image.id;
  const shown = await c.json('image', 'show', imageId);
  assert.equal(shown.status, 'active');
  assert.equal(shown.disk_format, 'raw');
  assert.equal(shown.size, raw.length);
  assert.equal(shown.virtual_size, raw.length);
  assert.equal(shown.checksum, createHash('md5').update(raw).digest('hex'));
  // openstack prints the os_hash fields among the properties.
  assert.equal(shown.properties.os_hash_algo, 'sha512');
  assert.equal(shown.properties.os_hash_value, createHash('sha512').update(raw).digest('hex'));

  const info = await c.ceph.rbdJson<{ size: number }>(['info', `images/${imageId}`]);
  assert.equal(info.size, raw.length);
  const saved = join(dir, 'saved');
  await c.cli('image', 'save', '--file', saved, imageId);
  assert.ok(readFileSync(saved).equals(raw), 'the download is the raw disk');
  assert.deepEqual(conversions(), [], 'the local files of the conversion are gone');
});

test('a server from the converted image boots from a copy-on-write clone of it', async () => {
  const { id } = await c.json('server', 'create', '--flavor', 'm1.nano', '--image', imageId, '--network', 'private-net', 'conv1');
  await c.until('conv1 ACTIVE', async () => (await c.json('server', 'show', id)).status === 'ACTIVE', 300_000);
  const disk = await c.ceph.rbdJson<{ parent?: { pool: string; image: string; snapshot: string } }>(['info', `vms/${id}_disk`]);
  assert.deepEqual(disk.parent && { pool: disk.parent.pool, image: disk.parent.image, snapshot: disk.parent.snapshot }, {
    pool: 'images',
    image: imageId,
    snapshot: 'snap',
  });
  const copies = join(c.cloud.dataDir, 'compute', 'images');
  const copied = existsSync(copies) ? readdirSync(copies).filter((f) => f.startsWith(imageId)) : [];
  assert.deepEqual(copied, [], 'nothing of the image was copied to the host');
  await c.consoleUntil('conv1', /nubo-guest ready: hostname=conv1/);
  await c.cli('server', 'delete', '--wait', id);
});

test('a qcow2 with a backing file is refused before any conversion, and one too big once raw is over the quota; neither leaves anything', async () => {
  const base = join(dir, 'base.raw');
  const child = join(dir, 'child.qcow2');
  await run('qemu-img', ['create', '-f', 'raw', base, '1M']);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', child]);
  const backed = await putQcow2('backed', child);
  assert.equal(backed.res.status, 400);
  assert.match(await backed.res.text(), /backing/i);

  // A few hundred KiB that would be 3 GiB once raw: the 2 GiB quota refuses it unconverted.
  const huge = join(dir, 'huge.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', huge, '3G']);
  const big = await putQcow2('big', huge);
  assert.equal(big.res.status, 413);
  assert.match(await big.res.text(), /quota/);

  for (const { id } of [backed, big]) {
    const image = (await c.cloud.request('GET', `/image/v2/images/${id}`, { token })).body;
    assert.deepEqual([image.status, image.disk_format, image.size], ['queued', 'qcow2', null]);
  }
  const pool = await inPool();
  assert.ok(!pool.some((n) => n.startsWith(backed.id) || n.startsWith(big.id)), `nothing in the pool: ${pool.join(' ')}`);
  assert.deepEqual(conversions(), []);
});
