import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliAs, openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';

// kill -9 of Nubo in the middle of a stack's create, then of its delete, each followed by a
// restart on the same data directory (fake virt driver): the stack and its nested stack end
// FAILED with the reason, never IN_PROGRESS, and a delete then removes every server and network
// they made.
let cloud: SpawnedNubo | undefined;
const work = tempDir('nubo-heat-crash-');
const dataDir = tempDir('nubo-heat-crash-data-');
const cli = cliAs(() => cloud!.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const start = () => spawnNubo({ dataDir, port: cloud ? Number(new URL(cloud.url).port) : undefined, env: { NUBO_COMPUTE_DRIVER: 'fake' } });

after(async () => {
  await cloud?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function killAndRestart(): Promise<void> {
  await cloud!.stop('SIGKILL');
  cloud = await start();
}

/** Every stack, nested ones included, with its status: none may be left in progress. */
async function statuses(): Promise<Record<string, string>> {
  const stacks = await json('stack', 'list', '--nested');
  return Object.fromEntries(stacks.map((s: any) => [s['Stack Name'], s['Stack Status']]));
}

/** Waits until the check holds, polling the cloud. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`${what} did not happen`);
}

test('a stack whose create and then delete kill -9 cut ends FAILED, and its delete leaves nothing', async () => {
  cloud = await start();
  await cli('flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'm1.tiny');
  writeFileSync(join(work, 'disk.raw'), Buffer.alloc(1 << 20));
  await cli('image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', join(work, 'disk.raw'), 'tiny');
  writeFileSync(
    join(work, 'farm.yaml'),
    `heat_template_version: 2021-04-16
resources:
  net: { type: OS::Neutron::Net }
  sub:
    type: OS::Neutron::Subnet
    properties: { network: { get_resource: net }, cidr: 10.70.0.0/24 }
  farm:
    type: OS::Heat::ResourceGroup
    depends_on: sub
    properties:
      count: 12
      resource_def:
        type: OS::Nova::Server
        properties: { name: farm-%index%, image: tiny, flavor: m1.tiny, networks: [{ network: { get_resource: net } }] }
`,
  );
  await cli('stack', 'create', '-t', join(work, 'farm.yaml'), 'farm');
  // Cut once some of the group's servers exist and before all of them do.
  await until('two servers', async () => (await json('server', 'list')).length >= 2);
  await killAndRestart();

  const cut = await statuses();
  assert.equal(cut.farm, 'CREATE_FAILED', JSON.stringify(cut));
  assert.ok(
    Object.values(cut).every((s) => !s.endsWith('IN_PROGRESS')),
    JSON.stringify(cut),
  );
  assert.equal(Object.keys(cut).length, 2, JSON.stringify(cut));
  assert.match((await json('stack', 'show', 'farm')).stack_status_reason, /Engine went down during stack CREATE/);
  const made = (await json('server', 'list')).length;
  assert.ok(made >= 2 && made < 12, `${made} servers`);
  const group = (await json('stack', 'resource', 'show', 'farm', 'farm')).physical_resource_id;
  assert.ok(group, 'the group was recorded before its nested stack was made');

  // The delete, cut in its turn once it has begun removing servers.
  await cli('stack', 'delete', '--yes', 'farm');
  await until('a server gone', async () => (await json('server', 'list')).length < made);
  await killAndRestart();
  const cutDelete = await statuses();
  assert.ok(
    Object.values(cutDelete).every((s) => !s.endsWith('IN_PROGRESS')),
    JSON.stringify(cutDelete),
  );
  assert.equal(cutDelete.farm, 'DELETE_FAILED', JSON.stringify(cutDelete));

  // Deleted again: nothing of the stack is left in any service.
  const again = await openstack(cloud!.env, 'stack', 'delete', '--yes', '--wait', 'farm');
  const left = again.code === 0 ? undefined : [await json('server', 'list'), await json('port', 'list', '--long')];
  assert.equal(again.code, 0, `${again.stderr} ${JSON.stringify(left)}`);
  assert.deepEqual(await statuses(), {});
  assert.deepEqual(await json('server', 'list'), []);
  const nets = (await json('network', 'list')).map((n: any) => n.Name);
  assert.deepEqual(nets, []);
});
