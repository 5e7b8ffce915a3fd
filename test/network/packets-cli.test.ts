import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openstack, spawnNubo, tempDir, type SpawnedNubo, cliAs } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs, never, pings, sh } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { tapName } from '../../src/network/dataplane/driver.ts';

// The network service end to end with real packets: the real openstack CLI builds the seed's
// networks, router and floating IP on a cloud whose data plane is Linux, inside a namespace this
// test made to stand for the host. A veth end in a namespace of its own stands for the server's
// NIC (the server itself is on the fake hypervisor): it gets its address by DHCP, learns its name
// from the metadata service, pings its gateway, reaches the outside through SNAT, is reached
// through its floating IP only while a rule allows it, and cannot spoof its address.
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let hostNs: string;
let vmNs: string;
let nubo: SpawnedNubo;
let work: string;

before(async () => {
  host = await hostNamespace('p');
  hostNs = host.name;
  vmNs = await host.endpoint('vm');
  work = tempDir('nubo-packets-');
  nubo = await spawnNubo({
    env: { NUBO_COMPUTE_DRIVER: 'fake', NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: hostNs, NUBO_PHYSICAL_NETWORKS: 'physnet1:br-ex:172.24.4.1/24' },
  });
});

after(async () => {
  await nubo?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('the seed network workflow carries real packets: DHCP, metadata, gateway, SNAT, floating IP, security groups, anti-spoofing', async () => {
  await seedNetworks(ok);

  // The server's NIC: a port made first, so that its device can be a veth this test owns.
  const port = await json('port', 'create', '--network', 'private-net', 'vm-demo-port');
  const dev = tapName(port.id);
  await inNs(hostNs, 'ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vmNs);
  await inNs(vmNs, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address, 'up');

  const img = join(work, 'disk.raw');
  writeFileSync(img, Buffer.alloc(1 << 20));
  await ok('image', 'create', 'tiny', '--file', img, '--disk-format', 'raw', '--container-format', 'bare');
  await ok('flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'm1.tiny');
  const server = await json(
    'server',
    'create',
    '--flavor',
    'm1.tiny',
    '--image',
    'tiny',
    '--nic',
    `port-id=${port.id}`,
    '--security-group',
    'default',
    '--wait',
    'vm-demo',
  );
  assert.equal(server.status, 'ACTIVE');
  assert.equal((await json('port', 'show', port.id)).status, 'ACTIVE');

  // DHCP hands out the port's address, with the route to the metadata service.
  const fixedIp = port.fixed_ips[0].ip_address as string;
  await inNs(vmNs, 'busybox', 'udhcpc', '-i', 'eth0', '-s', join(root, 'scripts/guest/udhcpc.script'), '-O', 'staticroutes', '-n', '-q', '-t', '10', '-T', '1');
  const { stdout: addr } = await inNs(vmNs, 'ip', '-4', '-o', 'addr', 'show', 'eth0');
  assert.match(addr, new RegExp(` ${fixedIp.replaceAll('.', '\\.')}/24 `));

  // The metadata service knows the server by its port's address.
  const { stdout: hostname } = await inNs(vmNs, 'busybox', 'wget', '-q', '-O', '-', 'http://169.254.169.254/latest/meta-data/hostname');
  assert.equal(hostname.trim(), 'vm-demo');
  const meta = JSON.parse((await inNs(vmNs, 'busybox', 'wget', '-q', '-O', '-', 'http://169.254.169.254/openstack/latest/meta_data.json')).stdout);
  assert.equal(meta.uuid, server.id);

  // The gateway answers, and the outside (the host namespace's br-ex) sees the router's address.
  await eventually('ping the gateway', () => pings(vmNs, '192.168.10.1'));
  const router = await json('router', 'show', 'myrouter');
  const gatewayIp = router.external_gateway_info.external_fixed_ips[0].ip_address as string;
  const seen = promisify(execFile)(
    'ip',
    [
      'netns',
      'exec',
      hostNs,
      'python3',
      '-c',
      'import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("172.24.4.1",7777))\ns.listen(1)\nc,a=s.accept()\nprint(a[0])',
    ],
    { timeout: 15_000 },
  );
  await eventually('reach the outside', async () =>
    inNs(vmNs, 'busybox', 'nc', '-w', '1', '172.24.4.1', '7777').then(
      () => true,
      () => false,
    ),
  );
  assert.equal((await seen).stdout.trim(), gatewayIp);

  // From outside, through the floating IP: only while a rule lets ICMP in.
  const fip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address as string;
  await ok('server', 'add', 'floating', 'ip', 'vm-demo', fip);
  assert.ok(await never(() => pings(hostNs, fip)), 'ping through the floating IP passed with no ICMP rule');
  const rule = await json('security', 'group', 'rule', 'create', '--proto', 'icmp', 'default');
  await eventually('ping through the floating IP once ICMP is allowed', () => pings(hostNs, fip));
  await ok('security', 'group', 'rule', 'delete', rule.id);
  await eventually('ping blocked again', async () => !(await pings(hostNs, fip)));

  // A source address that is not the port's is dropped on the way in to the bridge.
  await inNs(vmNs, 'ip', 'addr', 'add', '192.168.10.99/24', 'dev', 'eth0');
  assert.ok(await never(() => pings(vmNs, '192.168.10.1', '-I', '192.168.10.99')), 'a spoofed source address passed');
  assert.ok(await pings(vmNs, '192.168.10.1'), 'the real address no longer passes');

  // Bad input the data plane relies on being refused.
  const dup = await openstack(nubo.env, 'port', 'create', '--network', 'private-net', '--fixed-ip', `subnet=private-subnet,ip-address=${fixedIp}`, 'dup');
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already allocated|in use/i);
  const notExternal = await openstack(nubo.env, 'floating', 'ip', 'create', 'private-net');
  assert.notEqual(notExternal.code, 0);

  // Deleting everything leaves nothing of the cloud's in any namespace.
  await ok('server', 'delete', '--wait', 'vm-demo');
  await ok('floating', 'ip', 'delete', fip);
  // A port the user made and gave to the server outlives it.
  await ok('port', 'delete', port.id);
  await ok('router', 'remove', 'subnet', 'myrouter', 'private-subnet');
  await ok('router', 'delete', 'myrouter');
  await ok('network', 'delete', 'private-net', 'public-net');
  await eventually('router and DHCP namespaces gone', async () => (await host.list()).every((ns) => ns === hostNs || ns === vmNs));
  await eventually('bridges gone', async () => {
    const { stdout } = await inNs(hostNs, 'ip', '-o', 'link', 'show', 'type', 'bridge');
    return !/brq/.test(stdout);
  });
  const { stdout: procs } = await sh('pgrep', '-af', `dnsmasq.*${hostNs}`).catch(() => ({ stdout: '' }));
  assert.equal(procs.trim(), '', 'dnsmasq outlived its network');
});
