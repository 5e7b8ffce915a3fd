import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { CephCli, CephNotFoundError } from '../../src/lib/ceph/index.ts';
import { openRbdStore } from '../../src/image/stores/rbd.ts';
import { startCeph, type TestCeph } from '../helpers/ceph.ts';
import { openstack, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';

// The image service on a single-node Ceph: the real openstack CLI uploads into the `images` pool,
// downloads the same bytes, and Ceph going away and coming back is answered without a restart.
let ceph: TestCeph;
let nubo: TestCloud;
let env: Record<string, string>;
let token: string;
const dir = tempDir('nubo-rbd-');
const file = join(dir, 'disk.raw');
// Over one RBD object (4 MiB), not a whole number of them.
const data = randomBytes(6 * 1024 * 1024 + 123);

before(async () => {
  ceph = await startCeph();
  nubo = await startTestCloud({ env: { ...ceph.env, NUBO_SHOW_IMAGE_DIRECT_URL: 'true' } });
  env = {
    OS_AUTH_URL: `${nubo.url}/identity`,
    OS_AUTH_TYPE: 'password',
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: 'admin',
    OS_PASSWORD: nubo.cloud.credentials!.password,
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
  };
  writeFileSync(file, data);
  token = await nubo.adminToken();
});
after(async () => {
  await nubo?.stop();
  await ceph?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<string> {
  const r = await openstack(env, ...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const api = (method: string, path: string, body?: Buffer<ArrayBuffer> | Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${nubo.url}/image/v2${path}`, {
    method,
    headers: { 'x-auth-token': token, 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json', ...headers },
    body: Buffer.isBuffer(body) ? body : body && JSON.stringify(body),
  });

const inPool = async () => JSON.parse(await ceph.rbd(['ls', 'images', '--format', 'json'])) as string[];

test('the store contract on RBD: visible only once committed, writes out of order, abort and sweep leave nothing, delete is idempotent', async () => {
  const store = await openRbdStore(new CephCli({ conf: ceph.conf, user: 'nubo-image', pool: 'images' }));
  const id = '11111111-2222-4333-8444-555555555555';
  const w = await store.create(id);
  await Promise.all([w.write(Buffer.from('world'), 6), w.write(Buffer.from('hello '), 0)]);
  assert.deepEqual(await store.list(), []);
  await w.commit();
  assert.deepEqual(await store.list(), [id]);
  assert.equal(await text(await store.read(id)), 'hello world');
  assert.equal(await text(await store.read(id, { start: 6, end: 8 })), 'wor');

  const aborted = await store.create('99999999-2222-4333-8444-555555555555');
  await aborted.write(Buffer.alloc(1000), 0);
  await aborted.abort();
  await aborted.abort();
  // What a crash mid-upload leaves, removed by the next start's sweep.
  await ceph.rbd(['create', '--size', '1M', 'images/aaaaaaaa-2222-4333-8444-555555555555.partial.0123abcd']);
  await ceph.rbd(['create', '--size', '1M', 'images/kept-by-the-operator']);
  await store.sweep();
  assert.deepEqual((await inPool()).sort(), [id, 'kept-by-the-operator']);
  assert.deepEqual(await store.list(), [id], 'only images named like image ids are the store\'s');

  await store.delete(id);
  await store.delete(id);
  assert.deepEqual(await store.list(), []);
  await assert.rejects(store.read(id), CephNotFoundError);
  await ceph.rbd(['rm', '--no-progress', 'images/kept-by-the-operator']);
});

test('openstack image create --file lands in the images pool with a protected snapshot; save gives the same bytes', async () => {
  const image = JSON.parse(await cli('image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'on-rbd', '-f', 'json'));
  assert.equal(JSON.parse(await cli('image', 'show', image.id, '-f', 'json')).status, 'active');
  assert.ok((await inPool()).includes(image.id));
  const info = await ceph.rbdJson<{ size: number; format: number }>(['info', `images/${image.id}`]);
  assert.equal(info.size, data.length);
  assert.equal(info.format, 2);
  const snaps = await ceph.rbdJson<{ name: string; protected: string }[]>(['snap', 'ls', `images/${image.id}`]);
  assert.deepEqual(snaps.map((s) => [s.name, s.protected]), [['snap', 'true']]);

  const saved = join(dir, 'saved');
  await cli('image', 'save', '--file', saved, image.id);
  assert.ok(readFileSync(saved).equals(data), 'the download is byte-identical');
  const range = await api('GET', `/images/${image.id}/file`, undefined, { range: 'bytes=4194300-4194309' });
  assert.equal(range.status, 206);
  assert.ok(Buffer.from(await range.arrayBuffer()).equals(data.subarray(4194300, 4194310)), 'a range across two RBD objects');

  // show_image_direct_url: the admin sees where Glance's rbd store would say the bytes are.
  const fsid = (await ceph.ceph(['fsid'])).trim();
  const shown = (await (await api('GET', `/images/${image.id}`)).json()) as { direct_url: string; locations: unknown };
  assert.equal(shown.direct_url, `rbd://${fsid}/images/${image.id}/snap`);
  assert.deepEqual(shown.locations, [{ url: shown.direct_url, metadata: {} }]);

  await cli('image', 'delete', image.id);
  assert.ok(!(await inPool()).includes(image.id), 'delete removes the RBD image');
});

test('an image that a disk is a clone of cannot be deleted (409 in use) until the clone goes', async () => {
  const image = JSON.parse(await cli('image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'parent', '-f', 'json'));
  await ceph.rbd(['clone', `images/${image.id}@snap`, 'volumes/child'], 'nubo-volume');
  const refused = await api('DELETE', `/images/${image.id}`);
  assert.equal(refused.status, 409);
  assert.match((await refused.text()).toString(), /in use/);
  assert.equal(JSON.parse(await cli('image', 'show', image.id, '-f', 'json')).status, 'active', 'the image is left as it was');
  const [snap] = await ceph.rbdJson<{ protected: string }[]>(['snap', 'ls', `images/${image.id}`]);
  assert.equal(snap!.protected, 'true');

  await ceph.rbd(['rm', '--no-progress', 'volumes/child'], 'nubo-volume');
  await cli('image', 'delete', image.id);
  assert.ok(!(await inPool()).includes(image.id));
});

test('with Ceph stopped uploads answer 503 naming the pool and leave the image queued; once back they work without restarting Nubo', async () => {
  const kept = JSON.parse(await cli('image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'kept', '-f', 'json'));
  await ceph.halt();

  const created = await api('POST', '/images', { name: 'while-down', disk_format: 'raw', container_format: 'bare' });
  const { id } = (await created.json()) as { id: string };
  const started = Date.now();
  const put = await api('PUT', `/images/${id}/file`, data);
  assert.equal(put.status, 503);
  assert.match(await put.text(), /Ceph pool \\?"images\\?"/);
  assert.ok(Date.now() - started < 30_000, 'the upload fails in seconds, not when librados gives up');
  const after = (await (await api('GET', `/images/${id}`)).json()) as { status: string; size: number | null };
  assert.deepEqual([after.status, after.size], ['queued', null], 'no image is left half-made');
  const download = await api('GET', `/images/${kept.id}/file`);
  assert.equal(download.status, 503);
  const cliUpload = await openstack(env, 'image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'cli-while-down');
  assert.notEqual(cliUpload.code, 0);

  await ceph.start();
  assert.equal((await api('PUT', `/images/${id}/file`, data)).status, 204);
  assert.equal(((await (await api('GET', `/images/${id}`)).json()) as { status: string }).status, 'active');
  const saved = join(dir, 'after');
  await cli('image', 'save', '--file', saved, kept.id);
  assert.ok(readFileSync(saved).equals(data));
  const names = await inPool();
  assert.ok(names.includes(id) && names.includes(kept.id));
  assert.deepEqual(names.filter((n) => n.includes('.partial.')), [], 'no upload left a partial image');
});
