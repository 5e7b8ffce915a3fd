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
