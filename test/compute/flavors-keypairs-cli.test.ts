import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnNubo, tempDir, type SpawnedNubo, cliAs, cliFails } from '../helpers/cloud.ts';

// Flavors, key pairs and quotas with the real openstack CLI against `nubo up`.
const run = promisify(execFile);
let nubo: SpawnedNubo;
let work: string;
let demo: Record<string, string>;
before(async () => {
  nubo = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  work = tempDir('nubo-compute-cli-');
  await ok('project', 'create', 'demo');
  await ok('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
  await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
  demo = { ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' };
});
after(async () => {
  await nubo?.stop();
  rmSync(work, { recursive: true, force: true });
});

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const asDemo = cliAs(() => demo);

test('flavor create, list, show, private access, extra specs and delete', async () => {
  const small = await json('flavor', 'create', '--id', '1', '--ram', '2048', '--disk', '20', '--vcpus', '2', 'm1.small');
  assert.deepEqual(
    { id: small.id, name: small.name, ram: small.ram, disk: small.disk, vcpus: small.vcpus, public: small['os-flavor-access:is_public'] },
    { id: '1', name: 'm1.small', ram: 2048, disk: 20, vcpus: 2, public: true },
  );
  const tiny = await json('flavor', 'create', '--ram', '128', '--disk', '1', '--vcpus', '1', '--ephemeral', '0', 'm1.tiny');
  assert.match(tiny.id, /^[0-9a-f-]{36}$/);

  const list = await json('flavor', 'list');
  assert.deepEqual(list.map((f: any) => [f.Name, f.RAM, f.Disk, f.VCPUs, f['Is Public']]).sort(), [
    ['m1.small', 2048, 20, 2, true],
    ['m1.tiny', 128, 1, 1, true],
  ]);

  // A private flavor: invisible to demo until its project is given access.
  const secret = await json('flavor', 'create', '--private', '--ram', '256', '--disk', '1', '--vcpus', '1', '--property', 'hw:cpu_policy=shared', 'secret');
  assert.equal(secret['os-flavor-access:is_public'], false);
  assert.match(await cliFails(demo, 'flavor', 'show', 'secret'), /No Flavor found|could not be found/i);
  await ok('flavor', 'set', '--project', 'demo', 'secret');
  const seen = JSON.parse(await asDemo('flavor', 'show', 'secret', '-f', 'json'));
  assert.equal(seen.id, secret.id);
  assert.deepEqual(seen.properties, { 'hw:cpu_policy': 'shared' });
  assert.ok(JSON.parse(await asDemo('flavor', 'list', '--all', '-f', 'json')).some((f: any) => f.Name === 'secret'));
  await ok('flavor', 'unset', '--project', 'demo', 'secret');
  await cliFails(demo, 'flavor', 'show', 'secret');

  await ok('flavor', 'set', '--property', 'hw:watchdog_action=reset', 'm1.tiny');
  assert.deepEqual((await json('flavor', 'show', 'm1.tiny')).properties, { 'hw:watchdog_action': 'reset' });
  await ok('flavor', 'unset', '--property', 'hw:watchdog_action', 'm1.tiny');
  assert.deepEqual((await json('flavor', 'show', 'm1.tiny')).properties, {});

  // Only the admin manages flavors; names and ids are unique.
  assert.match(await cliFails(demo, 'flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'mine'), /\b403\b/);
  assert.match(await cliFails(nubo.env, 'flavor', 'create', '--id', '1', '--ram', '64', '--disk', '1', '--vcpus', '1', 'other'), /\b409\b/);
  assert.match(await cliFails(nubo.env, 'flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'm1.small'), /\b409\b/);
  assert.match(await cliFails(nubo.env, 'flavor', 'create', '--ram', '0', '--disk', '1', '--vcpus', '1', 'zero'), /\b400\b/);

  await ok('flavor', 'delete', 'secret');
  await cliFails(nubo.env, 'flavor', 'show', 'secret');
});

test('keypair create gives a private key ssh reads; import, list, show, delete per user', async () => {
  const pem = join(work, 'mykey.pem');
  writeFileSync(pem, await ok('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  assert.match(readFileSync(pem, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
  const { stdout: derived } = await run('ssh-keygen', ['-y', '-f', pem]);
  const shown = await json('keypair', 'show', 'mykey');
  const publicKey = await ok('keypair', 'show', '--public-key', 'mykey');
  assert.equal(publicKey.split(' ').slice(0, 2).join(' '), derived.trim().split(' ').slice(0, 2).join(' '));
  const { stdout: md5 } = await run('ssh-keygen', ['-l', '-E', 'md5', '-f', pem]);
  assert.equal(`MD5:${shown.fingerprint}`, md5.split(' ')[1]);

  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'ed')]);
  const imported = await json('keypair', 'create', '--public-key', join(work, 'ed.pub'), 'edkey');
  assert.equal(imported.name, 'edkey');
  const { stdout: edFp } = await run('ssh-keygen', ['-l', '-E', 'md5', '-f', join(work, 'ed.pub')]);
  assert.equal(`MD5:${imported.fingerprint}`, edFp.split(' ')[1]);

  assert.deepEqual(
    (await json('keypair', 'list')).map((k: any) => k.Name),
    ['edkey', 'mykey'],
  );
  // Key pairs are per user: demo sees none of the admin's, and may have its own of the same name.
  assert.deepEqual(JSON.parse(await asDemo('keypair', 'list', '-f', 'json')), []);
  await asDemo('keypair', 'create', '--public-key', join(work, 'ed.pub'), 'mykey');
  assert.match(await cliFails(nubo.env, 'keypair', 'create', '--public-key', join(work, 'ed.pub'), 'mykey'), /\b409\b/);

  writeFileSync(join(work, 'bad.pub'), 'ssh-rsa AAAAnotakey comment\n');
  assert.match(await cliFails(nubo.env, 'keypair', 'create', '--public-key', join(work, 'bad.pub'), 'bad'), /\b400\b/);

  await ok('keypair', 'delete', 'edkey');
  assert.match(await cliFails(nubo.env, 'keypair', 'show', 'edkey'), /\b404\b|could not be found|No keypair/i);
});

test('quota set, quota list --compute, and limits', async () => {
  const demoId = (await json('project', 'show', 'demo')).id;
  await ok('quota', 'set', '--instances', '3', '--cores', '5', '--ram', '4096', '--key-pairs', '7', demoId);
  // `quota show` also asks the network and volume services for theirs; the compute part alone:
  const detail = await json('quota', 'list', '--compute', '--detail', '--project', 'demo');
  const limit = Object.fromEntries(detail.map((r: any) => [r.Resource, r.Limit]));
  assert.equal(limit.instances, 3);
  assert.equal(limit.cores, 5);
  assert.equal(limit.ram, 4096);
  assert.equal(limit.key_pairs, 7);
  const changed = await json('quota', 'list', '--compute');
  assert.deepEqual(
    changed.map((r: any) => [r['Project ID'], r.Instances, r.Cores, r.Ram]),
    [[demoId, 3, 5, 4096]],
  );

  const limits = JSON.parse(await asDemo('limits', 'show', '--absolute', '-f', 'json'));
  const byName = Object.fromEntries(limits.map((l: any) => [l.Name, l.Value]));
  assert.equal(byName.maxTotalInstances, 3);
  assert.equal(byName.maxTotalCores, 5);
  assert.equal(byName.maxTotalRAMSize, 4096);
  assert.equal(byName.maxTotalKeypairs, 7);
  assert.equal(byName.totalInstancesUsed, 0);
  assert.match(await cliFails(demo, 'quota', 'set', '--instances', '100', demoId), /\b403\b/);
});
