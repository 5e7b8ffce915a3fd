import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { tempDir } from '../helpers/cloud.ts';

test('flags beat the environment, which beats the config file, which beats the defaults', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'nubo.yaml'), 'port: 9000\nregion: FileRegion\ntoken_ttl: 600\nhost: 0.0.0.0\n');
  const fromFile = loadConfig({ dataDir: dir }, {});
  assert.equal(fromFile.port, 9000);
  assert.equal(fromFile.region, 'FileRegion');
  assert.equal(fromFile.tokenTtl, 600);
  assert.equal(fromFile.publicUrl, 'http://127.0.0.1:9000', 'a wildcard address is not a URL');
  assert.equal(fromFile.database, join(dir, 'db'));
  const fromEnv = loadConfig({ dataDir: dir }, { NUBO_PORT: '9100', NUBO_REGION: 'EnvRegion' });
  assert.equal(fromEnv.port, 9100);
  assert.equal(fromEnv.region, 'EnvRegion');
  const fromFlags = loadConfig({ dataDir: dir, port: '9200', database: 'postgres://x/y' }, { NUBO_PORT: '9100' });
  assert.equal(fromFlags.port, 9200);
  assert.equal(fromFlags.database, 'postgres://x/y');
});

test('bad settings are refused with a message that names them', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'nubo.yaml'), 'prot: 9000\n');
  assert.throws(() => loadConfig({ dataDir: dir }, {}), /unknown setting "prot"/);
  assert.throws(() => loadConfig({ dataDir: tempDir(), port: 'eighty' }, {}), /port must be a whole number/);
  assert.throws(() => loadConfig({ config: '/nonexistent/nubo.yaml' }, {}), /does not exist/);
  assert.throws(() => loadConfig({ dataDir: tempDir() }, { NUBO_VIF_PLUGGING_TIMEOUT: '0' }), /vif_plugging_timeout must be 1 or more/);
  assert.equal(loadConfig({ dataDir: tempDir() }, {}).vifPluggingTimeout, 300);
});
