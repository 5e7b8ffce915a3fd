import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';
import { tapName, type Dataplane } from '../../src/network/dataplane/driver.ts';

// The agent wires a burst of new ports in batches, on the Linux data plane inside a namespace
// standing for the host: every port gets its tap on the bridge, its rules and its DHCP lease, in
// far fewer firewall passes than ports; and rules removed from the host behind the agent's back
// come back, by the next batch inside its chains, by the next resync for the jumps into them.
let host: Awaited<ReturnType<typeof hostNamespace>>;
let c: TestCloud;
let token: string;

before(async () => {
  host = await hostNamespace('a');
  c = await startTestCloud({ networkNetns: host.name });
  token = await c.adminToken();
});
after(async () => {
  await c?.stop();
  await host?.cleanup();
});

const net = (method: string, path: string, body?: unknown) => neutronOf(c, token).ok(method, path, body);
const settle = () => c.cloud.network.agent!.idle();
const iptables = async (...args: string[]) => (await inNs(host.name, 'iptables', '-w', '5', ...args)).stdout;

test('a burst of ports is wired in batches, each filtered and served; what is removed behind the agent comes back', async () => {
  const network = (await net('POST', '/networks', { network: { name: 'batch' } })).network;
  await net('POST', '/subnets', { subnet: { network_id: network.id, cidr: '10.60.0.0/24', ip_version: 4 } });
  await settle();
  const dp = c.cloud.network.dataplane as Dataplane;
  const apply = dp.applyFirewall.bind(dp);
  let applies = 0;
  dp.applyFirewall = async (ports, opts) => (applies++, apply(ports, opts));

  const N = 40;
  const compute = { device_owner: 'compute:nova', 'binding:host_id': c.cloud.config.computeHost };
  const burst = (await Promise.all(Array.from({ length: N }, () => net('POST', '/ports', { port: { network_id: network.id, ...compute } })))).map(
    (r) => r.port,
  );
  await eventually(
    'every port ACTIVE',
    async () => (await net('GET', `/ports?network_id=${network.id}&device_owner=compute:nova`)).ports.every((p: any) => p.status === 'ACTIVE'),
    60_000,
  );
  assert.ok(applies < N / 4, `${applies} firewall passes for ${N} ports`);

  const taps = JSON.parse((await inNs(host.name, 'ip', '-json', '-details', 'link', 'show', 'type', 'tun')).stdout) as { ifname: string; master?: string }[];
  const bridge = `brq${network.id.slice(0, 11)}`;
  for (const p of burst) assert.ok(taps.some((t) => t.ifname === tapName(p.id) && t.master === bridge), `${tapName(p.id)} on ${bridge}`);
  const chains = await iptables('-S');
  const ingress = (id: string) => `${host.name}-i${id.slice(0, 11)}`;
  for (const p of burst) assert.ok(chains.includes(`-N ${ingress(p.id)}\n`), `${ingress(p.id)} made`);
  const served = new Set((await dp.servedLeases(network.id)).map((l) => `${l.mac} ${l.ip}`));
  for (const p of burst) assert.ok(served.has(`${p.mac_address} ${p.fixed_ips[0].ip_address}`), `${p.mac_address} served`);

  // The default group lets its members in through its set: no port's chain grows with the group.
  assert.ok((await iptables('-S', ingress(burst[0].id))).trim().split('\n').length < 10, 'a chain holds no rule per member');

  // Behind the agent's back: a port's chain emptied, the jump into all of them gone.
  const [first, second] = [ingress(burst[0].id), ingress(burst[1].id)];
  // Alike but for its name: the same default group, whose members each port's chain names.
  const whole = async () => (await iptables('-S', second)).replaceAll(second, first);
  const jump = ['FORWARD', '-j', `${host.name}-FORWARD`];
  await iptables('-F', first);
  await iptables('-D', ...jump);
  // The next batch writes every chain of ours whole…
  const { port: late } = await net('POST', '/ports', { port: { network_id: network.id, ...compute } });
  await eventually('the late port ACTIVE', async () => (await net('GET', `/ports/${late.id}`)).port.status === 'ACTIVE');
  assert.equal(await iptables('-S', first), await whole(), 'the emptied chain is whole again');
  // …and the resync reads the host again, which brings back the jump.
  c.cloud.network.agent!.resync();
  await settle();
  await iptables('-C', ...jump);

  dp.applyFirewall = apply;
  for (const p of [...burst, late]) await net('DELETE', `/ports/${p.id}`);
  await net('DELETE', `/networks/${network.id}`);
  await settle();
  assert.deepEqual(JSON.parse((await inNs(host.name, 'ip', '-json', 'link', 'show', 'type', 'tun')).stdout || '[]'), [], 'every tap gone');
});
