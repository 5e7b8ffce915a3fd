import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { tempDir } from '../helpers/cloud.ts';

test('image_conversion_output_format: raw from the file, the environment or the flag, with the rbd store only', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'nubo.yaml'), 'storage: ceph\nimage_conversion_output_format: raw\n');
  assert.equal(loadConfig({ dataDir: dir }, {}).imageConversionOutputFormat, 'raw');
  assert.equal(loadConfig({ dataDir: tempDir() }, { NUBO_STORAGE: 'ceph', NUBO_IMAGE_CONVERSION_OUTPUT_FORMAT: 'raw' }).imageConversionOutputFormat, 'raw');
  assert.equal(loadConfig({ dataDir: tempDir(), storage: 'ceph', imageConversionOutputFormat: 'raw' }, {}).imageConversionOutputFormat, 'raw');
  assert.equal(loadConfig({ dataDir: tempDir(), storage: 'ceph' }, {}).imageConversionOutputFormat, undefined, 'off unless asked');
  assert.throws(
    () => loadConfig({ dataDir: tempDir(), storage: 'ceph', imageConversionOutputFormat: 'vmdk' }, {}),
    /image_conversion_output_format must be one of raw/,
  );
  assert.throws(() => loadConfig({ dataDir: tempDir(), imageConversionOutputFormat: 'raw' }, {}), /applies to the rbd image store: set storage to ceph/);
});
