import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openstack, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { nuboArgv } from '../helpers/nubo-command.ts';
import { eventually, run } from '../image/helpers.ts';

// nubo's image import, stage and metadef namespace commands, in openstackclient's grammar.
let cloud: TestCloud;
let work: string;
let admin: Record<string, string>;

before(async () => {
  cloud = await startTestCloud();
  work = tempDir('nubo-cli-import-');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', join(work, 'x.qcow2'), '8M']);
  writeFileSync(join(work, 'raw.img'), Buffer.alloc(512 * 1024, 3));
  const c = cloud.cloud.credentials!;
  admin = {
    OS_AUTH_URL: c.authUrl,
    OS_USERNAME: c.username,
    OS_PASSWORD: c.password,
    OS_PROJECT_NAME: c.projectName,
    OS_USER_DOMAIN_NAME: c.userDomainName,
    OS_PROJECT_DOMAIN_NAME: c.projectDomainName,
    OS_REGION_NAME: c.regionName,
  };
});
after(async () => {
  await cloud?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const root = new URL('../..', import.meta.url).pathname;

/** nubo from the sources with its standard input on /dev/null: image create reads any other. */
function nubo(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const child = spawn(process.execPath, [...nuboArgv, ...args], {
    cwd: root,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

const ok = async (...args: string[]) => {
  const r = await nubo(admin, ...args);
  assert.equal(r.code, 0, `nubo ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const fails = async (...args: string[]) => {
  const r = await nubo(admin, ...args);
  assert.equal(r.code, 1, `nubo ${args.join(' ')} should have failed: ${r.stdout}`);
  return r.stderr;
};

test('image create --import, as openstack does it: staged, imported, shown the same way', async () => {
  const file = join(work, 'x.qcow2');
  const mine = await json('image', 'create', 'by-nubo', '--import', '--file', file, '--disk-format', 'qcow2');
  const theirs = JSON.parse(
    (await openstack(admin, 'image', 'create', 'by-openstack', '--import', '--file', file, '--disk-format', 'qcow2', '-f', 'json')).stdout,
  );
  assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort());
  for (const id of [mine.id, theirs.id]) await eventually(async () => assert.equal((await json('image', 'show', id)).status, 'active'), 20_000);
  const a = await json('image', 'show', mine.id);
  assert.equal(a.checksum, createHash('md5').update(readFileSync(file)).digest('hex'));
  assert.equal(a.checksum, (await json('image', 'show', theirs.id)).checksum);
  const same = await openstack(admin, 'image', 'show', mine.id, '-f', 'json');
  assert.deepEqual(JSON.parse(same.stdout), a);
});

test('image stage, then image import --wait; copy-image and web-download as the cloud offers them', async () => {
  // Made without data: nubo, as openstack, would upload whatever its standard input holds.
  const made = await cloud.request('POST', '/image/v2/images', {
    token: await cloud.adminToken(),
    body: { name: 'staged', disk_format: 'raw', container_format: 'bare' },
  });
  assert.equal(made.status, 201);
  assert.equal(await ok('image', 'stage', '--file', join(work, 'raw.img'), 'staged'), '');
  assert.equal((await json('image', 'show', 'staged')).status, 'uploading');
  const shown = await json('image', 'import', 'staged', '--method', 'glance-direct', '--wait');
  assert.equal(shown.status, 'uploading', 'the image as found before the import');
  assert.equal((await json('image', 'show', 'staged')).status, 'active');

  assert.match(await fails('image', 'import', 'staged'), /'glance-direct' import method can only be used with an image in status 'uploading'/);
  assert.match(await fails('image', 'import', 'staged', '--method', 'copy-image'), /'--stores' or '--all-stores' options are required/);
  await ok('image', 'import', 'staged', '--method', 'copy-image', '--all-stores', 'true');
  assert.match(await fails('image', 'import', 'staged', '--method', 'copy-image', '--store', 'default'), /already present at store 'default'/);
  assert.match(
    await fails('image', 'import', 'staged', '--method', 'web-download', '--uri', 'http://127.0.0.1:9/x'),
    /'web-download' import method is not supported by this deployment. Supported: glance-direct, copy-image/,
  );
});

test('image metadef namespace list, show, create, set and delete', async () => {
  const listed = await json('image', 'metadef', 'namespace', 'list', '--resource-types', 'OS::Nova::Flavor');
  assert.deepEqual(
    listed.map((r: any) => Object.keys(r)),
    [['namespace'], ['namespace']],
  );
  assert.deepEqual(listed.map((r: any) => r.namespace).sort(), ['OS::Compute::CPUTopology', 'OS::Compute::Watchdog']);
  const table = await ok('image', 'metadef', 'namespace', 'list');
  assert.match(table, /^\+-+\+\n\| namespace +\|\n/);

  const os = await json('image', 'metadef', 'namespace', 'show', 'OS::OperatingSystem');
  assert.deepEqual(Object.keys(os), [
    'created_at',
    'description',
    'display_name',
    'namespace',
    'owner',
    'properties',
    'protected',
    'resource_type_associations',
    'schema',
    'updated_at',
    'visibility',
  ]);
  assert.ok(os.properties.includes('os_distro'));
  assert.deepEqual(os.resource_type_associations, ['OS::Cinder::Volume', 'OS::Glance::Image']);

  const made = await json('image', 'metadef', 'namespace', 'create', 'Nubo::CLI', '--display-name', 'CLI test', '--public', '--protected');
  assert.deepEqual([made.namespace, made.display_name, made.visibility, made.protected], ['Nubo::CLI', 'CLI test', 'public', true]);
  assert.match(
    await fails('image', 'metadef', 'namespace', 'delete', 'Nubo::CLI'),
    /namespace Nubo::CLI is protected[^\n]*\nnubo: 1 of 1 namespace failed to delete\./,
  );
  assert.equal(await ok('image', 'metadef', 'namespace', 'set', 'Nubo::CLI', '--unprotected', '--description', 'now deletable'), '');
  assert.equal((await json('image', 'metadef', 'namespace', 'show', 'Nubo::CLI')).description, 'now deletable');
  await ok('image', 'metadef', 'namespace', 'delete', 'Nubo::CLI');
  assert.match(await fails('image', 'metadef', 'namespace', 'show', 'Nubo::CLI'), /Metadata definition namespace=Nubo::CLI was not found/);
});
