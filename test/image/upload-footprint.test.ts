import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { eventually, imagesOf, storeFiles } from './helpers.ts';

// What an upload costs the server beside its bytes: no thread of its own, whatever the number of
// uploads at once. The cloud runs in this process, so its threads are this process's.
let c: TestCloud;
let api: ReturnType<typeof imagesOf>;
let token: string;
let dataDir: string;
before(async () => {
  dataDir = tempDir('nubo-footprint-');
  c = await startTestCloud({ dataDir });
  token = await c.adminToken();
  api = imagesOf(c, token);
});
after(async () => {
  await c?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
const threads = () => readdirSync('/proc/self/task').length;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

test('uploads at once share the hash threads instead of starting their own; each keeps its own digests', async () => {
  const first = await api.create({ name: 'warm' });
  const warm = randomBytes(3 * MiB + 12345);
  assert.equal((await api.upload(first.id, warm)).status, 204);
  const before = threads();

  const UPLOADS = 6;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const datas = Array.from({ length: UPLOADS }, () => randomBytes(3 * MiB + 777));
  const ids = await Promise.all(datas.map(async (_, i) => (await api.create({ name: `at-once-${i}` })).id));
  // Each client sends two thirds of its image, then waits until every upload is under way.
  const uploads = ids.map((id, i) =>
    api.upload(
      id,
      (async function* () {
        yield datas[i]!.subarray(0, 2 * MiB);
        await gate;
        yield datas[i]!.subarray(2 * MiB);
      })(),
    ),
  );
  const partials = () => storeFiles(dataDir).temp.filter((f) => ids.some((id) => f.startsWith(id)));
  await eventually(() => assert.equal(partials().filter((f) => statSync(join(dataDir, 'images', 'tmp', f)).size >= 2 * MiB).length, UPLOADS), 30_000);
  // A thread shows in /proc a little after it is asked for: the most seen over a second counts.
  let during = 0;
  for (let i = 0; i < 20; i++, await new Promise((r) => setTimeout(r, 50))) during = Math.max(during, threads());
  open();
  for (const up of await Promise.all(uploads)) assert.equal(up.status, 204, JSON.stringify(up.body));

  assert.ok(during - before < UPLOADS, `${UPLOADS} uploads at once added ${during - before} threads`);
  for (const [i, id] of ids.entries()) {
    const shown = (await api.show(id)).body;
    assert.equal(shown.checksum, md5(datas[i]!));
    assert.equal(shown.os_hash_value, createHash('sha512').update(datas[i]!).digest('hex'));
  }
});

test('a download is sent in 1 MiB pieces from reused buffers and still serves exact bytes and ranges across them; HEAD sends none', async () => {
  const image = await api.create({ name: 'pieces' });
  const data = randomBytes(5 * MiB + 3);
  assert.equal((await api.upload(image.id, data)).status, 204);
  const whole = await api.download(image.id);
  assert.equal(whole.status, 200);
  assert.ok(whole.data.equals(data));
  const range = await api.download(image.id, { range: `bytes=${MiB - 5}-${3 * MiB + 4}` });
  assert.equal(range.status, 206);
  assert.ok(range.data.equals(data.subarray(MiB - 5, 3 * MiB + 5)));
  const tail = await api.download(image.id, { range: 'bytes=-2' });
  assert.ok(tail.data.equals(data.subarray(-2)));
  // Two downloads at once share the event loop, each with its own buffers.
  const [a, b] = await Promise.all([api.download(image.id), api.download(image.id, { range: `bytes=${2 * MiB}-` })]);
  assert.ok(a.data.equals(data) && b.data.equals(data.subarray(2 * MiB)));
  const head = await fetch(`${c.url}/image/v2/images/${image.id}/file`, { method: 'HEAD', headers: { 'x-auth-token': token } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(data.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
});
