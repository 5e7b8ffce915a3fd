import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openstack, spawnNubo, tempDir, type SpawnedNubo, cliAs } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs, never, pings } from '../helpers/netns.ts';
import { tapName } from '../../src/network/dataplane/driver.ts';

// Port security, allowed address pairs, extra DHCP options and QoS bandwidth limits, each driven
// by the real openstack CLI and seen in real packets: a namespace stands for the host, and each
// guest is a namespace holding the peer of a veth named as its port's tap (ports bound to this
// host as a server's would be, without booting one).
let host: Awaited<ReturnType<typeof hostNamespace>>;
let nubo: SpawnedNubo;
let work: string;
let dhcpIp: string;
const HOST = 'qhost';

before(async () => {
  host = await hostNamespace('q');
  work = tempDir('nubo-portfeat-');
  chmodSync(work, 0o755);
  nubo = await spawnNubo({
    env: {
      NUBO_COMPUTE_DRIVER: 'fake',
      NUBO_COMPUTE_HOST: HOST,
      NUBO_NETWORK_DATAPLANE: 'linux',
      NUBO_NETWORK_NETNS: host.name,
      NUBO_PHYSICAL_NETWORKS: 'physnet1:br-ex:172.24.4.1/24',
    },
  });
  await ok('network', 'create', 'qnet');
  await ok('subnet', 'create', '--network', 'qnet', '--subnet-range', '10.40.0.0/24', 'qsub');
  // Pings from anywhere reach every guest of the default group: what is dropped below is dropped
  // by port security, not by a missing rule.
  await ok('security', 'group', 'rule', 'create', '--proto', 'icmp', 'default');
  await eventually('the DHCP port', async () => {
    const [p] = await json('port', 'list', '--network', 'qnet', '--device-owner', 'network:dhcp');
    dhcpIp = p?.['Fixed IP Addresses']?.[0]?.ip_address;
    return Boolean(dhcpIp);
  });
});

after(async () => {
  await nubo?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const fails = async (...args: string[]) => {
  const r = await openstack(nubo.env, ...args);
  assert.notEqual(r.code, 0, `${args.join(' ')} succeeded`);
  return r.stderr;
};

interface Guest {
  ns: string;
  port: { id: string; mac_address: string; fixed_ips: { ip_address: string }[] };
  ip: string;
}

/** A port bound to this host as a server's NIC, and a namespace standing for its guest, which has
 * its address set by hand unless dhcp. */
async function guest(name: string, opts: string[] = [], dhcp = false): Promise<Guest> {
  const port = await json('port', 'create', '--network', 'qnet', '--device-owner', 'compute:nova', ...opts, name);
  const ns = await host.endpoint(name);
  await inNs(host.name, 'ip', 'link', 'add', tapName(port.id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address, 'mtu', '1450', 'up');
  // Bound once its device is there, as a server's port is once qemu has its tap.
  await ok('port', 'set', '--host', HOST, port.id);
  const ip = port.fixed_ips[0].ip_address as string;
  if (!dhcp) {
    await inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    await eventually(`${name} reaches the DHCP port`, () => pings(ns, dhcpIp));
  }
  return { ns, port, ip };
}

test('port_security_enabled=false lets a port send from any address; a secured port cannot, and Neutron’s 409s guard the switch', async () => {
  const secured = await guest('sec');
  const open = await guest('open', ['--disable-port-security', '--no-security-group']);
  assert.equal((await json('port', 'show', open.port.id)).port_security_enabled, false);

  await inNs(secured.ns, 'ip', 'addr', 'add', '10.40.0.99/24', 'dev', 'eth0');
  await inNs(open.ns, 'ip', 'addr', 'add', '10.40.0.98/24', 'dev', 'eth0');
  assert.ok(await never(() => pings(secured.ns, dhcpIp, '-I', '10.40.0.99')), 'a secured port sent from an address not its own');
  await eventually('the unsecured port sends from another address', () => pings(open.ns, dhcpIp, '-I', '10.40.0.98'));

  // Neutron refuses to drop security from a port that still has groups, and pairs on a port without it.
  assert.match(await fails('port', 'set', '--disable-port-security', secured.port.id), /Port has security group associated/);
  assert.match(
    await fails('port', 'set', '--allowed-address', 'ip-address=10.40.0.97', open.port.id),
    /Port Security must be enabled in order to have allowed address pairs on a port/,
  );
  assert.match(
    await fails('port', 'create', '--network', 'qnet', '--disable-port-security', '--security-group', 'default', 'bad'),
    /Port security must be enabled and port must have an IP address in order to use security groups/,
  );

  // A network's port_security_enabled is the default of its new ports.
  await ok('network', 'create', '--disable-port-security', 'qopen');
  assert.equal((await json('port', 'create', '--network', 'qopen', 'qopen-port')).port_security_enabled, false);
  await ok('port', 'delete', 'qopen-port');
  await ok('network', 'delete', 'qopen');

  // Turned off on the secured port, the same spoofed packets pass.
  await ok('port', 'set', '--no-security-group', '--disable-port-security', secured.port.id);
  await eventually('spoofing passes once port security is off', () => pings(secured.ns, dhcpIp, '-I', '10.40.0.99'));
  await ok('port', 'set', '--enable-port-security', '--security-group', 'default', secured.port.id);
  await eventually('spoofing dropped again', async () => !(await pings(secured.ns, dhcpIp, '-I', '10.40.0.99')));
});

test('a VIP held by either of two guests is reached only through their allowed address pairs', async () => {
  const vip = '10.40.0.50';
  const [a, b, client] = [await guest('vipa'), await guest('vipb'), await guest('vipc')];
  const holder = async () => (await inNs(client.ns, 'ip', 'neigh', 'show', vip)).stdout;
  await inNs(a.ns, 'ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0');
  assert.ok(await never(() => pings(client.ns, vip)), 'the VIP answered without an address pair');

  for (const g of [a, b]) await ok('port', 'set', '--allowed-address', `ip-address=${vip}`, g.port.id);
  assert.deepEqual((await json('port', 'show', a.port.id)).allowed_address_pairs, [{ ip_address: vip, mac_address: a.port.mac_address }]);
  await eventually('the VIP answers from the first guest', () => pings(client.ns, vip));
  assert.match(await holder(), new RegExp(a.port.mac_address));

  // It moves: the other guest takes it over, as keepalived would.
  await inNs(a.ns, 'ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0');
  await inNs(b.ns, 'ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0');
  await inNs(client.ns, 'ip', 'neigh', 'flush', 'to', vip);
  await eventually('the VIP answers from the second guest', () => pings(client.ns, vip));
  assert.match(await holder(), new RegExp(b.port.mac_address));

  // Without its pair, the second guest's answers are spoofing again.
  await ok('port', 'unset', '--allowed-address', `ip-address=${vip},mac-address=${b.port.mac_address}`, b.port.id);
  await inNs(client.ns, 'ip', 'neigh', 'flush', 'to', vip);
  // The agent applies the change after the API has answered: wait for it, then see that it holds.
  await eventually('the VIP stops answering once its pair is removed', async () => !(await pings(client.ns, vip)));
  await inNs(client.ns, 'ip', 'neigh', 'flush', 'to', vip);
  assert.ok(await never(() => pings(client.ns, vip)), 'the VIP answered after its pair was removed');
});

/** What a DHCP client in the guest is told, as busybox udhcpc hands it to its script. */
async function dhcpAnswer(g: Guest): Promise<Record<string, string>> {
  const out = join(work, `${g.port.id}.env`);
  const script = join(work, 'dump.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && env > ${out}\nexit 0\n`, { mode: 0o755 });
  rmSync(out, { force: true });
  await inNs(g.ns, 'busybox', 'udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '5', '-T', '1', '-s', script, '-O', 'ntpsrv', '-O', 'domain');
  return Object.fromEntries(
    readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

test('extra DHCP options reach the guest’s DHCP client, and change with the port', async () => {
  const g = await guest('dhcpo', ['--extra-dhcp-option', 'name=domain-name,value=nubo.example', '--extra-dhcp-option', 'name=42,value=10.40.0.123'], true);
  const shown = await json('port', 'show', g.port.id);
  assert.deepEqual(
    shown.extra_dhcp_opts.map((o: Record<string, unknown>) => [o.opt_name, o.opt_value, o.ip_version]).sort(),
    [
      ['42', '10.40.0.123', 4],
      ['domain-name', 'nubo.example', 4],
    ],
  );
  await eventually('the lease is served', async () => (await json('port', 'show', g.port.id)).status === 'ACTIVE');
  let answer = await dhcpAnswer(g);
  assert.equal(answer.ip, g.ip);
  assert.equal(answer.domain, 'nubo.example');
  assert.equal(answer.ntpsrv, '10.40.0.123');
  // Another guest on the network is not told the port's options.
  const other = await guest('dhcpn', [], true);
  await eventually('the other lease is served', async () => (await json('port', 'show', other.port.id)).status === 'ACTIVE');
  const plain = await dhcpAnswer(other);
  assert.equal(plain.ip, other.ip);
  assert.equal(plain.domain, undefined);

  await ok('port', 'set', '--extra-dhcp-option', 'name=domain-name,value=other.example', g.port.id);
  // A guest renews; one whose try falls while the server reloads tries again.
  await eventually('the changed option is served', async () => (await dhcpAnswer(g).catch(() => undefined))?.domain === 'other.example');
  answer = await dhcpAnswer(g);
  assert.equal(answer.ntpsrv, '10.40.0.123', 'an option not named in the update was kept');

  assert.match(await fails('port', 'set', '--extra-dhcp-option', 'name=no-such-option,value=1', g.port.id), /not a DHCP option dnsmasq knows/);
});

/** Bits per second carried by TCP from one guest to another, over the seconds 1 to 4 of a
 * transfer (the first second fills the bucket's burst and TCP's window). */
async function throughput(from: Guest, to: Guest): Promise<number> {
  const receiver = `
    const [first, last] = [1000, 4000];
    let start = 0, bytes = 0;
    require('net').createServer((s) => s.on('data', (d) => {
      const t = Date.now() - (start ||= Date.now());
      if (t >= first && t < last) bytes += d.length;
      if (t >= last) { console.log(bytes * 8 / ((last - first) / 1000)); process.exit(0); }
    })).listen(5201, '${to.ip}', () => console.log('ready'));`;
  const sender = `
    const s = require('net').connect(5201, '${to.ip}');
    const chunk = Buffer.alloc(65536);
    const pump = () => { while (s.write(chunk)); };
    s.on('connect', pump); s.on('drain', pump); s.on('error', () => process.exit(0));
    setTimeout(() => process.exit(0), 8000);`;
  const rx = spawn('ip', ['netns', 'exec', to.ns, process.execPath, '-e', receiver]);
  let out = '';
  rx.stdout.on('data', (d) => (out += d));
  await eventually('the receiver listens', async () => out.includes('ready'), 10_000);
  const tx = spawn('ip', ['netns', 'exec', from.ns, process.execPath, '-e', sender], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => rx.on('exit', resolve));
  tx.kill('SIGKILL');
  assert.equal(code, 0);
  return Number(out.split('\n')[1]);
}

test('a QoS bandwidth limit of 10 Mbit/s holds within 10 % each way, on the port or from its network', async (t) => {
  const policy = await json('network', 'qos', 'policy', 'create', '--description', 'ten megabits', '--share', 'limit10');
  assert.equal(policy.shared, true);
  await ok('network', 'qos', 'rule', 'create', '--type', 'bandwidth-limit', '--max-kbps', '10000', '--egress', 'limit10');
  await ok('network', 'qos', 'rule', 'create', '--type', 'bandwidth-limit', '--max-kbps', '10000', '--ingress', 'limit10');
  // Accepted as the API defines them, recorded only.
  await ok('network', 'qos', 'rule', 'create', '--type', 'dscp-marking', '--dscp-mark', '26', 'limit10');
  await ok('network', 'qos', 'rule', 'create', '--type', 'minimum-bandwidth', '--min-kbps', '1000', '--egress', 'limit10');
  const rules = await json('network', 'qos', 'rule', 'list', 'limit10');
  assert.deepEqual(rules.map((r: Record<string, unknown>) => r.Type).sort(), ['bandwidth_limit', 'bandwidth_limit', 'dscp_marking', 'minimum_bandwidth']);
  assert.match(await fails('network', 'qos', 'rule', 'create', '--type', 'bandwidth-limit', '--max-kbps', '5', '--egress', 'limit10'), /409|already exists/);
  assert.match(await fails('network', 'qos', 'rule', 'create', '--type', 'dscp-marking', '--dscp-mark', '7', 'limit10'), /dscp_mark/);
  const types = (await json('network', 'qos', 'rule', 'type', 'list')).map((t: Record<string, unknown>) => t.Type);
  assert.deepEqual(types.sort(), ['bandwidth_limit', 'dscp_marking', 'minimum_bandwidth']);
  assert.ok((await json('extension', 'list', '--network')).some((e: Record<string, unknown>) => e.Alias === 'qos'));

  const [sender, receiver] = [await guest('qsend'), await guest('qrecv')];
  const free = await throughput(sender, receiver);
  assert.ok(free > 30e6, `without a policy a transfer runs at ${free / 1e6} Mbit/s`);

  await ok('port', 'set', '--qos-policy', 'limit10', sender.port.id);
  assert.equal((await json('port', 'show', sender.port.id)).qos_policy_id, policy.id);
  const shaped = async (g: Guest) => (await inNs(host.name, 'tc', 'qdisc', 'show', 'dev', tapName(g.port.id))).stdout.includes('tbf');
  await eventually('the limit is on the tap', () => shaped(sender));
  const out = await throughput(sender, receiver);
  assert.ok(Math.abs(out - 10e6) <= 1e6, `sent at ${out / 1e6} Mbit/s under a 10 Mbit/s egress limit`);
  const into = await throughput(receiver, sender);
  t.diagnostic(`unlimited ${(free / 1e6).toFixed(1)} Mbit/s; limited to 10: sent ${(out / 1e6).toFixed(2)}, received ${(into / 1e6).toFixed(2)}`);
  assert.ok(Math.abs(into - 10e6) <= 1e6, `received at ${into / 1e6} Mbit/s under a 10 Mbit/s ingress limit`);

  assert.match(await fails('network', 'qos', 'policy', 'delete', 'limit10'), /is used by port/);
  await ok('port', 'unset', '--qos-policy', sender.port.id);
  await eventually('the limit is lifted', async () => !(await shaped(sender)));
  assert.ok((await throughput(sender, receiver)) > 30e6, 'the limit outlived its policy');

  // The network's policy holds its ports that have none of their own.
  await ok('network', 'set', '--qos-policy', 'limit10', 'qnet');
  assert.equal((await json('port', 'show', receiver.port.id)).qos_network_policy_id, policy.id);
  await eventually('the network’s limit is on the tap', () => shaped(receiver));
  const viaNetwork = await throughput(receiver, sender);
  t.diagnostic(`by the network's policy: ${(viaNetwork / 1e6).toFixed(2)} Mbit/s`);
  assert.ok(Math.abs(viaNetwork - 10e6) <= 1e6, `sent at ${viaNetwork / 1e6} Mbit/s under the network's limit`);
  await ok('network', 'set', '--no-qos-policy', 'qnet');
  await eventually('the network’s limit is lifted', async () => !(await shaped(receiver)));
  await ok('network', 'qos', 'policy', 'delete', 'limit10');
  assert.equal((await json('network', 'qos', 'policy', 'list')).length, 0);
});
