import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { eventually, imagesOf, storeFiles } from './helpers.ts';

// A cloud that waits one second on a silent client, set through its configuration file.
let c: TestCloud;
let api: ReturnType<typeof imagesOf>;
let token: string;
let dataDir: string;
before(async () => {
  dataDir = tempDir('nubo-idle-');
  writeFileSync(join(dataDir, 'nubo.yaml'), 'client_idle_timeout: 1\n');
  c = await startTestCloud({ dataDir });
  token = await c.adminToken();
  api = imagesOf(c, token);
});
after(async () => {
  await c?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A raw connection to the cloud, with everything it has received so far and whether it closed. */
async function rawClient(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(c.url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (d) => (text += d));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

/** The partial files of an image's uploads in the store. */
const partials = (id: string) => storeFiles(dataDir).temp.filter((name) => name.startsWith(`${id}.`));

/** Starts an upload of `announced` bytes by hand, sends `sent` of them and waits until the
 * image is saving with a partial file in the store. */
async function partialUpload(id: string, announced: number, sent: number) {
  const client = await rawClient();
  client.socket.write(
    `PUT /image/v2/images/${id}/file HTTP/1.1\r\nHost: nubo\r\nX-Auth-Token: ${token}\r\nAccept: application/json\r\nContent-Type: application/octet-stream\r\nContent-Length: ${announced}\r\n\r\n`,
  );
  client.socket.write(randomBytes(sent));
  await eventually(async () => {
    assert.equal((await api.show(id)).body.status, 'saving');
    assert.equal(partials(id).length, 1);
  });
  return client;
}

/** The upload left nothing behind: the image is queued again, without data or partial file. */
async function cleanlyQueued(id: string) {
  await eventually(async () => {
    const shown = (await api.show(id)).body;
    assert.equal(shown.status, 'queued');
    assert.equal(shown.size, null);
    assert.deepEqual(partials(id), []);
    assert.ok(!storeFiles(dataDir).images.includes(id));
  }, 15_000);
}

/** Waits for a promise, failing after `ms` instead of hanging. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The files this process holds open (the cloud runs in it). */
const openFiles = () =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });

test('a client that goes silent mid-upload gets 408; the image is queued again and takes a new upload', async () => {
  const image = await api.create({ name: 'silent' });
  const client = await partialUpload(image.id, 4_000_000, 300_000);
  await cleanlyQueued(image.id);
  await within(client.closed, 15_000, 'the server closes the connection');
  assert.match(client.received(), /^HTTP\/1.1 408 /);
  const answer = JSON.parse(client.received().split('\r\n\r\n')[1]!);
  assert.equal(answer.code, '408 Request Timeout');
  assert.match(answer.message, new RegExp(`image ${image.id}`));

  const data = randomBytes(3_000_000);
  const again = await api.upload(image.id, data);
  assert.equal(again.status, 204, JSON.stringify(again.body));
  assert.equal((await api.show(image.id)).body.status, 'active');
  assert.ok((await api.download(image.id)).data.equals(data), 'the new data comes back byte for byte');
});

test('a client that disconnects mid-upload leaves the image queued without a partial file', async () => {
  const image = await api.create({ name: 'gone' });
  const client = await partialUpload(image.id, 4_000_000, 500_000);
  client.socket.destroy();
  await cleanlyQueued(image.id);
  const data = randomBytes(1_000_000);
  assert.equal((await api.upload(image.id, data)).status, 204);
  assert.ok((await api.download(image.id)).data.equals(data));
});

test('a client that sends its request head byte by byte is cut off', async () => {
  const client = await rawClient();
  const head = `GET /image/v2/images HTTP/1.1\r\nHost: nubo\r\nX-Slow: ${'a'.repeat(10_000)}`;
  let at = 0;
  const drip = setInterval(() => client.socket.write(head[at++ % head.length]!), 50);
  try {
    await within(client.closed, 15_000, 'the server cuts the slow client off');
  } finally {
    clearInterval(drip);
  }
  assert.match(client.received(), /^HTTP\/1.1 408 /);
});

test('a client that stops reading a download loses the connection, and the file is closed', async () => {
  const image = await api.create({ name: 'unread' });
  const data = Buffer.alloc(48 * 1024 * 1024, 0x5a);
  assert.equal((await api.upload(image.id, data)).status, 204);
  const file = join(dataDir, 'images', image.id);
  const client = await rawClient();
  client.socket.pause();
  client.socket.write(`GET /image/v2/images/${image.id}/file HTTP/1.1\r\nHost: nubo\r\nX-Auth-Token: ${token}\r\n\r\n`);
  await eventually(() => assert.ok(openFiles().includes(file), 'the download opens the file'));
  await eventually(() => assert.ok(!openFiles().includes(file), 'the stalled download lets the file go'), 15_000);
  client.socket.destroy();
});
