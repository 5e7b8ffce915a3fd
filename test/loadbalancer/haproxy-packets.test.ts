import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliAs, cliFails, openstack, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs, sh } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { webServer, type WebServer } from '../helpers/web-server.ts';

// Load balancing end to end with real packets, driven by the real `openstack loadbalancer`
// commands: two namespaces stand for two guests on private-net (a veth each on the network's
// bridge, as a server's tap is), each running busybox httpd that answers its own name; a load
// balancer on their subnet (HAProxy in a namespace of its own, its VIP a Neutron port on the same
// bridge) with an HTTP listener and a ROUND_ROBIN pool, reached from the host through a floating
// IP, which its VIP's own security group opens to the listeners' allowed CIDRs. Its health monitor
// takes a member whose server stopped out of rotation and back in.
let host: Awaited<ReturnType<typeof hostNamespace>>;
let nubo: SpawnedNubo;
let work: string;
let web1: WebServer;
let web2: WebServer;
const HOST = 'lbhost';

before(async () => {
  host = await hostNamespace('lb');
  work = tempDir('nubo-lb-');
  nubo = await startNubo();
});

/** Nubo on this test's data directory (kept across a restart), wired in the host namespace. */
const startNubo = () =>
  spawnNubo({
    dataDir: join(work, 'data'),
    env: {
      ...{ NUBO_COMPUTE_DRIVER: 'fake', NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name },
      ...{ NUBO_PHYSICAL_NETWORKS: 'physnet1:br-ex:172.24.4.1/24', NUBO_COMPUTE_HOST: HOST },
    },
  });

after(async () => {
  if (process.env.NUBO_TEST_SHOW_LOG) console.log(nubo?.output());
  await nubo?.stop();
  await host?.cleanup();
  // The load balancers' namespaces are named after the host namespace: cleanup() took them.
  if (work) rmSync(work, { recursive: true, force: true });
});

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

/** One HTTP GET from the host (br-ex's side), as a user outside the cloud makes it. */
const get = (url: string) => inNs(host.name, 'curl', '-s', '--max-time', '3', url).then((r) => r.stdout.trim());

const statusTree = async (lb: string) => JSON.parse(await ok('loadbalancer', 'status', 'show', lb)).loadbalancer;

test('a load balancer with a floating IP spreads requests over two servers, and its health monitor takes a stopped one out and back', async () => {
  await seedNetworks(ok);
  [web1, web2] = [await webServer({ json, ok }, host, HOST, work, 'web1'), await webServer({ json, ok }, host, HOST, work, 'web2')];
  await web1.start();
  await web2.start();

  const providers = await json('loadbalancer', 'provider', 'list');
  assert.deepEqual(providers.map((p: { name: string }) => p.name), ['nubo']);

  const lb = await json('loadbalancer', 'create', '--name', 'lb1', '--vip-subnet-id', 'private-subnet', '--wait');
  assert.equal(lb.provisioning_status, 'ACTIVE');
  const vipPort = await json('port', 'show', lb.vip_port_id);
  assert.equal(vipPort.device_owner, 'Octavia');
  assert.equal(vipPort.device_id, `lb-${lb.id}`);
  assert.equal(vipPort.fixed_ips[0].ip_address, lb.vip_address);
  assert.ok((await host.list()).includes(`${host.name}-qlb-${lb.id}`), 'the load balancer has a namespace of its own');

  const listener = await json('loadbalancer', 'listener', 'create', '--name', 'l1', '--protocol', 'HTTP', '--protocol-port', '80', '--wait', 'lb1');
  assert.equal(listener.protocol_port, 80);
  const pool = await json('loadbalancer', 'pool', 'create', '--name', 'p1', '--lb-algorithm', 'ROUND_ROBIN', '--listener', 'l1', '--protocol', 'HTTP', '--wait');
  assert.deepEqual(pool.listeners, listener.id);
  const m1 = await json('loadbalancer', 'member', 'create', '--name', 'm1', '--subnet-id', 'private-subnet', '--address', web1.ip, '--protocol-port', '80', '--wait', 'p1');
  const m2 = await json('loadbalancer', 'member', 'create', '--name', 'm2', '--subnet-id', 'private-subnet', '--address', web2.ip, '--protocol-port', '80', '--wait', 'p1');
  assert.equal(m1.provisioning_status, 'ACTIVE');
  assert.equal((await json('loadbalancer', 'show', 'lb1')).provisioning_status, 'ACTIVE');

  const fip = (await json('floating', 'ip', 'create', '--port', lb.vip_port_id, 'public-net')).floating_ip_address as string;
  await eventually('the floating IP answering', async () => /^web[12]$/.test(await get(`http://${fip}/`).catch(() => '')), 30_000);
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) answers.push(await get(`http://${fip}/`));
  assert.deepEqual([...new Set(answers)].sort(), ['web1', 'web2'], `20 requests through the load balancer: ${answers.join(' ')}`);
  assert.ok(answers.filter((a) => a === 'web1').length >= 8, `round robin: ${answers.join(' ')}`);

  // The VIP port has a group of its own, which lets in the listener's port from its allowed CIDRs
  // (anywhere by default) and nothing else.
  const group = await json('security', 'group', 'show', `lb-${lb.id}`);
  const vip = await json('port', 'show', lb.vip_port_id);
  assert.equal(vip.port_security_enabled, true);
  assert.deepEqual(vip.security_group_ids, [group.id]);
  const ingress = async () =>
    (await json('security', 'group', 'rule', 'list', '--ingress', group.id)).map((r: Record<string, string>) => `${r['IP Protocol']} ${r['Port Range']} ${r['IP Range']}`);
  assert.deepEqual(await ingress(), ['tcp 80:80 0.0.0.0/0']);
  const reached = () => get(`http://${fip}/`).then(
    (body) => /^web[12]$/.test(body),
    () => false,
  );
  await ok('loadbalancer', 'listener', 'set', '--allowed-cidr', '10.99.0.0/16', '--wait', 'l1');
  assert.deepEqual((await json('loadbalancer', 'listener', 'show', 'l1')).allowed_cidrs, '10.99.0.0/16');
  await eventually('the machine shut out', async () => !(await reached()), 20_000);
  await ok('loadbalancer', 'listener', 'set', '--allowed-cidr', '172.24.4.0/24', '--allowed-cidr', '10.99.0.0/16', '--wait', 'l1');
  assert.deepEqual((await ingress()).sort(), ['tcp 80:80 10.99.0.0/16', 'tcp 80:80 172.24.4.0/24']);
  await eventually('the machine let in again', reached, 20_000);
  // A rule written into the group by hand goes at the next change: the listeners alone open it.
  await ok('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', group.id);
  await ok('loadbalancer', 'listener', 'unset', '--allowed-cidrs', '--wait', 'l1');
  assert.deepEqual(await ingress(), ['tcp 80:80 0.0.0.0/0']);
  assert.match(await cliFails(nubo.env, 'loadbalancer', 'listener', 'set', '--allowed-cidr', 'not-a-cidr', 'l1'), /allowed_cidrs.*CIDR format/);

  // Without a monitor HAProxy checks nothing: Octavia's NO_MONITOR.
  assert.equal((await json('loadbalancer', 'member', 'show', 'p1', 'm1')).operating_status, 'NO_MONITOR');

  const hm = await json(
    ...['loadbalancer', 'healthmonitor', 'create', '--name', 'hm1', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--max-retries-down', '2'],
    ...['--type', 'HTTP', '--url-path', '/', '--expected-codes', '200', '--wait', 'p1'],
  );
  assert.equal(hm.type, 'HTTP');
  await eventually('both members ONLINE', async () => (await json('loadbalancer', 'member', 'list', 'p1')).every((m: { operating_status: string }) => m.operating_status === 'ONLINE'), 20_000);
  assert.equal((await statusTree('lb1')).operating_status, 'ONLINE');

  await web2.stop();
  // delay × max_retries_down = 2 s for HAProxy, and a poll of the agent.
  await eventually('the stopped member ERROR', async () => (await json('loadbalancer', 'member', 'show', 'p1', m2.id)).operating_status === 'ERROR', 15_000);
  const tree = await statusTree('lb1');
  assert.equal(tree.operating_status, 'DEGRADED');
  assert.equal(tree.listeners[0].pools[0].operating_status, 'DEGRADED');
  for (let i = 0; i < 10; i++) assert.equal(await get(`http://${fip}/`), 'web1');

  await web2.start();
  await eventually('the member back ONLINE', async () => (await json('loadbalancer', 'member', 'show', 'p1', m2.id)).operating_status === 'ONLINE', 15_000);
  assert.equal((await statusTree('lb1')).operating_status, 'ONLINE');

  // Octavia's counters run on across HAProxy's reloads (the monitor's made a new process): every
  // request above, the 20 and the 10 at least.
  await eventually('the counters polled', async () => (await json('loadbalancer', 'stats', 'show', 'lb1')).total_connections >= 30, 30_000);
  assert.ok((await json('loadbalancer', 'stats', 'show', 'lb1')).bytes_out > 0);

  // A change reloads HAProxy (a new process) without cutting the connections the old one holds:
  // a slow request under way ends whole.
  const pidfile = `/run/nubo/${host.name}/lb/${lb.id}/haproxy.pid`;
  const first = readFileSync(pidfile, 'utf8').trim();
  const slow = inNs(host.name, 'curl', '-s', '--max-time', '20', `http://${fip}/cgi-bin/slow`).then(
    (r) => r.stdout,
    (err: Error) => `cut: ${err.message}`,
  );
  await new Promise((r) => setTimeout(r, 1000));
  await ok('loadbalancer', 'member', 'set', '--weight', '2', '--wait', 'p1', 'm1');
  await eventually('HAProxy reloaded', async () => readFileSync(pidfile, 'utf8').trim() !== first, 10_000);
  assert.match(await slow, /^slow web[12]$/m, 'the request under way during the reload ended whole');

  // HAProxy killed: the agent's next poll starts it again, and the floating IP answers.
  const { stdout: pids } = await sh('ip', 'netns', 'pids', `${host.name}-qlb-${lb.id}`);
  for (const pid of pids.split(/\s+/).filter(Boolean)) await sh('kill', '-9', pid);
  await eventually('HAProxy started again', async () => /^web[12]$/.test(await get(`http://${fip}/`).catch(() => '')), 20_000);
  assert.ok(existsSync(pidfile));

  // Nubo killed: HAProxy keeps serving, and the next Nubo adopts it as it runs (same process).
  const running = readFileSync(pidfile, 'utf8').trim();
  await nubo.stop('SIGKILL');
  assert.match(await get(`http://${fip}/`), /^web[12]$/);
  nubo = await startNubo();
  await eventually('the load balancer polled again', async () => (await statusTree('lb1')).operating_status === 'ONLINE');
  assert.equal((await json('loadbalancer', 'show', 'lb1')).provisioning_status, 'ACTIVE');
  assert.equal(readFileSync(pidfile, 'utf8').trim(), running, 'the same HAProxy serves');
  assert.match(await get(`http://${fip}/`), /^web[12]$/);

  // A failover (admin) makes the namespace and HAProxy anew; the floating IP answers again.
  await ok('loadbalancer', 'failover', '--wait', 'lb1');
  assert.notEqual(readFileSync(pidfile, 'utf8').trim(), running, 'a new HAProxy serves');
  await eventually('the floating IP answering after the failover', async () => /^web[12]$/.test(await get(`http://${fip}/`).catch(() => '')), 30_000);

  // Bad input, with Octavia's errors.
  assert.match(await cliFails(nubo.env, 'loadbalancer', 'listener', 'create', '--protocol', 'TCP', '--protocol-port', '80', 'lb1'), /already using protocol_port 80/);
  assert.match(await cliFails(nubo.env, 'loadbalancer', 'listener', 'create', '--protocol', 'HTTP', '--protocol-port', '70000', 'lb1'), /protocol_port|70000/);
  assert.match(
    await cliFails(nubo.env, 'loadbalancer', 'healthmonitor', 'create', '--delay', '1', '--timeout', '5', '--max-retries', '1', '--type', 'TCP', 'p1'),
    /already has a health monitor|timeout/,
  );

  // Cascade delete: the namespace, HAProxy and the VIP port go; the members' servers stay.
  await ok('loadbalancer', 'delete', '--cascade', '--wait', 'lb1');
  assert.ok(!(await host.list()).includes(`${host.name}-qlb-${lb.id}`), 'the namespace is gone');
  assert.ok(!existsSync(pidfile), 'its files are gone');
  assert.match(await cliFails(nubo.env, 'port', 'show', lb.vip_port_id), /No Port found|could not be found/);
  assert.match(await cliFails(nubo.env, 'security', 'group', 'show', group.id), /No SecurityGroup found|could not be found/);
  assert.deepEqual(await json('loadbalancer', 'list'), []);
  assert.equal(await inNs(web1.ns, 'busybox', 'wget', '-q', '-O', '-', `http://${web1.ip}/`).then((r) => r.stdout.trim()), 'web1');
});

test('changes while PENDING_UPDATE are refused, members only go on subnets the project may use, and another project sees nothing', async () => {
  const lb = await json('loadbalancer', 'create', '--name', 'lb2', '--vip-subnet-id', 'private-subnet', '--wait');
  const token = JSON.parse(await ok('token', 'issue', '-f', 'json')).id as string;
  const put = (name: string) =>
    fetch(`${nubo.url}/load-balancer/v2.0/lbaas/loadbalancers/${lb.id}`, {
      method: 'PUT',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ loadbalancer: { name } }),
    });
  // Sent together, so that the second arrives while the first is being applied, whichever the
  // server takes first.
  const both = await Promise.all([put('lb2a'), put('lb2b')]);
  const first = both.find((r) => r.status === 200);
  const second = both.find((r) => r.status !== 200);
  assert.ok(first && second, `one change accepted and one refused: ${both.map((r) => r.status)}`);
  assert.equal((await first.json()).loadbalancer.provisioning_status, 'PENDING_UPDATE');
  assert.equal(second.status, 409);
  assert.match((await second.json()).faultstring, /Invalid state PENDING_UPDATE/);
  await eventually('lb2 ACTIVE again', async () => (await json('loadbalancer', 'show', lb.id)).provisioning_status === 'ACTIVE');

  // Another project: its own network and subnet, a member of the demo project.
  await ok('project', 'create', 'other');
  await ok('user', 'create', '--project', 'other', '--password', 'secret', 'otheruser');
  await ok('role', 'add', '--project', 'other', '--user', 'otheruser', 'member');
  const other = { ...nubo.env, OS_USERNAME: 'otheruser', OS_PASSWORD: 'secret', OS_PROJECT_NAME: 'other' };
  const asOther = cliAs(() => other);
  await asOther('network', 'create', 'other-net');
  const otherSubnet = JSON.parse(await asOther('subnet', 'create', '--network', 'other-net', '--subnet-range', '10.9.0.0/24', 'other-subnet', '-f', 'json'));
  assert.deepEqual(JSON.parse(await asOther('loadbalancer', 'list', '-f', 'json')), []);
  assert.match((await openstack(other, 'loadbalancer', 'show', lb.id)).stderr, /Unable to locate|not found/i);

  // The admin's load balancer may not take a member on a subnet of the other project.
  await ok('loadbalancer', 'pool', 'create', '--name', 'p2', '--lb-algorithm', 'LEAST_CONNECTIONS', '--loadbalancer', lb.id, '--protocol', 'TCP', '--wait');
  assert.match(
    await cliFails(nubo.env, 'loadbalancer', 'member', 'create', '--subnet-id', otherSubnet.id, '--address', '10.9.0.5', '--protocol-port', '80', 'p2'),
    /Subnet .* not found/,
  );
  // A member on another subnet of the project's, which no router reaches: the load balancer gets a
  // leg of its own on it, which goes with the last member there.
  await ok('network', 'create', 'back-net');
  await ok('subnet', 'create', '--network', 'back-net', '--subnet-range', '10.20.0.0/24', 'back-subnet');
  const back = await webServer({ json, ok }, host, HOST, work, 'back1', { network: 'back-net', gateway: '10.20.0.1' });
  await back.start();
  await ok('loadbalancer', 'listener', 'create', '--name', 'l2', '--protocol', 'TCP', '--protocol-port', '8080', '--default-pool', 'p2', '--wait', lb.id);
  const far = await json('loadbalancer', 'member', 'create', '--subnet-id', 'back-subnet', '--address', back.ip, '--protocol-port', '80', '--wait', 'p2');
  const legs = async () => (await json('port', 'list', '--device-owner', 'Octavia', '--network', 'back-net')).length as number;
  assert.equal(await legs(), 1);
  const fip2 = (await json('floating', 'ip', 'create', '--port', lb.vip_port_id, 'public-net')).floating_ip_address as string;
  await eventually('back1 answers through the load balancer', async () => (await get(`http://${fip2}:8080/`).catch(() => '')) === 'back1', 30_000);
  await ok('loadbalancer', 'member', 'delete', '--wait', 'p2', far.id);
  await eventually('the leg gone with its last member', async () => (await legs()) === 0, 30_000);

  // An HTTPS monitor asks over TLS: a member serving TLS is ONLINE, one serving plain HTTP ERROR.
  const certDir = join(work, 'tls');
  mkdirSync(certDir);
  await sh('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=web1', '-days', '1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'));
  spawn('ip', ['netns', 'exec', web1.ns, 'openssl', 's_server', '-quiet', '-www', '-accept', '8443', '-cert', join(certDir, 'cert.pem'), '-key', join(certDir, 'key.pem')], {
    detached: true,
    stdio: 'ignore',
  }).unref();
  await ok('loadbalancer', 'pool', 'create', '--name', 'tls', '--lb-algorithm', 'ROUND_ROBIN', '--loadbalancer', lb.id, '--protocol', 'TCP', '--wait');
  await ok('loadbalancer', 'listener', 'create', '--name', 'l3', '--protocol', 'TCP', '--protocol-port', '8443', '--default-pool', 'tls', '--wait', lb.id);
  const secure = await json('loadbalancer', 'member', 'create', '--subnet-id', 'private-subnet', '--address', web1.ip, '--protocol-port', '8443', '--wait', 'tls');
  const plain = await json('loadbalancer', 'member', 'create', '--subnet-id', 'private-subnet', '--address', web2.ip, '--protocol-port', '80', '--wait', 'tls');
  await ok('loadbalancer', 'healthmonitor', 'create', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--type', 'HTTPS', '--url-path', '/', '--wait', 'tls');
  const state = async (id: string) => (await json('loadbalancer', 'member', 'show', 'tls', id)).operating_status;
  await eventually('the TLS member ONLINE, the plain one ERROR', async () => (await state(secure.id)) === 'ONLINE' && (await state(plain.id)) === 'ERROR', 30_000);

  // Nor may the other project put a load balancer on the admin's subnet (the API says so, not only the CLI).
  const otherToken = JSON.parse(await asOther('token', 'issue', '-f', 'json')).id as string;
  const refused = await fetch(`${nubo.url}/load-balancer/v2.0/lbaas/loadbalancers`, {
    method: 'POST',
    headers: { 'x-auth-token': otherToken, 'content-type': 'application/json' },
    body: JSON.stringify({ loadbalancer: { vip_subnet_id: (await json('subnet', 'show', 'private-subnet')).id } }),
  });
  assert.equal(refused.status, 400);
  assert.match((await refused.json()).faultstring, /Subnet .* not found/);
  const hidden = await fetch(`${nubo.url}/load-balancer/v2.0/lbaas/loadbalancers/${lb.id}`, { headers: { 'x-auth-token': otherToken } });
  assert.equal(hidden.status, 404);
  // A failover is an admin's, even of one's own load balancer.
  const own = JSON.parse(await asOther('loadbalancer', 'create', '--name', 'mine', '--vip-subnet-id', 'other-subnet', '--wait', '-f', 'json'));
  assert.match((await openstack(other, 'loadbalancer', 'failover', own.id)).stderr, /403|Forbidden|not authorized/i);
  await asOther('loadbalancer', 'delete', '--wait', own.id);

  await ok('loadbalancer', 'delete', '--cascade', '--wait', lb.id);
});

test('an L7 rule sends /api to another pool, others redirect and reject, and SOURCE_IP and HTTP_COOKIE persistence keep a client on one member', async () => {
  const web3 = await webServer({ json, ok }, host, HOST, work, 'web3');
  mkdirSync(join(work, 'web3', 'api'));
  writeFileSync(join(work, 'web3', 'api', 'index.html'), 'web3 api\n');
  await web3.start();

  await ok('loadbalancer', 'create', '--name', 'lb3', '--vip-subnet-id', 'private-subnet', '--wait');
  await ok('loadbalancer', 'listener', 'create', '--name', 'l3', '--protocol', 'HTTP', '--protocol-port', '80', '--wait', 'lb3');
  await ok('loadbalancer', 'pool', 'create', '--name', 'web', '--lb-algorithm', 'ROUND_ROBIN', '--listener', 'l3', '--protocol', 'HTTP', '--wait');
  await ok('loadbalancer', 'pool', 'create', '--name', 'api', '--lb-algorithm', 'ROUND_ROBIN', '--loadbalancer', 'lb3', '--protocol', 'HTTP', '--wait');
  for (const [pool, web] of [['web', web1], ['web', web2], ['api', web3]] as const) {
    await ok('loadbalancer', 'member', 'create', '--subnet-id', 'private-subnet', '--address', web.ip, '--protocol-port', '80', '--wait', pool);
  }
  const lb = await json('loadbalancer', 'show', 'lb3');
  const fip = (await json('floating', 'ip', 'create', '--port', lb.vip_port_id, 'public-net')).floating_ip_address as string;
  await eventually('lb3 answering', async () => /^web[12]$/.test(await get(`http://${fip}/`).catch(() => '')), 30_000);

  const policy = await json('loadbalancer', 'l7policy', 'create', '--name', 'to-api', '--action', 'REDIRECT_TO_POOL', '--redirect-pool', 'api', '--wait', 'l3');
  assert.equal(policy.position, 1);
  assert.equal(policy.provisioning_status, 'ACTIVE');
  // octaviaclient's `l7rule create --wait` shows the new rule with its ids swapped (a 404 whatever
  // the server): the load balancer's status is waited for here instead.
  const settled = () => eventually('lb3 ACTIVE', async () => (await json('loadbalancer', 'show', 'lb3')).provisioning_status === 'ACTIVE');
  const rule = await json('loadbalancer', 'l7rule', 'create', '--type', 'PATH', '--compare-type', 'STARTS_WITH', '--value', '/api', policy.id);
  await settled();
  assert.equal(rule.compare_type, 'STARTS_WITH');
  assert.deepEqual((await json('loadbalancer', 'l7policy', 'show', policy.id)).rules, rule.id);
  assert.deepEqual((await json('loadbalancer', 'listener', 'show', 'l3')).l7policies, policy.id);
  // /api reaches the api pool's member only; the rest stays on the default pool.
  for (let i = 0; i < 6; i++) assert.equal(await get(`http://${fip}/api/`), 'web3 api');
  const rest: string[] = [];
  for (let i = 0; i < 6; i++) rest.push(await get(`http://${fip}/`));
  assert.deepEqual([...new Set(rest)].sort(), ['web1', 'web2']);

  // A REJECT and a redirect put before it by position: the first matching policy acts.
  const reject = await json('loadbalancer', 'l7policy', 'create', '--action', 'REJECT', '--wait', 'l3');
  await ok('loadbalancer', 'l7rule', 'create', '--type', 'HEADER', '--key', 'X-Blocked', '--compare-type', 'EQUAL_TO', '--value', 'yes', reject.id);
  await settled();
  const moved = await json('loadbalancer', 'l7policy', 'create', '--action', 'REDIRECT_TO_URL', '--redirect-url', 'http://example.invalid/moved', '--position', '1', '--wait', 'l3');
  await ok('loadbalancer', 'l7rule', 'create', '--type', 'PATH', '--compare-type', 'EQUAL_TO', '--value', '/api/old', moved.id);
  await settled();
  assert.deepEqual(
    (await json('loadbalancer', 'l7policy', 'list')).map((p: { id: string; position: number }) => [p.id, p.position]),
    [[moved.id, 1], [policy.id, 2], [reject.id, 3]],
  );
  const status = (path: string, ...extra: string[]) =>
    inNs(host.name, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--max-time', '3', ...extra, `http://${fip}${path}`).then((r) => r.stdout.trim());
  assert.equal(await status('/api/old'), '302 http://example.invalid/moved');
  assert.equal(await status('/', '-H', 'X-Blocked: yes'), '403');
  assert.equal(await status('/api/', '-H', 'X-Blocked: yes'), '200', 'the earlier policy (to the api pool) wins over the REJECT');
  assert.match(await cliFails(nubo.env, 'loadbalancer', 'pool', 'delete', 'api'), /in use by L7 policy/);
  assert.match(await cliFails(nubo.env, 'loadbalancer', 'l7rule', 'create', '--type', 'HEADER', '--compare-type', 'EQUAL_TO', '--value', 'x', reject.id), /key/);
  await ok('loadbalancer', 'l7policy', 'delete', moved.id);
  await settled();
  assert.equal((await json('loadbalancer', 'l7policy', 'show', policy.id)).position, 1);
  assert.equal(await status('/api/old'), '404', 'the redirect is gone: the api pool answers');

  // SOURCE_IP: one client, many requests, one member.
  await ok('loadbalancer', 'pool', 'set', '--session-persistence', 'type=SOURCE_IP', '--wait', 'web');
  const sticky: string[] = [];
  for (let i = 0; i < 12; i++) sticky.push(await get(`http://${fip}/`));
  assert.equal(new Set(sticky).size, 1, `one member for one source address: ${sticky.join(' ')}`);

  // HTTP_COOKIE: a client that sends back HAProxy's cookie stays; one that does not is balanced.
  await ok('loadbalancer', 'pool', 'set', '--session-persistence', 'type=HTTP_COOKIE', '--wait', 'web');
  assert.match(JSON.stringify((await json('loadbalancer', 'pool', 'show', 'web')).session_persistence), /HTTP_COOKIE/);
  const jar = join(work, 'cookies');
  const withJar = () => inNs(host.name, 'curl', '-s', '--max-time', '3', '-b', jar, '-c', jar, `http://${fip}/`).then((r) => r.stdout.trim());
  const kept: string[] = [];
  for (let i = 0; i < 10; i++) kept.push(await withJar());
  assert.equal(new Set(kept).size, 1, `the cookie keeps one member: ${kept.join(' ')}`);
  assert.match(readFileSync(jar, 'utf8'), /\tSRV\t/);
  const free: string[] = [];
  for (let i = 0; i < 8; i++) free.push(await get(`http://${fip}/`));
  assert.deepEqual([...new Set(free)].sort(), ['web1', 'web2'], `without the cookie, round robin: ${free.join(' ')}`);
  assert.match(
    await cliFails(nubo.env, 'loadbalancer', 'pool', 'set', '--session-persistence', 'type=APP_COOKIE', 'web'),
    /cookie_name/,
  );

  await ok('loadbalancer', 'delete', '--cascade', '--wait', 'lb3');
  assert.deepEqual(await json('loadbalancer', 'l7policy', 'list'), []);
  await web3.stop();
});
