import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { startTestCloud, tempDir } from '../helpers/cloud.ts';
import { images, tasks } from '../../src/image/tables.ts';
import { eventually, imagesOf } from './helpers.ts';

// A restart in the middle of interoperable imports: staged data waits for its import, an import
// cut short goes back to its staged data, and the task it ran as is failed.
test('staged data and interrupted imports survive a restart', async () => {
  const dataDir = tempDir();
  const database = join(dataDir, 'db');
  let c = await startTestCloud({ dataDir, database });
  try {
    const token = await c.adminToken();
    const api = imagesOf(c, token);
    const stage = (id: string) =>
      fetch(`${c.url}/image/v2/images/${id}/stage`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', accept: 'application/json' },
        body: Buffer.alloc(64 * 1024, 1),
      });
    const waiting = await api.create({ name: 'waiting' });
    const cut = await api.create({ name: 'cut' });
    assert.equal((await stage(waiting.id)).status, 204);
    assert.equal((await stage(cut.id)).status, 204);

    // What a crash mid-import leaves: the image importing into this store, its task running.
    const storeId = readFileSync(join(dataDir, 'images', 'store-id'), 'utf8').trim();
    await c.cloud.store.db.update(images).set({ status: 'importing', uploadingTo: storeId }).where(eq(images.id, cut.id));
    const [task] = await c.cloud.store.db
      .insert(tasks)
      .values({ id: 'f0000000-0000-4000-8000-000000000001', type: 'api_image_import', status: 'processing', owner: 'x', userId: 'y', imageId: cut.id })
      .returning();
    await c.stop();

    c = await startTestCloud({ dataDir, database });
    const again = imagesOf(c, await c.adminToken());
    assert.equal((await again.show(waiting.id)).body.status, 'uploading');
    assert.equal((await again.show(cut.id)).body.status, 'uploading');
    // Staged bytes count against the quota: the image's size is theirs.
    assert.equal((await again.show(waiting.id)).body.size, 64 * 1024);
    const [after] = await c.cloud.store.db.select().from(tasks).where(eq(tasks.id, task!.id));
    assert.equal(after!.status, 'failure');
    assert.match(after!.message, /interrupted by a restart/);

    for (const id of [waiting.id, cut.id]) {
      assert.equal((await again.call('POST', `/v2/images/${id}/import`, { method: { name: 'glance-direct' } })).status, 202);
      await eventually(async () => assert.equal((await again.show(id)).body.status, 'active'), 10_000);
      assert.equal((await again.show(id)).body.size, 64 * 1024);
    }
    assert.deepEqual(
      readdirSync(join(dataDir, 'image-staging')).filter((f) => f !== 'tmp' && f !== 'store-id'),
      [],
      'staged copies are gone once imported',
    );
  } finally {
    await c.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
