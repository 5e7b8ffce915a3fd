import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, tempDir } from '../helpers/cloud.ts';

// The definitions catalogue is loaded at the first start only: what the operator deletes stays
// deleted. image_metadefs_dir loads files in Glance's JSON form instead of Nubo's catalogue.
test('a directory of definition files replaces the catalogue, loaded once', async () => {
  const dataDir = tempDir();
  const defs = join(dataDir, 'metadefs');
  mkdirSync(defs);
  writeFileSync(
    join(defs, 'site.json'),
    JSON.stringify({
      namespace: 'Site::Backup',
      display_name: 'Backups',
      description: 'How the site backs up servers made from the image.',
      visibility: 'public',
      protected: true,
      resource_type_associations: [{ name: 'OS::Glance::Image' }, { name: 'OS::Nova::Server' }],
      properties: { backup_policy: { title: 'Backup policy', type: 'string', enum: ['daily', 'weekly', 'none'] } },
      objects: [{ name: 'Window', properties: { start: { title: 'Start hour', type: 'integer', minimum: 0, maximum: 23 } }, required: [] }],
      tags: [{ name: 'backed-up' }],
    }),
  );
  writeFileSync(join(dataDir, 'nubo.yaml'), `image_metadefs_dir: ${defs}\n`);
  const database = join(dataDir, 'db');
  let c = await startTestCloud({ dataDir, database });
  try {
    const admin = await c.adminToken();
    const list = await c.request('GET', '/image/v2/metadefs/namespaces', { token: admin });
    assert.deepEqual(
      list.body.namespaces.map((n: any) => n.namespace),
      ['Site::Backup'],
    );
    const ns = await c.request('GET', '/image/v2/metadefs/namespaces/Site::Backup', { token: admin });
    assert.deepEqual(Object.keys(ns.body.properties), ['backup_policy']);
    assert.equal(ns.body.owner, 'admin');
    assert.deepEqual(ns.body.tags, [{ name: 'backed-up' }]);
    assert.equal(ns.body.objects[0].name, 'Window');

    // The operator removes it; the next start does not bring it back.
    const body = { namespace: 'Site::Backup', visibility: 'public', protected: false };
    assert.equal((await c.request('PUT', '/image/v2/metadefs/namespaces/Site::Backup', { token: admin, body })).status, 200);
    assert.equal((await c.request('DELETE', '/image/v2/metadefs/namespaces/Site::Backup', { token: admin })).status, 204);
    await c.stop();
    c = await startTestCloud({ dataDir, database });
    const after = await c.request('GET', '/image/v2/metadefs/namespaces', { token: await c.adminToken() });
    assert.deepEqual(after.body.namespaces, []);
  } finally {
    await c.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
