import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv, cliAs, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs, never, pings } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { tapName } from '../../src/network/dataplane/driver.ts';

// `openstack server add/remove security group` with real packets: the server's NIC is a veth end
// in a namespace of its own (the server itself is on the fake hypervisor), reached from the host's
// side through its floating IP only while the added group lets ICMP in.
let host: Awaited<ReturnType<typeof hostNamespace>>;
let vmNs: string;
let c: TestCloud;
let env: Record<string, string>;

before(async () => {
  host = await hostNamespace('sg');
  vmNs = await host.endpoint('vm');
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 60, networkNetns: host.name });
  env = adminEnv(c.url, c.cloud.credentials!.password);
});
after(async () => {
  await c?.stop();
  await host?.cleanup();
});

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test("a security group added to a server lets its traffic through the server's port, and removing it stops it", async () => {
  await seedNetworks(ok);
  const port = await json('port', 'create', '--network', 'private-net', 'vm-port');
  const dev = tapName(port.id);
  await inNs(host.name, 'ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vmNs);
  await inNs(vmNs, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address, 'up');
  await inNs(vmNs, 'ip', 'addr', 'add', `${port.fixed_ips[0].ip_address}/24`, 'dev', 'eth0');
  await inNs(vmNs, 'ip', 'route', 'add', 'default', 'via', '192.168.10.1');

  const img = join(c.dataDir, 'tiny.raw');
  writeFileSync(img, Buffer.alloc(1 << 20));
  await ok('image', 'create', 'tiny', '--disk-format', 'raw', '--container-format', 'bare', '--file', img);
  await ok('flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'm1.tiny');
  await ok('server', 'create', '--flavor', 'm1.tiny', '--image', 'tiny', '--nic', `port-id=${port.id}`, '--wait', 'vm');
  const fip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address as string;
  await ok('server', 'add', 'floating', 'ip', 'vm', fip);
  await eventually('the server reaches its gateway', () => pings(vmNs, '192.168.10.1'));

  await ok('security', 'group', 'create', 'pingable');
  await ok('security', 'group', 'rule', 'create', '--proto', 'icmp', 'pingable');
  if (!(await never(() => pings(host.name, fip)))) {
    // Seen once in CI in many runs: what the host's filter held then is what tells why.
    const filter = await inNs(host.name, 'iptables-save', '-t', 'filter').then((r) => r.stdout, String);
    assert.fail(`ICMP passed with only the default group; the host's filter table then:\n${filter}`);
  }

  await ok('server', 'add', 'security', 'group', 'vm', 'pingable');
  await eventually('ping through the floating IP once the group is on the port', () => pings(host.name, fip));
  await ok('server', 'remove', 'security', 'group', 'vm', 'pingable');
  await eventually('ping blocked again once it is off', async () => !(await pings(host.name, fip)));

  await ok('server', 'delete', '--wait', 'vm');
});
