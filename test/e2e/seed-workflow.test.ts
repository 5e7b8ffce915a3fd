import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';

// The seed workflow, for real, with the real openstack CLI: the test guest image, a key pair, a
// flavor, a private network behind a router to a flat external network, a server booted under
// QEMU on that network, a floating IP, and ssh into the guest through it from the "outside" (the
// namespace standing for the host, where br-ex has 172.24.4.1). Then stop/start, a snapshot, a
// second server from it that reaches the first over the private network, and delete of
// everything, after which nothing of the cloud's is left on the host.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let nubo: SpawnedNubo;
let work: string;
let guestImage: string;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  guestImage = stdout.trim().split('\n').at(-1)!;
  host = await hostNamespace('e');
  work = tempDir('nubo-e2e-');
  nubo = await spawnNubo({ env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
});
after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (nubo) await run('pkill', ['-9', '-f', nubo.dataDir]).catch(() => undefined);
  await nubo?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ok = async (...args: string[]) => {
  const r = await openstack(nubo.env, ...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

async function consoleUntil(name: string, pattern: RegExp, timeoutMs = 180_000): Promise<string> {
  let log = '';
  await eventually(`console of ${name} matches ${pattern}`, async () => pattern.test((log = await ok('console', 'log', 'show', name))), timeoutMs).catch(() =>
    assert.fail(`console of ${name} never matched ${pattern}:\n${log}`),
  );
  return log;
}

/** ssh from the outside (the host namespace) into a guest, running one command. */
const ssh = (pem: string, ip: string, command: string) =>
  inNs(
    host.name,
    'ssh',
    ...[
      '-i',
      pem,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=5',
      '-o',
      'LogLevel=ERROR',
    ],
    `root@${ip}`,
    command,
  ).then((r) => r.stdout.trim());

test('image → keypair → flavor → networks → router → server → floating IP → ssh; stop/start, snapshot, a second server, delete', async () => {
  await ok('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  const pem = join(work, 'mykey.pem');
  writeFileSync(pem, await ok('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await ok('network', 'create', 'private-net');
  await ok('subnet', 'create', '--network', 'private-net', '--subnet-range', '192.168.10.0/24', 'private-subnet');
  await ok('network', 'create', 'public-net', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  await ok(
    'subnet',
    'create',
    '--network',
    'public-net',
    '--subnet-range',
    '172.24.4.0/24',
    '--no-dhcp',
    '--gateway',
    '172.24.4.1',
    '--allocation-pool',
    'start=172.24.4.10,end=172.24.4.200',
    'public-subnet',
  );
  await ok('router', 'create', 'myrouter');
  await ok('router', 'set', 'myrouter', '--external-gateway', 'public-net');
  await ok('router', 'add', 'subnet', 'myrouter', 'private-subnet');
  const net = await json('network', 'show', 'private-net');

  const server = await json(
    'server',
    'create',
    '--flavor',
    'm1.nano',
    '--image',
    'nubo-guest',
    '--nic',
    `net-id=${net.id}`,
    '--security-group',
    'default',
    '--key-name',
    'mykey',
    '--wait',
    'vm-demo',
  );
  assert.equal(server.status, 'ACTIVE');
  // DHCP and the metadata service, over the network this time (no config drive).
  const ready = await consoleUntil('vm-demo', /nubo-guest ready: .*/);
  assert.match(ready, /nubo-guest ready: hostname=vm-demo ip=192\.168\.10\.\d+ keys=1 source=metadata/);
  const fixedIp = /ip=(\S+)/.exec(ready.match(/nubo-guest ready: .*/)![0])![1]!;

  await ok('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default');
  await ok('security', 'group', 'rule', 'create', '--proto', 'icmp', 'default');
  const fip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address as string;
  await ok('server', 'add', 'floating', 'ip', 'vm-demo', fip);
  const shown = await json('server', 'show', 'vm-demo');
  assert.match(JSON.stringify(shown.addresses), new RegExp(fip.replaceAll('.', '\\.')));

  let answer = '';
  await eventually('ssh through the floating IP', async () => (answer = await ssh(pem, fip, 'hostname').catch(() => '')) !== '', 60_000);
  assert.equal(answer, 'vm-demo');

  await ok('server', 'stop', 'vm-demo');
  await eventually('SHUTOFF', async () => (await json('server', 'show', 'vm-demo')).status === 'SHUTOFF', 120_000);
  await ok('server', 'start', 'vm-demo');
  await eventually('ACTIVE again', async () => (await json('server', 'show', 'vm-demo')).status === 'ACTIVE', 120_000);
  await eventually('ssh after the restart', async () => (await ssh(pem, fip, 'hostname').catch(() => '')) === 'vm-demo', 120_000);

  await ok('server', 'image', 'create', '--name', 'vm-demo-snap', '--wait', 'vm-demo');
  const second = await json(
    'server',
    'create',
    '--flavor',
    'm1.nano',
    '--image',
    'vm-demo-snap',
    '--nic',
    `net-id=${net.id}`,
    '--key-name',
    'mykey',
    '--wait',
    'vm-two',
  );
  const readyTwo = await consoleUntil('vm-two', /nubo-guest ready: hostname=vm-two .*/);
  const secondIp = /ip=(\S+)/.exec(readyTwo.match(/nubo-guest ready: hostname=vm-two .*/)![0])![1]!;
  assert.notEqual(secondIp, fixedIp);
  // The first server reaches the second over the private network (the default group lets its
  // members in).
  assert.match(await ssh(pem, fip, `ping -c 1 -W 2 ${secondIp} >/dev/null && echo reached`), /reached/);

  await ok('server', 'delete', '--wait', 'vm-demo', second.id);
  await ok('floating', 'ip', 'delete', fip);
  await ok('router', 'remove', 'subnet', 'myrouter', 'private-subnet');
  await ok('router', 'delete', 'myrouter');
  await ok('network', 'delete', 'private-net', 'public-net');

  // Nothing of the cloud's is left: no qemu, no namespace, bridge, rule or daemon of its own.
  const { stdout: qemus } = await run('pgrep', ['-f', `qemu-system-x86_64.*${nubo.dataDir}`]).catch(() => ({ stdout: '' }));
  assert.equal(qemus.trim(), '');
  await eventually('no router or DHCP namespace left', async () => (await host.list()).every((ns) => ns === host.name));
  const { stdout: bridges } = await inNs(host.name, 'ip', '-o', 'link', 'show', 'type', 'bridge');
  assert.doesNotMatch(bridges, /brq/);
  const { stdout: taps } = await inNs(host.name, 'ip', '-o', 'link', 'show');
  assert.doesNotMatch(taps, /tap|vr-|vg-|vd-/);
  await eventually('no firewall chain left', async () => !(await inNs(host.name, 'iptables-save')).stdout.includes(host.name));
  const instances = join(nubo.dataDir, 'compute', 'instances');
  assert.deepEqual(existsSync(instances) ? readdirSync(instances).filter((d) => d !== '_base') : [], []);
});
