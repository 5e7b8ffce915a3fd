import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { cliAs, cliFails, httpClient, nubo as nubo_, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';

// `openstack image create --volume`: a volume's bytes uploaded into a new image (Cinder's
// os-volume_upload_image), checked by downloading the image and comparing with the volume's file.
const run = promisify(execFile);
let nubo: SpawnedNubo;
let dataDir: string;
let work: string;
let http: ReturnType<typeof httpClient>;
let token: string;
let project: string;
const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

before(async () => {
  dataDir = tempDir('nubo-upload-');
  work = tempDir('nubo-upload-work-');
  nubo = await spawnNubo({ dataDir });
  http = httpClient(nubo.url);
  token = await http.login('admin', nubo.env.OS_PASSWORD!, 'admin');
  project = (await http.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
});
const cinder = (method: string, path: string, body?: unknown) =>
  http.request(method, `/volume/v3/${project}${path}`, { token, body, headers: { 'OpenStack-API-Version': 'volume 3.44' } });
const volumeNow = async (id: string) => (await cinder('GET', `/volumes/${id}`)).body.volume;
const imageNow = async (id: string) => (await http.request('GET', `/image/v2/images/${id}`, { token })).body;
after(async () => {
  await nubo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 240; i++) {
    const v = await get();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not settle`);
}
const volumeFile = (id: string) => join(dataDir, 'volumes', 'volumes', `${id}.raw`);

test('image create --volume: uploading → available, and the image holds the volume’s bytes (raw identical, qcow2 the same disk)', async () => {
  const source = join(work, 'disk.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', source, '64M']);
  await run('qemu-io', ['-c', 'write -P 0x5a 0 2M', '-c', 'write -P 0xa5 60M 1M', source]);
  await ok('image', 'create', 'base', '--file', source, '--disk-format', 'qcow2', '--container-format', 'bare', '--property', 'os_distro=testos');
  const vol = await json('volume', 'create', '--size', '1', '--image', 'base', 'vol');
  await until(
    'volume',
    () => volumeNow(vol.id),
    (v) => v.status === 'available',
  );

  const shown = await json('image', 'create', '--volume', 'vol', 'from-vol');
  assert.equal(shown.status, 'uploading', 'openstackclient shows Cinder’s answer');
  assert.equal(shown.disk_format, 'raw');
  assert.equal(shown.container_format, 'bare');
  assert.equal(shown.volume_type, '__DEFAULT__');
  const image = await until(
    'image',
    () => imageNow(shown.image_id),
    (i) => i.status === 'active',
  );
  assert.equal(image.name, 'from-vol');
  assert.equal(image.size, 2 ** 30);
  assert.equal(image.os_distro, 'testos', 'the volume’s image metadata are carried over');
  assert.equal(
    (
      await until(
        'volume',
        () => volumeNow(vol.id),
        (v) => v.status !== 'uploading',
      )
    ).status,
    'available',
  );
  // The image service hashed what it stored: the same hash as the volume's file is the same bytes.
  const sha512 = createHash('sha512');
  await pipeline(createReadStream(volumeFile(vol.id)), sha512);
  assert.equal(image.os_hash_value, sha512.digest('hex'), 'the image is byte-identical to the volume');

  // nubo prints what openstack prints: Cinder's answer, its volume type by name.
  const byNubo = await nubo_(nubo.env, 'image', 'create', '--volume', 'vol', 'from-vol-nubo', '-f', 'json');
  assert.equal(byNubo.code, 0, byNubo.stderr);
  const fromNubo = JSON.parse(byNubo.stdout);
  assert.deepEqual(Object.keys(fromNubo), Object.keys(shown));
  assert.equal(fromNubo.volume_type, '__DEFAULT__');
  assert.equal(fromNubo.image_name, 'from-vol-nubo');
  await until(
    'image',
    () => imageNow(fromNubo.image_id),
    (i) => i.status === 'active',
  );
  await until(
    'volume',
    () => volumeNow(vol.id),
    (v) => v.status === 'available',
  );

  const q = await json('image', 'create', '--volume', 'vol', '--disk-format', 'qcow2', 'from-vol-qcow2');
  await until(
    'image',
    () => imageNow(q.image_id),
    (i) => i.status === 'active',
  );
  const savedQ = join(work, 'saved.qcow2');
  await ok('image', 'save', '--file', savedQ, 'from-vol-qcow2');
  await run('qemu-img', ['compare', '-q', '-f', 'qcow2', '-F', 'raw', savedQ, volumeFile(vol.id)]);
});

test('3.1 visibility and protected; an in-use volume is refused unless forced; bad formats are 400', async () => {
  const vol = await json('volume', 'create', '--size', '1', 'held');
  await until(
    'volume',
    () => volumeNow(vol.id),
    (v) => v.status === 'available',
  );
  const v31 = ['--os-volume-api-version', '3.1'];
  const shared = await json(...v31, 'image', 'create', '--volume', 'held', '--shared', '--protected', 'shared-one');
  assert.equal(shared.visibility, 'shared');
  assert.equal(shared.protected, true);
  const img = await until(
    'image',
    () => imageNow(shared.image_id),
    (i) => i.status === 'active',
  );
  assert.equal(img.visibility, 'shared');
  assert.equal(img.protected, true);
  assert.match(await cliFails(nubo.env, 'image', 'create', '--volume', 'held', '--shared', 'too-early'), /--os-volume-api-version 3.1 or greater/);

  // In use through Cinder's attachments API (reserve, connect, complete), as a compute host would.
  const created = await cinder('POST', '/attachments', { attachment: { volume_uuid: vol.id, connector: { host: 'h' } } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const att = created.body.attachment;
  assert.equal((await cinder('POST', `/attachments/${att.id}/action`, { 'os-complete': null })).status, 204);
  await until(
    'volume',
    () => volumeNow(vol.id),
    (v) => v.status === 'in-use',
  );
  assert.match(await cliFails(nubo.env, 'image', 'create', '--volume', 'held', 'refused'), /Volume status is in-use/);
  const bad = await cinder('POST', `/volumes/${vol.id}/action`, { 'os-volume_upload_image': { image_name: 'x', disk_format: 'iso' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.badRequest.message, /Invalid disk-format 'iso'/);
  assert.equal((await cinder('POST', `/volumes/${vol.id}/action`, { 'os-volume_upload_image': {} })).status, 400);
  const refusedByNubo = await nubo_(nubo.env, 'image', 'create', '--volume', 'held', 'refused');
  assert.notEqual(refusedByNubo.code, 0);
  assert.match(refusedByNubo.stderr, /Volume status is in-use/);
  const forced = await json('image', 'create', '--volume', 'held', '--force', 'forced');
  await until(
    'image',
    () => imageNow(forced.image_id),
    (i) => i.status === 'active',
  );
  const back = await until(
    'volume',
    () => volumeNow(vol.id),
    (v) => v.status !== 'uploading',
  );
  assert.equal(back.status, 'in-use', 'a forced upload gives the volume back to its guest');
});
