import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, tempDir } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';

// Real test guests across hosts: scripts/multihost/up.sh with the qemu driver, a controller on
// PostgreSQL and three `nubo agent` hosts (host1 the network host, with the router). Two guests
// of an anti-affinity group land on two hosts, on one vxlan network: each pings the other across
// the tunnel, and the machine reaches each over ssh through its floating IP, routed on host1.

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
let dir: string;
let cloud: Record<string, string>;
let env: Record<string, string>;
let guestImage: string;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  guestImage = stdout.trim().split('\n').at(-1)!;
  dir = tempDir('nubo-mg-');
  await run(join(root, 'scripts/multihost/up.sh'), [dir, '3'], {
    env: { ...process.env, NUBO_COMPUTE_DRIVER: 'qemu', NUBO_REPORT_INTERVAL: '2', NUBO_VNI_RANGES: '200:209' },
    timeout: 240_000,
  });
  cloud = Object.fromEntries([...readFileSync(join(dir, 'cloud.env'), 'utf8').matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  env = Object.fromEntries([...readFileSync(join(dir, 'openrc'), 'utf8').matchAll(/^export (\w+)=['"]?([^'"\n]*)['"]?$/gm)].map((m) => [m[1]!, m[2]!]));
});

after(async () => {
  if (dir) await run(join(root, 'scripts/multihost/down.sh'), [dir], { timeout: 120_000 });
});

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('two real guests on two hosts ping each other over VXLAN, and the machine reaches each over ssh through its floating IP', async () => {
  await ok('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  const pem = join(dir, 'key.pem');
  writeFileSync(pem, await ok('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  const net = await json('network', 'create', 'tnet');
  assert.equal(net['provider:network_type'], 'vxlan');
  await ok('subnet', 'create', '--network', 'tnet', '--subnet-range', '192.168.88.0/24', 'tsub');
  const ext = cloud.EXT!.replace(/\.1\/24$/, '');
  await ok('network', 'create', '--external', '--provider-network-type', 'flat', '--provider-physical-network', 'physnet1', 'ext');
  await ok('subnet', 'create', '--network', 'ext', '--subnet-range', `${ext}.0/24`, '--gateway', `${ext}.1`, '--no-dhcp', '--allocation-pool', `start=${ext}.10,end=${ext}.99`, 'ext-sub');
  await ok('router', 'create', 'r1');
  await ok('router', 'set', '--external-gateway', 'ext', 'r1');
  await ok('router', 'add', 'subnet', 'r1', 'tsub');
  for (const rule of [['--proto', 'tcp', '--dst-port', '22'], ['--proto', 'icmp']]) await ok('security', 'group', 'rule', 'create', ...rule, 'default');
  const group = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'apart');

  // Both boot at once: config drive for their keys, DHCP from host1 across the tunnel.
  for (const name of ['ga', 'gb'])
    await ok(
      ...['server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'tnet', '--key-name', 'mykey'],
      ...['--config-drive', 'True', '--hint', `group=${group.id}`, name],
    );
  const guests: Record<string, { host: string; ip: string; fip: string }> = {};
  for (const name of ['ga', 'gb']) {
    await eventually(`${name} ACTIVE`, async () => (await json('server', 'show', name)).status === 'ACTIVE', 180_000);
    const shown = await json('server', 'show', name);
    const fip = (await json('floating', 'ip', 'create', 'ext')).floating_ip_address as string;
    await ok('server', 'add', 'floating', 'ip', name, fip);
    guests[name] = { host: shown['OS-EXT-SRV-ATTR:host'], ip: shown.addresses.tnet[0], fip };
  }
  assert.notEqual(guests.ga!.host, guests.gb!.host, `two hosts: ${JSON.stringify(guests)}`);

  const ssh = (name: string, command: string) =>
    run('ssh', ['-i', pem, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${guests[name]!.fip}`, command], {
      timeout: 30_000,
    }).then((r) => r.stdout.trim());
  for (const name of ['ga', 'gb']) await eventually(`ssh into ${name}`, async () => (await ssh(name, 'hostname').catch(() => '')) === name, 300_000);
  assert.match(await ssh('ga', `ping -c 3 -W 2 ${guests.gb!.ip} >/dev/null && echo reached`), /reached/);
  assert.match(await ssh('gb', `ping -c 3 -W 2 ${guests.ga!.ip} >/dev/null && echo reached`), /reached/);
  await ok('server', 'delete', '--wait', 'ga', 'gb');
});
