import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv, cliAs, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs, pings } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { tapName } from '../../src/network/dataplane/driver.ts';

// The meters beyond the guests' own, polled every second on a cloud whose data plane is Linux in a
// namespace standing for the host: a server on the fake hypervisor whose NIC is a veth end in a
// namespace of its own, reached from the host's side through its floating IP. Pings through it
// show in the floating IP's and the router gateway's byte counters; the image's size, the
// server's memory.usage and the volumes' and snapshots' sizes are measured too, and /metrics
// carries Nubo's own health.
let host: Awaited<ReturnType<typeof hostNamespace>>;
let vmNs: string;
let c: TestCloud;
let env: Record<string, string>;
let token: string;

before(async () => {
  host = await hostNamespace('tm');
  vmNs = await host.endpoint('vm');
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 60, networkNetns: host.name, env: { NUBO_TELEMETRY_INTERVAL: '1' } });
  env = adminEnv(c.url, c.cloud.credentials!.password);
  token = await c.adminToken();
});
after(async () => {
  await c?.stop();
  await host?.cleanup();
});

const ok = cliAs(() => env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
/** The newest value of a resource's metric, or undefined while it has none (through the API
 * rather than the CLI: it is polled). */
async function latest(resource: string, metric: string): Promise<number | undefined> {
  const r = await c.request('GET', `/metric/v1/resource/generic/${resource}/metric/${metric}/measures?granularity=1`, { token });
  return r.status === 200 ? (r.body as [string, number, number][]).at(-1)?.[2] : undefined;
}

test('pings through a floating IP are counted on it and on its router’s gateway; image size and memory usage are measured', async () => {
  await seedNetworks(ok);
  const port = await json('port', 'create', '--network', 'private-net', 'vm-port');
  await inNs(host.name, 'ip', 'link', 'add', tapName(port.id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vmNs);
  await inNs(vmNs, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address, 'up');
  await inNs(vmNs, 'ip', 'addr', 'add', `${port.fixed_ips[0].ip_address}/24`, 'dev', 'eth0');
  await inNs(vmNs, 'ip', 'route', 'add', 'default', 'via', '192.168.10.1');

  const img = join(c.dataDir, 'tiny.raw');
  writeFileSync(img, Buffer.alloc(1 << 20));
  const image = await json('image', 'create', 'tiny', '--disk-format', 'raw', '--container-format', 'bare', '--file', img);
  await ok('flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'm1.tiny');
  await ok('security', 'group', 'create', 'pingable');
  await ok('security', 'group', 'rule', 'create', '--proto', 'icmp', 'pingable');
  const server = await json('server', 'create', '--flavor', 'm1.tiny', '--image', 'tiny', '--nic', `port-id=${port.id}`, '--wait', 'vm');
  await ok('server', 'add', 'security', 'group', 'vm', 'pingable');
  const fip = await json('floating', 'ip', 'create', 'public-net');
  await ok('server', 'add', 'floating', 'ip', 'vm', fip.floating_ip_address);
  const router = (await json('router', 'show', 'myrouter')).id as string;
  await eventually('ping through the floating IP', () => pings(host.name, fip.floating_ip_address), 30_000);

  // The counters exist once the collector has seen the floating IP; then 20 pings of 1000 bytes.
  const fipIn = await eventually_('the floating IP metered', () => latest(fip.id, 'ip.floating.incoming.bytes'));
  const fipOut = (await latest(fip.id, 'ip.floating.outgoing.bytes'))!;
  const gwIn = (await latest(router, 'router.gateway.incoming.bytes'))!;
  await inNs(host.name, 'busybox', 'ping', '-c', '20', '-i', '0.05', '-s', '1000', '-W', '1', fip.floating_ip_address);
  // Each echo is 1000 bytes of data plus 8 of ICMP and 20 of IP header, both ways.
  const sent = 20 * 1028;
  await eventually_('the pings counted', async () => ((await latest(fip.id, 'ip.floating.incoming.bytes'))! - fipIn >= sent ? true : undefined));
  assert.ok((await latest(fip.id, 'ip.floating.outgoing.bytes'))! - fipOut >= sent, 'the replies leave through the floating IP');
  assert.ok((await latest(router, 'router.gateway.incoming.bytes'))! - gwIn >= sent, 'the gateway saw them come in');
  const shown = (await c.request('GET', `/metric/v1/resource/network/${fip.id}`, { token })).body;
  assert.equal(shown.type, 'network');
  assert.equal(shown.floating_ip_address, fip.floating_ip_address);

  assert.equal(await eventually_('the image metered', () => latest(image.id, 'image.size')), 1 << 20);
  // The fake guest holds all it was given.
  assert.equal(await eventually_('memory.usage', () => latest(server.id, 'memory.usage')), 64);

  // A floating IP let go is no longer metered: its resource ends.
  await ok('server', 'remove', 'floating', 'ip', 'vm', fip.floating_ip_address);
  await eventually_('the floating IP resource ended', async () => ((await c.request('GET', `/metric/v1/resource/network/${fip.id}`, { token })).body.ended_at ? true : undefined));
});

test('volumes and snapshots are metered by size, and end when deleted', async () => {
  const volume = await json('volume', 'create', '--size', '2', 'vol1');
  await eventually('vol1 available', async () => (await json('volume', 'show', volume.id)).status === 'available', 60_000);
  const snapshot = await json('volume', 'snapshot', 'create', '--volume', 'vol1', 'snap1');
  assert.equal(await eventually_('the volume metered', () => latest(volume.id, 'volume.size')), 2);
  assert.equal(await latest(volume.id, 'volume'), 1);
  assert.equal(await eventually_('the snapshot metered', () => latest(snapshot.id, 'snapshot.size')), 2);
  const shown = (await c.request('GET', `/metric/v1/resource/volume/${volume.id}`, { token })).body;
  assert.equal(shown.display_name, 'vol1');
  assert.equal(shown.volume_type, '__DEFAULT__');
  assert.equal(shown.instance_id, null);

  await ok('volume', 'snapshot', 'delete', 'snap1');
  await eventually('snap1 gone', async () => (await c.request('GET', `/volume/v3/${shown.project_id}/snapshots/${snapshot.id}`, { token })).status === 404, 60_000);
  await ok('volume', 'delete', 'vol1');
  for (const id of [snapshot.id, volume.id])
    await eventually_(`${id}'s resource ended`, async () => ((await c.request('GET', `/metric/v1/resource/volume/${id}`, { token })).body.ended_at ? true : undefined));
});

test('/metrics carries Nubo’s own health: heartbeats, reconcile queues, the API’s answer times per route', async () => {
  await c.request('GET', '/compute/v2.1/servers', { token });
  const text = await (await fetch(`${c.url}/metrics`, { headers: { 'x-auth-token': token } })).text();
  const beat = /^nubo_service_heartbeat_timestamp_seconds\{binary="nova-compute",host="[^"]+"\} ([0-9.]+)$/m.exec(text);
  assert.ok(beat, 'the compute service’s heartbeat');
  assert.ok(Math.abs(Number(beat[1]) * 1000 - Date.now()) < 120_000, `a recent heartbeat: ${beat[1]}`);
  assert.match(text, /^nubo_service_heartbeat_timestamp_seconds\{binary="nubo-network-agent",host="[^"]+",agent_type="DHCP agent"\} [0-9.]+$/m);
  for (const state of ['queued', 'running', 'waiting']) assert.match(text, new RegExp(`^nubo_reconcile_queue_keys\\{controller="network-agent",state="${state}"\\} \\d+$`, 'm'));
  assert.match(text, /^# TYPE nubo_http_request_duration_seconds histogram$/m);
  const count = /^nubo_http_request_duration_seconds_count\{method="GET",route="\/compute\/v2\.1\/servers"\} (\d+)$/m.exec(text);
  assert.ok(count && Number(count[1]) >= 1, 'GET /compute/v2.1/servers counted');
  assert.match(text, /^nubo_http_request_duration_seconds_bucket\{method="GET",route="\/compute\/v2\.1\/servers",le="\+Inf"\} \d+$/m);

  // Only an admin reads it.
  await ok('project', 'create', 'other');
  await ok('user', 'create', '--project', 'other', '--password', 'pw', 'carol');
  await ok('role', 'add', '--project', 'other', '--user', 'carol', 'member');
  const member = await c.login('carol', 'pw', 'other');
  assert.equal((await fetch(`${c.url}/metrics`, { headers: { 'x-auth-token': member } })).status, 403);
});

/** Polls until probe gives a value. */
async function eventually_<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
