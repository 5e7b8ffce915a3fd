import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { nuboArgv } from '../helpers/nubo-command.ts';

// nubo's network commands against `nubo up` with the fake network data plane, judged by the real
// openstack CLI: for the same arguments on the same cloud, both print the same. One cloud and
// one pass through the seed workflow keep the run short (openstack costs ~1 s a command).
const root = new URL('../..', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let cloud: SpawnedNubo;
let home: string;
let admin: Record<string, string>;

/** The nubo CLI as a child process, with only the given OS_* variables and an empty HOME. */
function nubo(...args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nuboArgv, ...args],
      { cwd: root, env: { ...clean, HOME: home, ...admin } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const ok = async (...args: string[]) => {
  const r = await nubo(...args);
  assert.equal(r.code, 0, `nubo ${args.join(' ')} failed: ${r.stderr}`);
  assert.equal(r.stderr, '', `nubo ${args.join(' ')} wrote on stderr`);
  return r.stdout;
};
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

const osc = async (...args: string[]) => {
  const r = await openstack(admin, ...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};

/** nubo prints exactly what openstack prints for the same arguments. */
async function same(...args: string[]) {
  const [mine, theirs] = await Promise.all([nubo(...args), openstack(admin, ...args)]);
  assert.equal(theirs.code, 0, `openstack ${args.join(' ')} failed: ${theirs.stderr}`);
  assert.equal(mine.code, 0, `nubo ${args.join(' ')} failed: ${mine.stderr}`);
  assert.equal(mine.stdout, theirs.stdout, `nubo ${args.join(' ')}`);
}

/** Both fail, and nubo says what openstack says, its last line prefixed with `nubo: `. */
async function sameFailure(...args: string[]) {
  const [mine, theirs] = await Promise.all([nubo(...args), openstack(admin, ...args)]);
  assert.equal(mine.code, 1, `nubo ${args.join(' ')} should fail: ${mine.stdout}`);
  assert.notEqual(theirs.code, 0, `openstack ${args.join(' ')} should fail`);
  const lines = theirs.stderr.trimEnd().split('\n');
  lines[lines.length - 1] = `nubo: ${lines.at(-1)}`;
  assert.equal(mine.stderr, lines.join('\n') + '\n', `nubo ${args.join(' ')}`);
  assert.equal(mine.stdout, '');
}

/** The fields of a resource, with those that differ between two creates blanked. */
const normalized = (o: Record<string, unknown>, ...volatile: string[]) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, volatile.includes(k) || /_at$/.test(k) ? '…' : v]));

before(async () => {
  cloud = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  admin = cloud.env;
  home = tempDir('nubo-cli-home-');
});
after(async () => {
  await cloud?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('the seed workflow: what nubo creates, lists and shows, it prints as openstack does', async () => {
  // Creates: nubo's and openstack's, side by side, print the same but for names and IDs.
  const [net, theirNet] = await Promise.all([json('network', 'create', 'private-net'), osc('network', 'create', 'o-net', '-f', 'json').then(JSON.parse)]);
  assert.deepEqual(normalized(net, 'id', 'name', 'provider:segmentation_id'), normalized(theirNet, 'id', 'name', 'provider:segmentation_id'));
  assert.equal(net['router:external'], false);

  const subnetArgs = (name: string, network: string, cidr: string) => ['subnet', 'create', '--network', network, '--subnet-range', cidr, name];
  const [subnet, theirSubnet] = await Promise.all([
    json(...subnetArgs('private-subnet', 'private-net', '192.168.10.0/24')),
    osc(...subnetArgs('o-subnet', 'o-net', '192.168.20.0/24'), '-f', 'json').then(JSON.parse),
  ]);
  const subnetVolatile = ['id', 'name', 'network_id', 'cidr', 'allocation_pools', 'gateway_ip'];
  assert.deepEqual(normalized(subnet, ...subnetVolatile), normalized(theirSubnet, ...subnetVolatile));
  assert.deepEqual(
    [subnet.cidr, subnet.gateway_ip, subnet.allocation_pools],
    ['192.168.10.0/24', '192.168.10.1', [{ start: '192.168.10.2', end: '192.168.10.254' }]],
  );

  const pub = await json('network', 'create', 'public-net', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  assert.deepEqual([pub['router:external'], pub['provider:network_type'], pub['provider:physical_network']], [true, 'flat', 'physnet1']);
  await ok(
    ...['subnet', 'create', '--network', 'public-net', '--subnet-range', '172.24.4.0/24', '--no-dhcp', '--gateway', '172.24.4.1'],
    ...['--allocation-pool', 'start=172.24.4.100,end=172.24.4.200', '--dns-nameserver', '8.8.8.8'],
    ...['--host-route', 'destination=10.10.0.0/16,gateway=172.24.4.254', 'public-subnet'],
  );

  const [router, theirRouter] = await Promise.all([json('router', 'create', 'myrouter'), osc('router', 'create', 'o-router', '-f', 'json').then(JSON.parse)]);
  assert.deepEqual(normalized(router, 'id', 'name'), normalized(theirRouter, 'id', 'name'));
  assert.equal(await ok('router', 'set', 'myrouter', '--external-gateway', 'public-net'), '');
  assert.equal(await ok('router', 'add', 'subnet', 'myrouter', 'private-subnet'), '');

  const port = await json('port', 'create', '--network', 'private-net', 'myport');
  assert.equal(port.fixed_ips.length, 1);
  const fip = await json('floating', 'ip', 'create', 'public-net');
  assert.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
  assert.equal(await ok('floating', 'ip', 'set', '--port', 'myport', fip.floating_ip_address), '');
  const rule = await json('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default');
  assert.deepEqual([rule.protocol, rule.port_range_min, rule.port_range_max, rule.remote_ip_prefix], ['tcp', 22, 22, '0.0.0.0/0']);

  // Listings and shows of one state: byte for byte.
  const listings = [
    ['network', 'list'],
    ['network', 'list', '--long'],
    ['network', 'list', '--external', '-f', 'json'],
    ['network', 'show', 'private-net'],
    ['network', 'show', 'public-net', '-f', 'json'],
    ['subnet', 'list', '--long'],
    ['subnet', 'list', '--network', 'private-net', '-f', 'yaml'],
    ['subnet', 'show', 'public-subnet'],
    ['subnet', 'show', 'private-subnet', '-f', 'json'],
    ['port', 'list', '--long'],
    ['port', 'list', '--network', 'private-net', '-f', 'json'],
    ['port', 'show', 'myport'],
    ['router', 'list', '--long'],
    ['router', 'show', 'myrouter'],
    ['router', 'show', 'myrouter', '-f', 'json'],
    ['floating', 'ip', 'list', '--long'],
    ['floating', 'ip', 'show', fip.floating_ip_address],
    ['floating', 'ip', 'show', fip.id, '-f', 'json'],
    ['security', 'group', 'list'],
    ['security', 'group', 'show', 'default'],
    ['security', 'group', 'rule', 'list', 'default', '--long'],
    ['security', 'group', 'rule', 'list', '-f', 'json'],
    ['security', 'group', 'rule', 'show', rule.id],
  ];
  // A few at a time: they only read, and each openstack run is mostly its own start-up.
  for (let i = 0; i < listings.length; i += 4) await Promise.all(listings.slice(i, i + 4).map((args) => same(...args)));
});

test('what fails says what openstack says', async () => {
  // The seed workflow's resources are there (the test before made them).
  const port = await json('port', 'show', 'myport');
  const usedIp = port.fixed_ips[0].ip_address;
  // The same range as private-subnet's, on another network: fine alone, not on the same router.
  await ok('network', 'create', 'other-net');
  await ok('subnet', 'create', '--network', 'other-net', '--subnet-range', '192.168.10.0/24', 'other-subnet');
  await Promise.all([
    sameFailure('network', 'show', 'nope'),
    sameFailure('subnet', 'create', '--network', 'nope', '--subnet-range', '10.0.0.0/24', 'x'),
    sameFailure('subnet', 'create', '--network', 'private-net', '--subnet-range', '192.168.10.0/25', 'x'),
    sameFailure('router', 'add', 'subnet', 'myrouter', 'other-subnet'),
    sameFailure('port', 'create', '--network', 'private-net', '--fixed-ip', `ip-address=${usedIp}`, 'x'),
    sameFailure('floating', 'ip', 'show', '10.0.0.1'),
    sameFailure('network', 'delete', 'nope', 'nothing'),
    sameFailure('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default'),
  ]);
  assert.equal((await json('port', 'list', '--network', 'private-net')).filter((p: { Name: string }) => p.Name === 'x').length, 0, 'nothing was left behind');
});

test('QoS policies and rules, and the QoS and DHCP options of ports and networks, print as openstack prints them', async () => {
  const policy = await json('network', 'qos', 'policy', 'create', '--description', 'ten', '--share', 'ten-mbit');
  assert.deepEqual([policy.shared, policy.is_default, policy.description, policy.rules], [true, false, 'ten', []]);
  const bw = await json('network', 'qos', 'rule', 'create', '--type', 'bandwidth-limit', '--max-kbps', '10000', '--max-burst-kbits', '800', '--ingress', 'ten-mbit');
  assert.deepEqual([bw.max_kbps, bw.max_burst_kbps, bw.direction], [10000, 800, 'ingress']);
  const dscp = await json('network', 'qos', 'rule', 'create', '--type', 'dscp-marking', '--dscp-mark', '26', 'ten-mbit');
  await ok('network', 'qos', 'rule', 'create', '--type', 'minimum-bandwidth', '--min-kbps', '1000', '--egress', 'ten-mbit');
  assert.equal(await ok('network', 'qos', 'rule', 'set', '--max-kbps', '20000', 'ten-mbit', bw.id), '');
  await ok('network', 'qos', 'policy', 'create', '--no-share', 'other');
  assert.equal(await ok('network', 'qos', 'policy', 'set', '--name', 'spare', '--default', 'other'), '');
  const port = await json(
    ...['port', 'create', '--network', 'private-net', '--qos-policy', 'ten-mbit'],
    ...['--extra-dhcp-option', 'name=domain-name,value=nubo.example', '--extra-dhcp-option', 'name=42,value=10.0.0.1,ip-version=4', 'qport'],
  );
  assert.equal(port.qos_policy_id, policy.id);
  assert.equal(await ok('port', 'set', '--extra-dhcp-option', 'name=domain-name,value=other.example', 'qport'), '');
  assert.equal(await ok('network', 'set', '--qos-policy', 'spare', 'private-net'), '');

  const listings = [
    ['network', 'qos', 'policy', 'list'],
    ['network', 'qos', 'policy', 'list', '--share', '-f', 'json'],
    ['network', 'qos', 'policy', 'show', 'ten-mbit'],
    ['network', 'qos', 'policy', 'show', 'spare', '-f', 'json'],
    ['network', 'qos', 'rule', 'list', 'ten-mbit'],
    ['network', 'qos', 'rule', 'list', 'ten-mbit', '-f', 'json'],
    ['network', 'qos', 'rule', 'show', 'ten-mbit', bw.id],
    ['network', 'qos', 'rule', 'show', 'ten-mbit', dscp.id, '-f', 'json'],
    ['network', 'qos', 'rule', 'type', 'list'],
    ['network', 'qos', 'rule', 'type', 'show', 'bandwidth_limit', '-f', 'json'],
    ['port', 'show', 'qport'],
    ['network', 'show', 'private-net', '-f', 'json'],
  ];
  for (let i = 0; i < listings.length; i += 4) await Promise.all(listings.slice(i, i + 4).map((args) => same(...args)));

  assert.equal(await ok('network', 'set', '--no-qos-policy', 'private-net'), '');
  assert.equal((await json('network', 'show', 'private-net')).qos_policy_id, null);
  assert.equal(await ok('network', 'qos', 'rule', 'delete', 'ten-mbit', dscp.id), '');
  await ok('port', 'delete', 'qport');
  assert.equal(await ok('network', 'qos', 'policy', 'delete', 'ten-mbit', 'spare'), '');
  assert.deepEqual(await json('network', 'qos', 'policy', 'list'), []);
});

test('subnet pools, address scopes and RBAC policies print as openstack prints them', async () => {
  const scope = await json('address', 'scope', 'create', '--ip-version', '4', 'scope4');
  assert.deepEqual([scope.name, scope.ip_version, scope.shared], ['scope4', 4, false]);
  const pool = await json(
    ...['subnet', 'pool', 'create', '--pool-prefix', '10.60.0.0/16', '--pool-prefix', '10.61.0.0/16', '--default-prefix-length', '24'],
    ...['--address-scope', 'scope4', '--description', 'pool of two', 'pool4'],
  );
  assert.deepEqual([pool.address_scope_id, pool.default_prefixlen, pool.description], [scope.id, 24, 'pool of two']);
  assert.equal(await ok('subnet', 'pool', 'set', '--pool-prefix', '10.62.0.0/16', '--min-prefix-length', '20', 'pool4'), '');
  assert.equal(await ok('address', 'scope', 'set', '--name', 'scope-four', 'scope4'), '');
  const project = JSON.parse(await osc('project', 'create', '--domain', 'default', 'rbac-target', '-f', 'json'));
  const grant = await json('network', 'rbac', 'create', '--type', 'network', '--action', 'access_as_shared', '--target-project', 'rbac-target', 'private-net');
  assert.deepEqual([grant.object_type, grant.target_project_id, grant.action], ['network', project.id, 'access_as_shared']);

  const listings = [
    ['address', 'scope', 'list'],
    ['address', 'scope', 'show', 'scope-four', '-f', 'json'],
    ['subnet', 'pool', 'list'],
    ['subnet', 'pool', 'list', '--long'],
    ['subnet', 'pool', 'show', 'pool4'],
    ['subnet', 'pool', 'show', 'pool4', '-f', 'json'],
    ['network', 'rbac', 'list', '--long'],
    ['network', 'rbac', 'show', grant.id],
  ];
  for (let i = 0; i < listings.length; i += 4) await Promise.all(listings.slice(i, i + 4).map((args) => same(...args)));
  await sameFailure('address', 'scope', 'delete', 'scope-four');

  assert.equal(await ok('network', 'rbac', 'delete', grant.id), '');
  assert.equal(await ok('subnet', 'pool', 'delete', 'pool4'), '');
  assert.equal(await ok('address', 'scope', 'delete', 'scope-four'), '');
  assert.deepEqual(await json('address', 'scope', 'list'), []);
});
