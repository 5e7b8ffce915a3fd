import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, nubo, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { consoleUntil as consoleOf } from '../helpers/console.ts';

// The seed workflow, for real, with the real openstack CLI: the test guest image, a key pair, a
// flavor, a private network behind a router to a flat external network, a server booted under
// QEMU on that network, a floating IP, and ssh into the guest through it from the "outside" (the
// namespace standing for the host, where br-ex has 172.24.4.1). Then stop (no qemu left) and
// start, a snapshot (a standalone qcow2 in the image service), a second server from it that
// reaches the first over the private network, and delete of everything, after which nothing of
// the cloud's is left on the host. Then the same workflow with nubo in place of openstack, same
// arguments, same result; then as one Heat stack, updated in place and by replacement.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let cloud: SpawnedNubo;
let work: string;
let guestImage: string;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  guestImage = stdout.trim().split('\n').at(-1)!;
  host = await hostNamespace('e');
  work = tempDir('nubo-e2e-');
  cloud = await spawnNubo({ env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
});
after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

type Cli = (...args: string[]) => Promise<string>;
const openstackCli = cliAs(() => cloud.env);
const nuboCli = cliAs(() => cloud.env, nubo);
const jsonOf =
  (cli: Cli) =>
  async (...args: string[]) =>
    JSON.parse(await cli(...args, '-f', 'json'));

/** The console's line that matches pattern, once it does. */
const consoleUntil = async (cli: Cli, name: string, pattern: RegExp) => (await consoleOf(cli, name, pattern, 180_000)).match(pattern)![0];

/** The qemu processes running a guest. */
const guests = async (id: string) => {
  const { stdout } = await run('pgrep', ['-f', `qemu-system-x86_64.*${id}`]).catch(() => ({ stdout: '' }));
  return stdout.trim().split('\n').filter(Boolean);
};

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

/** The seed workflow up to a command run in the guest through its floating IP; returns the
 * floating IP, the guest's fixed IP and the private network's id. */
async function bootAndReach(cli: Cli, pem: string) {
  const json = jsonOf(cli);
  await cli('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  writeFileSync(pem, await cli('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await seedNetworks(cli);
  const net = (await json('network', 'show', 'private-net')).id as string;
  const server = await json(
    ...['server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--nic', `net-id=${net}`],
    ...['--security-group', 'default', '--key-name', 'mykey', '--wait', 'vm-demo'],
  );
  assert.equal(server.status, 'ACTIVE');
  // DHCP and the metadata service, over the network (no config drive).
  const ready = await consoleUntil(cli, 'vm-demo', /nubo-guest ready: .*/);
  assert.match(ready, /^nubo-guest ready: hostname=vm-demo ip=192\.168\.10\.\d+ keys=1 source=metadata$/);
  const fixedIp = /ip=(\S+)/.exec(ready)![1]!;

  const rules = [
    (await json('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default')).id as string,
    (await json('security', 'group', 'rule', 'create', '--proto', 'icmp', 'default')).id as string,
  ];
  const fip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address as string;
  await cli('server', 'add', 'floating', 'ip', 'vm-demo', fip);
  assert.match(JSON.stringify((await json('server', 'show', 'vm-demo')).addresses), new RegExp(fip.replaceAll('.', '\\.')));
  let answer = '';
  await eventually('ssh through the floating IP', async () => (answer = await ssh(pem, fip, 'hostname').catch(() => '')) !== '', 60_000);
  assert.equal(answer, 'vm-demo');
  return { fip, fixedIp, net, rules };
}

/** A function that makes n ports bound to host on the network at once, through the API (the CLI
 * takes a second each), and returns their ids. */
async function portBurst(cli: Cli, network: string, host: string, n: number): Promise<() => Promise<string[]>> {
  const token = (await jsonOf(cli)('token', 'issue')).id as string;
  const create = async () => {
    const res = await fetch(`${cloud.url}/networking/v2.0/ports`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ port: { network_id: network, device_owner: 'compute:nova', 'binding:host_id': host } }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { port: { id: string } }).port.id;
  };
  return () => Promise.all(Array.from({ length: n }, create));
}

/** Deletes what the workflow made, and checks that nothing of the cloud's is left on the host. */
async function deleteAll(cli: Cli, servers: string[], fip: string, rules: string[]) {
  await cli('server', 'delete', '--wait', ...servers);
  await cli('floating', 'ip', 'delete', fip);
  await cli('security', 'group', 'rule', 'delete', ...rules);
  await cli('router', 'remove', 'subnet', 'myrouter', 'private-subnet');
  await cli('router', 'delete', 'myrouter');
  await cli('network', 'delete', 'private-net', 'public-net');
  await cli('keypair', 'delete', 'mykey');
  await cli('flavor', 'delete', 'm1.nano');
  await cli('image', 'delete', 'nubo-guest');

  const { stdout: qemus } = await run('pgrep', ['-f', `qemu-system-x86_64.*${cloud.dataDir}`]).catch(() => ({ stdout: '' }));
  assert.equal(qemus.trim(), '', 'no qemu left');
  await eventually('no router or DHCP namespace left', async () => (await host.list()).every((ns) => ns === host.name));
  // The agent removes a network's DHCP namespace, then its bridge.
  await eventually(
    'no bridge or device of a network left',
    async () => !/brq|tap|vr-|vg-|vd-/.test((await inNs(host.name, 'ip', '-o', 'link', 'show')).stdout),
  );
  await eventually('no firewall chain left', async () => !(await inNs(host.name, 'iptables-save')).stdout.includes(host.name));
  const instances = join(cloud.dataDir, 'compute', 'instances');
  assert.deepEqual(existsSync(instances) ? readdirSync(instances).filter((d) => d !== '_base') : [], [], 'no instance directory left');
}

test('openstack: image → keypair → flavor → networks → router → server → floating IP → ssh; stop/start, snapshot, a second server, delete', async () => {
  const cli = openstackCli;
  const json = jsonOf(cli);
  const pem = join(work, 'openstack.pem');
  const { fip, fixedIp, net, rules } = await bootAndReach(cli, pem);

  const id = (await json('server', 'show', 'vm-demo')).id as string;
  assert.equal((await guests(id)).length, 1, 'one qemu runs the guest');
  await cli('server', 'stop', 'vm-demo');
  await eventually('SHUTOFF', async () => (await json('server', 'show', 'vm-demo')).status === 'SHUTOFF', 120_000);
  assert.deepEqual(await guests(id), [], 'the qemu process is gone once stopped');
  assert.equal((await json('server', 'show', 'vm-demo'))['OS-EXT-STS:power_state'], 4);
  await cli('server', 'start', 'vm-demo');
  await eventually('ACTIVE again', async () => (await json('server', 'show', 'vm-demo')).status === 'ACTIVE', 120_000);
  await eventually('ssh after the restart', async () => (await ssh(pem, fip, 'hostname').catch(() => '')) === 'vm-demo', 120_000);

  const snap = await json('server', 'image', 'create', '--name', 'vm-demo-snap', '--wait', 'vm-demo');
  const image = await json('image', 'show', snap.id);
  assert.equal(image.status, 'active');
  assert.equal(image.properties.instance_uuid, id);
  const snapFile = join(work, 'snap.qcow2');
  await cli('image', 'save', '--file', snapFile, 'vm-demo-snap');
  const info = JSON.parse((await run('qemu-img', ['info', '--output=json', snapFile])).stdout);
  assert.equal(info.format, 'qcow2');
  assert.equal(info['backing-filename'], undefined, 'a snapshot stands alone');
  // vm-two's DHCP client tries once (dhcp_tries, on its config drive), and it boots while the
  // network agent is busy with a burst of other ports on its network: it gets its address all the same.
  const burst = await portBurst(cli, net, (await json('server', 'show', 'vm-demo'))['OS-EXT-SRV-ATTR:host'], 20);
  await cli(
    ...['server', 'create', '--flavor', 'm1.nano', '--image', 'vm-demo-snap', '--nic', `net-id=${net}`, '--key-name', 'mykey'],
    ...['--config-drive', 'True', '--property', 'dhcp_tries=1', 'vm-two'],
  );
  const ports = await burst();
  await eventually('vm-two ACTIVE', async () => (await json('server', 'show', 'vm-two')).status === 'ACTIVE', 180_000);
  const secondIp = /ip=(\S+)/.exec(await consoleUntil(cli, 'vm-two', /nubo-guest ready: hostname=vm-two .*/))![1]!;
  const addresses = JSON.stringify((await json('server', 'show', 'vm-two')).addresses);
  assert.ok(addresses.includes(`"${secondIp}"`), `vm-two's one DHCP try got no lease: ip=${secondIp}, addresses ${addresses}`);
  assert.notEqual(secondIp, fixedIp);
  await cli('port', 'delete', ...ports);
  // The first server reaches the second over the private network (the default group lets its
  // members in).
  assert.match(await ssh(pem, fip, `ping -c 1 -W 2 ${secondIp} >/dev/null && echo reached`), /reached/);

  await deleteAll(cli, ['vm-demo', 'vm-two'], fip, rules);
  await cli('image', 'delete', 'vm-demo-snap');
});

test('nubo: the same workflow with the same arguments reaches its guest too, and leaves nothing behind', async () => {
  const { fip, rules } = await bootAndReach(nuboCli, join(work, 'nubo.pem'));
  await deleteAll(nuboCli, ['vm-demo'], fip, rules);
});

const STACK = `
heat_template_version: 2018-08-31
description: The seed workflow as one stack
parameters:
  image: { type: string }
  name: { type: string, default: web1 }
resources:
  net:
    type: OS::Neutron::Net
  subnet:
    type: OS::Neutron::Subnet
    properties: { network: { get_resource: net }, cidr: 192.168.20.0/24 }
  router:
    type: OS::Neutron::Router
    properties: { external_gateway_info: { network: public-net } }
  interface:
    type: OS::Neutron::RouterInterface
    properties: { router: { get_resource: router }, subnet: { get_resource: subnet } }
  sg:
    type: OS::Neutron::SecurityGroup
    properties:
      rules:
        - { protocol: tcp, port_range_min: 22, port_range_max: 22, remote_ip_prefix: 0.0.0.0/0 }
        - { protocol: icmp }
  keypair:
    type: OS::Nova::KeyPair
    properties: { name: stack-key, save_private_key: true }
  port:
    type: OS::Neutron::Port
    properties: { network: { get_resource: net }, security_groups: [{ get_resource: sg }], fixed_ips: [{ subnet: { get_resource: subnet } }] }
  server:
    type: OS::Nova::Server
    properties:
      name: { get_param: name }
      image: { get_param: image }
      flavor: m1.nano
      key_name: { get_resource: keypair }
      networks: [{ port: { get_resource: port } }]
  fip:
    type: OS::Neutron::FloatingIP
    properties: { floating_network: public-net, port_id: { get_resource: port } }
outputs:
  floating_ip: { value: { get_attr: [fip, floating_ip_address] } }
  private_key: { value: { get_attr: [keypair, private_key] } }
`;

test('heat: the same workflow as one stack reaches its guest over ssh; an update renames it in place, a new image replaces it; the delete leaves nothing', async () => {
  const cli = openstackCli;
  const json = jsonOf(cli);
  for (const name of ['nubo-guest', 'nubo-guest-2']) await cli('image', 'create', name, '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await cli('network', 'create', 'public-net', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  await cli('subnet', 'create', '--network', 'public-net', '--subnet-range', '172.24.4.0/24', '--no-dhcp', '--gateway', '172.24.4.1', 'public-subnet');
  const template = join(work, 'stack.yaml');
  writeFileSync(template, STACK);
  await cli('stack', 'create', '--wait', '-t', template, '--parameter', 'image=nubo-guest', 'seed');
  assert.equal((await json('stack', 'show', 'seed')).stack_status, 'CREATE_COMPLETE');
  const output = async (key: string) => (await json('stack', 'output', 'show', 'seed', key)).output_value as string;
  const fip = await output('floating_ip');
  const pem = join(work, 'stack.pem');
  writeFileSync(pem, await output('private_key'), { mode: 0o600 });
  const server = async () => (await json('stack', 'resource', 'show', 'seed', 'server')).physical_resource_id as string;
  const first = await server();
  let answer = '';
  await eventually('ssh through the stack’s floating IP', async () => (answer = await ssh(pem, fip, 'hostname').catch(() => '')) !== '', 180_000);
  assert.equal(answer, 'web1');

  // A new name and a new rule: both in place, the guest running on.
  writeFileSync(template, STACK.replace('        - { protocol: icmp }\n', '        - { protocol: icmp }\n        - { protocol: tcp, port_range_min: 80, port_range_max: 80 }\n'));
  await cli('stack', 'update', '--wait', '-t', template, '--parameter', 'image=nubo-guest', '--parameter', 'name=web1-renamed', 'seed');
  assert.equal((await json('stack', 'show', 'seed')).stack_status, 'UPDATE_COMPLETE');
  assert.equal(await server(), first);
  assert.equal((await json('server', 'show', first)).name, 'web1-renamed');
  const sg = (await json('stack', 'resource', 'show', 'seed', 'sg')).physical_resource_id as string;
  assert.ok((await json('security', 'group', 'rule', 'list', sg)).some((r: Record<string, string>) => r['Port Range'] === '80:80'));
  assert.equal(await ssh(pem, fip, 'echo still'), 'still');

  // Another image: a new server replaces the first.
  await cli('stack', 'update', '--existing', '--wait', '--parameter', 'image=nubo-guest-2', 'seed');
  assert.equal((await json('stack', 'show', 'seed')).stack_status, 'UPDATE_COMPLETE');
  const second = await server();
  assert.notEqual(second, first);
  assert.deepEqual(
    (await json('server', 'list')).map((s: Record<string, string>) => [s.ID, s.Image]),
    [[second, 'nubo-guest-2']],
  );
  assert.deepEqual(await guests(first), [], 'the first guest’s qemu is gone');

  await cli('stack', 'delete', '--yes', '--wait', 'seed');
  // Service by service, nothing of the stack is left.
  assert.deepEqual(await json('server', 'list'), []);
  assert.deepEqual(await json('floating', 'ip', 'list'), []);
  assert.deepEqual(await json('router', 'list'), []);
  assert.deepEqual((await json('network', 'list')).map((n: Record<string, string>) => n.Name), ['public-net']);
  assert.deepEqual((await json('port', 'list')).length, 0);
  assert.deepEqual((await json('security', 'group', 'list')).map((g: Record<string, string>) => g.Name), ['default']);
  assert.deepEqual(await json('keypair', 'list'), []);
  const { stdout: qemus } = await run('pgrep', ['-f', `qemu-system-x86_64.*${cloud.dataDir}`]).catch(() => ({ stdout: '' }));
  assert.equal(qemus.trim(), '', 'no qemu left');
  await cli('network', 'delete', 'public-net');
  await cli('flavor', 'delete', 'm1.nano');
  await cli('image', 'delete', 'nubo-guest', 'nubo-guest-2');
});
