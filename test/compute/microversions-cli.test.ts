import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { adminEnv, startTestCloud, tempDir, type TestCloud, cliAs, nubo as nuboCli } from '../helpers/cloud.ts';

// The real openstack CLI at the microversions that carry its newer options, and openstacksdk,
// which negotiates the highest microversion each resource knows, against a cloud in this process
// (the API is what is tested: it starts faster than `nubo up`).
const run = promisify(execFile);
let c: TestCloud;
let env: Record<string, string>;
let work: string;
before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  env = adminEnv(c.url, c.cloud.credentials!.password);
  work = tempDir('nubo-microversions-cli-');
});
after(async () => {
  await c?.stop();
  rmSync(work, { recursive: true, force: true });
});

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('openstack at 2.92 (the highest its novaclient knows): flavor --description, server create --nic none --tag, list and show', async () => {
  const flavor = await json(
    '--os-compute-api-version',
    '2.55',
    'flavor',
    'create',
    '--ram',
    '64',
    '--disk',
    '1',
    '--vcpus',
    '1',
    '--description',
    'for tests',
    'f1',
  );
  assert.equal(flavor.description, 'for tests');
  // nubo's own CLI sends descriptions when OS_COMPUTE_API_VERSION allows them, as openstack does.
  const ours = cliAs(() => ({ ...env, OS_COMPUTE_API_VERSION: '2.55' }), nuboCli);
  assert.equal(JSON.parse(await ours('flavor', 'create', '--ram', '64', '--vcpus', '1', '--description', 'ours', 'f2', '-f', 'json')).description, 'ours');
  await ours('flavor', 'set', '--description', 'changed', 'f2');
  assert.equal((await json('--os-compute-api-version', '2.55', 'flavor', 'show', 'f2')).description, 'changed');
  const file = join(work, 'disk.raw');
  writeFileSync(file, Buffer.alloc(1 << 20));
  await ok('image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--public', '--file', file, 'img');

  const created = await json(
    ...['--os-compute-api-version', '2.92', 'server', 'create', '--image', 'img', '--flavor', 'f1', '--nic', 'none'],
    ...['--tag', 'blue', '--tag', 'prod', '--wait', 'vm1'],
  );
  assert.equal(created.status, 'ACTIVE');
  assert.deepEqual([...created.tags].sort(), ['blue', 'prod']);
  const list = await json('--os-compute-api-version', '2.92', 'server', 'list', '--long');
  assert.deepEqual(
    list.map((s: any) => [s.Name, s.Status]),
    [['vm1', 'ACTIVE']],
  );
  const shown = await json('--os-compute-api-version', '2.92', 'server', 'show', 'vm1');
  assert.equal(shown.id, created.id);
  // From 2.47 the flavor is the server's copy, shown by its original name.
  assert.equal(shown.flavor.original_name, 'f1');
  assert.equal((await json('--os-compute-api-version', '2.52', 'server', 'list', '--tags', 'blue')).length, 1);
  await ok('--os-compute-api-version', '2.92', 'server', 'stop', 'vm1');
});

test('openstacksdk negotiates its highest microversions and reads servers, flavors, key pairs and limits', async () => {
  const script = `
import json, openstack
c = openstack.connect()
server = next(c.compute.servers(name='vm1'))
full = c.compute.get_server(server.id)
flavor = c.compute.find_flavor('f1')
key = c.compute.create_keypair(name='sdk-key')
limits = c.compute.get_limits()
print(json.dumps({
  'tags': sorted(full.tags), 'flavor': full.flavor.original_name, 'locked': full.is_locked,
  'description': flavor.description, 'key_type': key.type, 'private': bool(key.private_key),
  'max_instances': limits.absolute.instances,
}))
`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { env: { ...clean, ...env } });
  assert.deepEqual(JSON.parse(stdout), {
    tags: ['blue', 'prod'],
    flavor: 'f1',
    locked: false,
    description: 'for tests',
    key_type: 'ssh',
    private: true,
    max_instances: 10,
  });
});
