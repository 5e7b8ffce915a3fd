import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { consoleUntil } from '../helpers/console.ts';

// os-interface on a real guest, with the openstack CLI: a port of a second network is hot-plugged
// into the running test guest (a virtio-net device on the tap the network agent wired) and the
// guest sees a new link with the port's MAC, then it is unplugged and the link goes; a NIC added
// by network is made for the server and deleted at its detach, a port the user made is kept.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let cloud: SpawnedNubo;
let work: string;
let pem: string;
let fip: string;

const cli = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const ssh = (command: string) =>
  inNs(
    host.name,
    ...['ssh', '-i', pem, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes'],
    ...['-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${fip}`, command],
  ).then((r) => r.stdout.trim());
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => eventually(what, () => check().catch(() => false), timeoutMs);
/** The MACs of the guest's links, as `ip -o link` shows them. */
const guestMacs = async () => [...(await ssh('ip -o link')).matchAll(/link\/ether ([0-9a-f:]{17})/g)].map((m) => m[1]!);

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  host = await hostNamespace('i');
  work = tempDir('nubo-ifaces-');
  cloud = await spawnNubo({ dataDir: join(work, 'data'), env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
  await cli('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  pem = join(work, 'key.pem');
  writeFileSync(pem, await cli('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await seedNetworks(cli);
  await cli('network', 'create', 'second-net');
  await cli('subnet', 'create', '--network', 'second-net', '--subnet-range', '10.20.0.0/24', 'second-subnet');
  await cli('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default');
  await cli('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--key-name', 'mykey', 'vm');
  await consoleUntil(cli, 'vm', /nubo-guest ready: .*keys=1/, 300_000);
  fip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address;
  await cli('server', 'add', 'floating', 'ip', 'vm', fip);
  await until('ssh into the guest', async () => (await ssh('hostname')) === 'vm', 90_000);
});

after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('server add port / remove port: the running guest sees a link with the port’s MAC appear, then go; the port is kept', async () => {
  const port = await json('port', 'create', '--network', 'second-net', 'p2');
  const mac = (port.mac_address as string).toLowerCase();
  const before = await guestMacs();
  assert.equal(before.length, 1, `one NIC at boot: ${before}`);
  assert.ok(!before.includes(mac));

  await cli('server', 'add', 'port', 'vm', 'p2');
  await until('the guest sees the new NIC', async () => (await guestMacs()).includes(mac), 60_000);
  assert.equal((await guestMacs()).length, 2);
  const server = await json('server', 'show', 'vm');
  assert.ok(server.addresses['second-net'], `addresses show the second network: ${JSON.stringify(server.addresses)}`);
  await until('the port is ACTIVE', async () => (await json('port', 'show', 'p2')).status === 'ACTIVE', 30_000);
  assert.equal((await json('port', 'show', 'p2')).device_id, server.id);

  await cli('server', 'remove', 'port', 'vm', 'p2');
  await until('the NIC leaves the guest', async () => !(await guestMacs()).includes(mac), 60_000);
  assert.deepEqual(await guestMacs(), before);
  assert.equal((await json('server', 'show', 'vm')).addresses['second-net'], undefined);
  const kept = await json('port', 'show', 'p2');
  assert.equal(kept.device_id, '', 'a port the user gave is unbound, not deleted');
});

test('server add network / remove port: a port made for the server is hot-plugged, and deleted at its detach', async () => {
  const before = await guestMacs();
  await cli('server', 'add', 'network', 'vm', 'second-net');
  const made = (await json('port', 'list', '--server', 'vm', '--network', 'second-net')) as { ID: string; 'MAC Address': string }[];
  assert.equal(made.length, 1);
  const mac = made[0]!['MAC Address'].toLowerCase();
  await until('the guest sees the NIC made for it', async () => (await guestMacs()).includes(mac), 60_000);
  await cli('server', 'remove', 'port', 'vm', made[0]!.ID);
  await until('the NIC leaves the guest', async () => !(await guestMacs()).includes(mac), 60_000);
  assert.deepEqual(await guestMacs(), before);
  assert.deepEqual(await json('port', 'list', '--server', 'vm', '--network', 'second-net'), []);
});
