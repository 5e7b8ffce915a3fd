import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv, nubo, openstack, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';

// nubo's server actions (suspend, resume, shelve, unshelve, lock, unlock, rescue, unrescue) and
// server event list/show, judged by the real openstack CLI against one cloud with the fake hypervisor.

let cloud: TestCloud;
let admin: Record<string, string>;
let work: string;

before(async () => {
  cloud = await startTestCloud({ computeDriver: 'fake' });
  admin = { ...adminEnv(cloud.url, cloud.cloud.credentials!.password), OS_COMPUTE_API_VERSION: '2.1' };
  work = tempDir('nubo-cli-actions-');
});
after(async () => {
  await cloud?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const run = async (cli: typeof openstack, ...args: string[]) => {
  const r = await cli(admin, ...args);
  assert.equal(r.code, 0, `${cli.name} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};

async function same(...args: string[]) {
  const [mine, theirs] = await Promise.all([run(nubo, ...args), run(openstack, ...args)]);
  assert.equal(mine, theirs, `nubo ${args.join(' ')}`);
  return mine;
}

/** Polls until the server's status is `status` with no task under way. */
async function settled(server: string, status: string) {
  let last = '';
  for (let i = 0; i < 150; i++) {
    last = await run(nubo, 'server', 'show', server, '-f', 'value', '-c', 'status', '-c', 'OS-EXT-STS:task_state');
    if (last === `None\n${status}\n`) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${server} did not settle in ${status}: ${last}`);
}

test('suspend, resume, shelve, unshelve, lock, unlock, rescue and unrescue act as openstack does, and server event list/show print the same', async () => {
  const raw = join(work, 'zero.raw');
  writeFileSync(raw, Buffer.alloc(16 * 1024));
  await run(openstack, 'image', 'create', '--disk-format', 'raw', '--file', raw, '--public', 'img');
  await run(nubo, 'flavor', 'create', '--ram', '128', '--disk', '1', 'small');
  for (const name of ['mine', 'theirs']) await run(nubo, 'server', 'create', '--image', 'img', '--flavor', 'small', '--nic', 'none', '--wait', name);

  // Each CLI acts on its own server; both go through the same states.
  const steps: [string[], string][] = [
    [['suspend'], 'SUSPENDED'],
    [['resume'], 'ACTIVE'],
    [['shelve'], 'SHELVED_OFFLOADED'],
    [['unshelve'], 'ACTIVE'],
    [['rescue', '--image', 'img'], 'RESCUE'],
    [['unrescue'], 'ACTIVE'],
  ];
  for (const [[verb, ...opts], status] of steps) {
    for (const [cli, name] of [
      [nubo, 'mine'],
      [openstack, 'theirs'],
    ] as const) {
      assert.equal(await run(cli, 'server', verb!, ...opts, name), '');
      await settled(name, status);
    }
  }
  for (const [cli, name] of [
    [nubo, 'mine'],
    [openstack, 'theirs'],
  ] as const)
    await run(cli, 'server', 'lock', name);
  // `locked` shows from 2.9 on.
  const locked = async (name: string) => {
    const r = await openstack({ ...admin, OS_COMPUTE_API_VERSION: '2.9' }, 'server', 'show', name, '-f', 'value', '-c', 'locked');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  assert.deepEqual([await locked('mine'), await locked('theirs')], ['True\n', 'True\n']);
  const reason = await nubo(admin, 'server', 'lock', '--reason', 'x', 'mine');
  assert.equal(reason.stderr, 'nubo: --os-compute-api-version 2.73 or greater is required to use the --reason option.\n');
  for (const [cli, name] of [
    [nubo, 'mine'],
    [openstack, 'theirs'],
  ] as const)
    await run(cli, 'server', 'unlock', name);
  assert.deepEqual([await locked('mine'), await locked('theirs')], ['False\n', 'False\n']);

  // Both servers recorded the same actions, which both CLIs print alike.
  const actions = (name: string) => run(nubo, 'server', 'event', 'list', name, '-f', 'value', '-c', 'Action');
  assert.equal(await actions('mine'), await actions('theirs'));
  assert.equal(await actions('mine'), ['unlock', 'lock', 'unrescue', 'rescue', 'unshelve', 'shelve', 'resume', 'suspend', 'create', ''].join('\n'));
  await same('server', 'event', 'list', 'mine');
  await same('server', 'event', 'list', '--long', 'theirs', '-f', 'json');
  const [first] = JSON.parse(await run(nubo, 'server', 'event', 'list', 'mine', '-f', 'json'));
  await same('server', 'event', 'show', 'mine', first['Request ID']);
  await same('server', 'event', 'show', 'mine', first['Request ID'], '-f', 'yaml');

  // Usage grows while the servers run: the projects and their server counts must match.
  assert.match(await same('usage', 'list', '-c', 'Project', '-c', 'Servers'), /\| admin +\| 2 +\|/);
  const table = await run(nubo, 'usage', 'list');
  assert.match(table, /^Usage from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: \n\+-+\+/);
  await same('usage', 'list', '--start', '2020-01-01', '--end', '2020-01-02', '-f', 'json');
});

test('nubo negotiates the highest microversion both sides implement, once per endpoint, and prints what openstack prints there; rebuild, backup create and usage show', async () => {
  const { COMPUTE_MAX } = await import('../../src/client/microversion.ts');
  // No version asked: nubo negotiates; openstack is told the version nubo must have reached.
  const { OS_COMPUTE_API_VERSION: _, ...base } = admin;
  const auto = { ...base, XDG_CACHE_HOME: join(work, 'cache') };
  const pinned = { ...base, OS_COMPUTE_API_VERSION: COMPUTE_MAX };
  const versionDocument = /REQ: GET \S+\/compute\/v2\.1\/\n/;
  const first = await nubo(auto, '--debug', 'keypair', 'list');
  assert.match(first.stderr, versionDocument);
  const second = await nubo(auto, '--debug', 'keypair', 'list');
  assert.doesNotMatch(second.stderr, versionDocument, 'the range is kept between commands');
  const sameAt = async (...args: string[]) => {
    const [mine, theirs] = await Promise.all([nubo(auto, ...args), openstack(pinned, ...args)]);
    assert.equal(theirs.code, 0, `openstack ${args.join(' ')} failed: ${theirs.stderr}`);
    assert.equal(mine.stdout, theirs.stdout, `nubo ${args.join(' ')} at ${COMPUTE_MAX}`);
    return mine.stdout;
  };
  writeFileSync(join(work, 'key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII4qa34AVtuh11v/QQa1VJBgK79rlOCYbpuGpa6FK2c6 me@example\n');
  await run(nubo, 'keypair', 'create', '--public-key', join(work, 'key.pub'), 'kp');
  assert.match(await sameAt('keypair', 'list'), /\| Type +\|/);
  assert.equal((await nubo(auto, 'server', 'lock', '--reason', 'maintenance', 'mine')).code, 0);
  const group = ['server', 'group', 'create', '--policy', 'anti-affinity', '--rule', 'max_server_per_host=2', '-c', 'policy', '-c', 'rules'];
  const [g1, g2] = await Promise.all([nubo(auto, ...group, 'spread'), openstack(pinned, ...group, 'spread-too')]);
  assert.equal(g1.stdout, g2.stdout);
  assert.match(g1.stdout, /max_server_per_host='2'/);
  // 2.47's embedded flavor, 2.73's lock reason, 2.71's server groups, 2.26's tags, 2.19's description.
  assert.match(await sameAt('server', 'show', 'mine'), /locked_reason +\| maintenance/);
  await sameAt('server', 'show', 'mine', '-f', 'json');
  await sameAt('server', 'list', '--long');
  await sameAt('server', 'list');
  await sameAt('server', 'group', 'list', '--long');
  await sameAt('server', 'group', 'show', 'spread');
  assert.equal((await nubo(auto, 'server', 'unlock', 'mine')).code, 0);
  // Hypervisors lost their usage fields and statistics at 2.88.
  await sameAt('hypervisor', 'list', '--long');
  const host = (await run(nubo, 'hypervisor', 'list', '-f', 'value', '-c', 'Hypervisor Hostname')).trim();
  await sameAt('hypervisor', 'show', host, '-c', 'id', '-c', 'hypervisor_hostname', '-c', 'service_host', '-c', 'state', '-c', 'status');
  assert.match((await nubo(auto, 'hypervisor', 'stats', 'show')).stderr, /The 'statistics' API is removed in API version 2.88 or later./);

  // Rebuild: each CLI rebuilds its own server the same way; the answers differ only in the server.
  const userData = join(work, 'user-data');
  writeFileSync(userData, '#!/bin/sh\necho rebuilt\n');
  const rebuild = ['--image', 'img', '--property', 'role=web', '--description', 'rebuilt', '--user-data', userData, '--wait', '-f', 'json'];
  const ownOnly = ['id', 'name', 'OS-EXT-SRV-ATTR:hostname', 'OS-EXT-SRV-ATTR:instance_name', 'OS-SRV-USG:launched_at', 'created', 'updated', 'hostId', 'adminPass'];
  const drop = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  const parse = (out: string) => JSON.parse(out.slice(out.indexOf('{')));
  const [mine, theirs] = await Promise.all([nubo(auto, 'server', 'rebuild', ...rebuild, 'mine'), openstack(pinned, 'server', 'rebuild', ...rebuild, 'theirs')]);
  assert.equal(mine.code, 0, mine.stderr);
  assert.equal(theirs.code, 0, theirs.stderr);
  assert.match(mine.stdout, /Complete\n\{/);
  assert.deepEqual(drop(parse(mine.stdout), ownOnly), drop(parse(theirs.stdout), ownOnly));
  assert.equal(parse(mine.stdout).description, 'rebuilt');
  await settled('mine', 'ACTIVE');
  const tooOld = await nubo(admin, 'server', 'rebuild', '--description', 'x', 'mine');
  assert.equal(tooOld.stderr, 'nubo: --os-compute-api-version 2.19 or greater is required to support the --description option\n');

  // Backups: the image openstack prints, but for what names the server and the image.
  const backup = ['--type', 'daily', '--rotate', '2', '-f', 'json'];
  // The status is the snapshot's at that instant: queued or already saving.
  const imageOnly = ['id', 'name', 'file', 'created_at', 'updated_at', 'properties', 'status'];
  const [b1, b2] = await Promise.all([
    run(nubo, 'server', 'backup', 'create', '--name', 'mine-daily', ...backup, 'mine'),
    run(openstack, 'server', 'backup', 'create', '--name', 'theirs-daily', ...backup, 'theirs'),
  ]);
  assert.deepEqual(drop(JSON.parse(b1), imageOnly), drop(JSON.parse(b2), imageOnly));
  assert.equal(JSON.parse(b1).properties.backup_type, 'daily');
  assert.match(JSON.parse(b1).status, /^(queued|saving|active)$/);

  // Usage of a closed period is fixed: both print the same table, and a period without use too.
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  assert.match(await same('usage', 'show', '--start', today, '--end', tomorrow), /\| Servers +\| 2 +\|/);
  await same('usage', 'show', '--project', 'admin', '--start', '2020-01-01', '--end', '2020-01-02');
});

test('server resize --wait, resize confirm and revert, and the deprecated --confirm/--revert act as openstack does', async () => {
  // The same disk: a resize may not shrink it, and the test goes back and forth.
  await run(nubo, 'flavor', 'create', '--ram', '256', '--disk', '1', 'big');
  const flavor = async (name: string) => (await run(nubo, 'server', 'show', name, '-f', 'value', '-c', 'flavor')).split(' ')[0];
  const both = [
    [nubo, 'mine'],
    [openstack, 'theirs'],
  ] as const;
  for (const [cli, name] of both) {
    await run(cli, 'server', 'resize', '--flavor', 'big', '--wait', name);
    await settled(name, 'VERIFY_RESIZE');
  }
  for (const [cli, name] of both) {
    assert.equal(await run(cli, 'server', 'resize', 'confirm', name), '');
    await settled(name, 'ACTIVE');
    assert.equal(await flavor(name), 'big');
  }
  for (const [cli, name] of both) {
    await run(cli, 'server', 'resize', '--flavor', 'small', name);
    await settled(name, 'VERIFY_RESIZE');
    assert.equal(await run(cli, 'server', 'resize', 'revert', name), '');
    await settled(name, 'ACTIVE');
    assert.equal(await flavor(name), 'big');
  }
  // The old options still work, with openstack's warning.
  const warned: string[] = [];
  for (const [cli, name] of both) {
    await run(cli, 'server', 'resize', '--flavor', 'small', name);
    await settled(name, 'VERIFY_RESIZE');
    const r = await cli(admin, 'server', 'resize', '--confirm', name);
    assert.equal(r.code, 0, r.stderr);
    warned.push(r.stderr);
    await settled(name, 'ACTIVE');
    assert.equal(await flavor(name), 'small');
  }
  assert.equal(warned[0], warned[1]);
  assert.match(warned[0]!, /The --confirm option has been deprecated/);
});

test('server migrate, migrate --live-migration and evacuate reach Nova’s actions as openstack sends them: on a cloud of one host, each is refused as openstack shows it', async () => {
  const refusal = async (cli: typeof openstack, ...args: string[]) => {
    const r = await cli({ ...admin, OS_COMPUTE_API_VERSION: '2.30' }, ...args);
    assert.notEqual(r.code, 0, `${cli.name} ${args.join(' ')} should have failed`);
    return r.stderr.replace(/ \(Request-ID: [\w-]+\)/, '').replace(/^(nubo|openstack): /, '').trim();
  };
  for (const args of [
    ['server', 'migrate', 'mine'],
    ['server', 'migrate', '--live-migration', 'mine'],
    ['server', 'migrate', '--live-migration', '--host', 'nowhere', 'mine'],
  ]) {
    const [mine, theirs] = await Promise.all([refusal(nubo, ...args), refusal(openstack, ...args)]);
    assert.equal(mine, theirs, args.join(' '));
    assert.match(mine, /No valid host was found|Compute host nowhere could not be found/);
  }
  // Evacuate: the host's service is up, which openstack 6.0 cannot show (it fails reading the answer).
  assert.match(await refusal(nubo, 'server', 'evacuate', 'mine'), /Compute service of .* is still in use\. \(HTTP 400\)/);
  const [mine] = JSON.parse(await run(nubo, 'server', 'list', '--name', '^mine$', '-f', 'json'));
  assert.equal(mine.Status, 'ACTIVE');
});
