import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { join } from 'node:path';
import { openFilesystemStore } from '../../src/image/stores/filesystem.ts';
import type { ImageStore } from '../../src/image/stores/store.ts';
import { tempDir } from '../helpers/cloud.ts';

// The contract every image store keeps (stores/store.ts), checked on the filesystem store.
let root: string;
let store: ImageStore;
before(async () => {
  root = tempDir('nubo-store-');
  store = await openFilesystemStore(root);
});
after(() => rmSync(root, { recursive: true, force: true }));

const ID = '11111111-2222-4333-8444-555555555555';
const temps = () => readdirSync(join(root, 'tmp'));

test('bytes become visible under the image id only once committed', async () => {
  const w = await store.create(ID);
  await Promise.all([w.write(Buffer.from('world'), 6), w.write(Buffer.from('hello '), 0)]);
  assert.deepEqual(await store.list(), []);
  assert.equal(temps().length, 1);
  await w.commit();
  assert.deepEqual(await store.list(), [ID]);
  assert.deepEqual(temps(), []);
  assert.equal(await text(await store.read(ID)), 'hello world');
  assert.equal(await text(await store.read(ID, { start: 6, end: 8 })), 'wor');
});

test('an aborted write leaves nothing, and abort may be repeated', async () => {
  const other = '99999999-2222-4333-8444-555555555555';
  const w = await store.create(other);
  await w.write(Buffer.alloc(1000), 0);
  await w.abort();
  await w.abort();
  assert.deepEqual(temps(), []);
  assert.ok(!existsSync(join(root, other)));
});

test('sweep removes what writes interrupted by a crash left; the id survives a reopen', async () => {
  await store.create('aaaaaaaa-2222-4333-8444-555555555555');
  assert.equal(temps().length, 1);
  const again = await openFilesystemStore(root);
  assert.equal(again.id, store.id);
  await again.sweep();
  assert.deepEqual(temps(), []);
});

test('delete is idempotent; reading deleted bytes fails at once; ids cannot name other paths', async () => {
  await store.delete(ID);
  await store.delete(ID);
  assert.deepEqual(await store.list(), []);
  await assert.rejects(store.read(ID), /ENOENT/);
  await assert.rejects(store.create('../escape'), /invalid image id/);
});
