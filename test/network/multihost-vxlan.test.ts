import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, httpClient, openstack, tempDir } from '../helpers/cloud.ts';
import { eventually, inNs, pings, sh } from '../helpers/netns.ts';
import { tapName } from '../../src/network/dataplane/driver.ts';

// A tenant vxlan network across hosts, with real packets: scripts/multihost/up.sh starts a
// controller on PostgreSQL and three `nubo agent` hosts, each a namespace with its own underlay
// address (host1 the network host: DHCP, the router, the external network). A veth end in a
// namespace of its own stands for a guest's NIC on host2 and another on host3 (the servers
// themselves would be on the fake hypervisor): they get their leases from host1's dnsmasq across
// the VXLAN, ping each other across it, and the machine reaches one through its floating IP,
// which host1's collector meters.

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
let dir: string;
let cloud: Record<string, string>;
let env: Record<string, string>;
let api: ReturnType<typeof httpClient>;
let token: string;
/** The per-namespace /etc/netns dirs the guests' namespaces got, removed at the end. */
const guestDirs: string[] = [];

before(async () => {
  dir = tempDir('nubo-multihost-');
  await run(join(root, 'scripts/multihost/up.sh'), [dir, '3'], {
    env: { ...process.env, NUBO_COMPUTE_DRIVER: 'fake', NUBO_REPORT_INTERVAL: '2', NUBO_VNI_RANGES: '100:103', NUBO_TELEMETRY_INTERVAL: '1' },
    timeout: 240_000,
  });
  cloud = Object.fromEntries([...readFileSync(join(dir, 'cloud.env'), 'utf8').matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  env = Object.fromEntries([...readFileSync(join(dir, 'openrc'), 'utf8').matchAll(/^export (\w+)=['"]?([^'"\n]*)['"]?$/gm)].map((m) => [m[1]!, m[2]!]));
  // The guests' ports over HTTP: a CLI call costs seconds on a busy machine, and they are polled.
  api = httpClient(cloud.URL!);
  token = await api.login(env.OS_USERNAME!, env.OS_PASSWORD!, env.OS_PROJECT_NAME!);
});

after(async () => {
  if (dir) await run(join(root, 'scripts/multihost/down.sh'), [dir], { timeout: 120_000 });
  for (const d of guestDirs) rmSync(d, { recursive: true, force: true });
});

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const hostNs = (i: number) => `${cloud.TAG}-h${i}`;
const underlay = (i: number) => `${cloud.UNDERLAY}.${i}`;

/** Packets a device of a host namespace has sent and received. */
async function counters(ns: string, dev: string): Promise<{ tx: number; rx: number }> {
  const [link] = JSON.parse((await sh('ip', '-n', ns, '-j', '-s', 'link', 'show', dev)).stdout);
  return { tx: link.stats64.tx.packets, rx: link.stats64.rx.packets };
}

/** A namespace standing for a guest on host i, its eth0 the port's veth, bound to host i. */
async function guest(i: number, name: string, networkId: string) {
  const made = await api.request('POST', '/networking/v2.0/ports', {
    token,
    body: { port: { network_id: networkId, name, device_owner: 'compute:nova', port_security_enabled: false } },
  });
  assert.equal(made.status, 201);
  const port = made.body.port;
  const ns = `${hostNs(i)}-${name}`;
  await sh('ip', 'netns', 'add', ns);
  // `ip netns exec` then shows the guest an empty resolv.conf of its own: udhcpc's hook would
  // otherwise empty the machine's.
  mkdirSync(`/etc/netns/${ns}`, { recursive: true });
  writeFileSync(`/etc/netns/${ns}/resolv.conf`, '');
  guestDirs.push(`/etc/netns/${ns}`);
  await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  await inNs(hostNs(i), 'ip', 'link', 'add', tapName(port.id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address, 'up');
  assert.equal((await api.request('PUT', `/networking/v2.0/ports/${port.id}`, { token, body: { port: { 'binding:host_id': `host${i}` } } })).status, 200);
  return { ns, port, ip: port.fixed_ips[0].ip_address as string };
}

test('a tenant network spans hosts over VXLAN: DHCP from the network host, guests on two hosts ping each other, a floating IP answers the machine', async () => {
  // A tenant network is vxlan by default, its VNI from the range, its MTU 50 under the physical one.
  const net = await json('network', 'create', 'tnet');
  assert.equal(net['provider:network_type'], 'vxlan');
  assert.ok(net['provider:segmentation_id'] >= 100 && net['provider:segmentation_id'] <= 103);
  assert.equal(net.mtu, 1450);
  // Networks made at once never share a VNI.
  const many = await Promise.all([1, 2, 3].map((n) => json('network', 'create', `race${n}`)));
  const vnis = new Set([net, ...many].map((n) => n['provider:segmentation_id']));
  assert.equal(vnis.size, 4);
  assert.ok([...vnis].every((v) => v >= 100 && v <= 103));
  // The range is used up: Neutron's 503.
  const full = await openstack(env, 'network', 'create', 'one-too-many');
  assert.notEqual(full.code, 0);
  assert.match(full.stderr, /No tenant network is available/);
  await ok('network', 'delete', ...many.map((n) => n.id));

  await ok('subnet', 'create', '--network', 'tnet', '--subnet-range', '192.168.77.0/24', 'tsub');
  const ext = cloud.EXT!.replace(/\.1\/24$/, '');
  await ok('network', 'create', '--external', '--provider-network-type', 'flat', '--provider-physical-network', 'physnet1', 'ext');
  await ok(
    'subnet',
    'create',
    '--network',
    'ext',
    '--subnet-range',
    `${ext}.0/24`,
    '--gateway',
    `${ext}.1`,
    '--no-dhcp',
    '--allocation-pool',
    `start=${ext}.10,end=${ext}.99`,
    'ext-sub',
  );
  await ok('router', 'create', 'r1');
  await ok('router', 'set', '--external-gateway', 'ext', 'r1');
  await ok('router', 'add', 'subnet', 'r1', 'tsub');

  const a = await guest(2, 'ga', net.id);
  const b = await guest(3, 'gb', net.id);
  for (const g of [a, b])
    await eventually(
      `port ${g.port.id} ACTIVE`,
      async () => (await api.request('GET', `/networking/v2.0/ports/${g.port.id}`, { token })).body.port.status === 'ACTIVE',
      60_000,
    );

  // Each guest's host has the network's VXLAN device at its own underlay address, its FDB filled
  // from the store: the other guest's MAC at its host, and the flood list.
  const vx = `vx-${net.id.slice(0, 11)}`;
  const details = JSON.parse((await sh('ip', '-n', hostNs(2), '-j', '-d', 'link', 'show', vx)).stdout)[0];
  assert.equal(details.linkinfo.info_data.id, net['provider:segmentation_id']);
  assert.equal(details.linkinfo.info_data.local, underlay(2));
  assert.equal(details.linkinfo.info_data.port, 4789);
  await eventually('host2 knows where gb is', async () => {
    const fdb = JSON.parse((await inNs(hostNs(2), 'bridge', '-j', 'fdb', 'show', 'dev', vx)).stdout) as { mac: string; dst?: string }[];
    return fdb.some((e) => e.mac === b.port.mac_address && e.dst === underlay(3)) && fdb.some((e) => e.mac === '00:00:00:00:00:00' && e.dst === underlay(1));
  });
  // The network host alone serves DHCP and the router, and its agents say so.
  const agents = (await json('network', 'agent', 'list')) as { Host: string; 'Agent Type': string }[];
  const kindsOn = (host: string) =>
    agents
      .filter((g) => g.Host === host)
      .map((g) => g['Agent Type'])
      .sort();
  assert.deepEqual(kindsOn('host1'), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  assert.deepEqual(kindsOn('host2'), ['Linux bridge agent']);
  const namespaces = (await sh('ip', 'netns', 'list')).stdout;
  assert.match(namespaces, new RegExp(`^${hostNs(1)}-qdhcp-${net.id}`, 'm'));
  assert.doesNotMatch(namespaces, new RegExp(`^${hostNs(2)}-q`, 'm'));

  // DHCP from host1's dnsmasq, across the VXLAN.
  for (const g of [a, b]) {
    await inNs(g.ns, 'busybox', 'udhcpc', '-i', 'eth0', '-s', join(root, 'scripts/guest/udhcpc.script'), '-n', '-q', '-t', '20', '-T', '1');
    assert.match((await inNs(g.ns, 'ip', '-4', '-o', 'addr', 'show', 'eth0')).stdout, new RegExp(` ${g.ip.replaceAll('.', '\\.')}/24 `));
  }

  // ga (host2) pings gb (host3): the packets cross host2's VXLAN device and underlay.
  const before = { vx: await counters(hostNs(2), vx), ul: await counters(hostNs(2), 'ul0') };
  await eventually('ga pings gb', () => pings(a.ns, b.ip));
  await inNs(a.ns, 'busybox', 'ping', '-c', '5', '-i', '0.2', '-W', '1', b.ip);
  const afterPing = { vx: await counters(hostNs(2), vx), ul: await counters(hostNs(2), 'ul0') };
  assert.ok(afterPing.vx.tx - before.vx.tx >= 5 && afterPing.vx.rx - before.vx.rx >= 5, `VXLAN device counters: ${JSON.stringify([before.vx, afterPing.vx])}`);
  assert.ok(afterPing.ul.tx - before.ul.tx >= 5, 'nothing crossed the underlay');

  // Through the router on host1 and a floating IP: the machine reaches gb on host3.
  await eventually('gb pings its gateway on the network host', () => pings(b.ns, '192.168.77.1'));
  const made = await json('floating', 'ip', 'create', 'ext');
  const fip = made.floating_ip_address as string;
  await ok('floating', 'ip', 'set', '--port', b.port.id, fip);
  await eventually('the machine pings gb through its floating IP', () =>
    run('busybox', ['ping', '-c1', '-W1', fip], { timeout: 5000 }).then(
      () => true,
      () => false,
    ),
  );
  // The network host's collector meters its router: the pings show on the floating IP.
  await eventually('host1 metered the floating IP', async () => {
    const r = await api.request('GET', `/metric/v1/resource/network/${made.id}/metric/ip.floating.incoming.bytes/measures?granularity=1`, { token });
    return r.status === 200 && ((r.body as [string, number, number][]).at(-1)?.[2] ?? 0) > 0;
  });
  assert.equal((await api.request('GET', `/metric/v1/resource/network/${made.id}`, { token })).body.host, 'host1');

  // A port that goes takes its host's wiring with it when it was the host's last on the network,
  // and leaves the other hosts' forwarding tables.
  await ok('floating', 'ip', 'delete', fip);
  assert.equal((await api.request('DELETE', `/networking/v2.0/ports/${b.port.id}`, { token })).status, 204);
  await eventually(
    'host3 unwired the network',
    async () =>
      !(await sh('ip', '-n', hostNs(3), 'link', 'show', vx).then(
        () => true,
        () => false,
      )),
  );
  await eventually('host2 forgot gb', async () => {
    // Only the tunnel's own entries (with a dst): what the bridge learnt ages out by itself.
    const fdb = JSON.parse((await inNs(hostNs(2), 'bridge', '-j', 'fdb', 'show', 'dev', vx)).stdout) as { mac: string; dst?: string }[];
    return !fdb.some((e) => e.dst && (e.mac === b.port.mac_address || e.dst === underlay(3)));
  });
});
