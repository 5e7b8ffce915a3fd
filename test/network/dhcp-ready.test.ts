import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { neutronOf } from './client.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';
import { tapName, type Dataplane } from '../../src/network/dataplane/driver.ts';

// A port goes ACTIVE, and so starts its guest, only once its network's dnsmasq answers for it: a
// guest whose DHCP client tries once must get its address, even on an agent busy with a burst of
// port changes. The cloud runs the Linux data plane inside a namespace standing for the host; each
// guest's NIC is a veth whose peer waits, with the port's MAC, in one namespace for all guests.
let host: Awaited<ReturnType<typeof hostNamespace>>;
let guests: string;
let c: TestCloud;
let token: string;

before(async () => {
  host = await hostNamespace('d');
  guests = await host.endpoint('g');
  c = await startTestCloud({ networkNetns: host.name });
  token = await c.adminToken();
});
after(async () => {
  await c?.stop();
  await host?.cleanup();
});

const net = (method: string, path: string, body?: unknown) => neutronOf(c, token).ok(method, path, body);

/** One DHCP try, as a guest whose client gives up at once: the address offered, or undefined. */
async function oneTry(nic: string): Promise<string | undefined> {
  const out = await inNs(guests, 'busybox', 'udhcpc', '-i', nic, '-f', '-q', '-n', '-t', '1', '-T', '2', '-s', '/bin/true').then(
    (r) => r.stdout + r.stderr,
    () => '',
  );
  return /lease of (\S+) obtained/.exec(out)?.[1];
}

test('in a burst of new ports, each is ACTIVE only once dnsmasq answers its one DHCP try; a port without DHCP is not held', async () => {
  const network = (await net('POST', '/networks', { network: { name: 'burst' } })).network;
  await net('POST', '/subnets', { subnet: { network_id: network.id, cidr: '10.50.0.0/24', ip_version: 4 } });
  const quiet = (await net('POST', '/networks', { network: { name: 'no-dhcp' } })).network;
  await net('POST', '/subnets', { subnet: { network_id: quiet.id, cidr: '10.51.0.0/24', ip_version: 4, enable_dhcp: false } });
  await c.cloud.network.agent!.idle();

  // The agent wires a guest's NIC that already exists: each port's tap is made a veth first.
  const dp = c.cloud.network.dataplane as Dataplane;
  const ensurePorts = dp.ensurePorts.bind(dp);
  const nics = new Map<string, string>();
  dp.ensurePorts = async (specs) => {
    for (const spec of specs) {
      if (nics.has(spec.id)) continue;
      const nic = `g${nics.size}`;
      nics.set(spec.id, nic);
      await inNs(host.name, 'ip', 'link', 'add', tapName(spec.id), 'type', 'veth', 'peer', 'name', nic, 'netns', guests);
      await inNs(guests, 'ip', 'link', 'set', nic, 'address', spec.mac, 'up');
    }
    return ensurePorts(specs);
  };

  const hostsFile = `/run/nubo/${host.name}/dhcp/${network.id}/hosts`;
  const compute = { device_owner: 'compute:nova', 'binding:host_id': c.cloud.config.computeHost };
  const N = 24;
  const checks = new Map<string, Promise<{ inHosts: boolean; offered?: string }>>();
  let created = false;
  // The moment a port shows ACTIVE its guest boots, so the port is looked at as often as can be.
  const watching = (async () => {
    for (const end = Date.now() + 120_000; !created || checks.size < N; await new Promise((r) => setTimeout(r, 10))) {
      assert.ok(Date.now() < end, `only ${checks.size} of ${N} ports went ACTIVE`);
      for (const p of (await net('GET', `/ports?network_id=${network.id}&device_owner=compute:nova`)).ports) {
        if (p.status !== 'ACTIVE' || checks.has(p.id)) continue;
        const lease = `${p.mac_address},${p.fixed_ips[0].ip_address}`;
        checks.set(
          p.id,
          (async () => {
            const inHosts = (await readFile(hostsFile, 'utf8').catch(() => '')).split('\n').some((l) => l.split(',').slice(0, 2).join(',') === lease);
            return { inHosts, offered: await oneTry(nics.get(p.id)!) };
          })(),
        );
      }
    }
  })();
  const burst = await Promise.all(Array.from({ length: N }, () => net('POST', '/ports', { port: { network_id: network.id, ...compute } })));
  created = true;
  await watching;

  const failed: string[] = [];
  for (const { port } of burst) {
    const { inHosts, offered } = await checks.get(port.id)!;
    const want = port.fixed_ips[0].ip_address;
    if (!inHosts || offered !== want) failed.push(`${nics.get(port.id)}: in hosts ${inHosts}, offered ${offered ?? 'nothing'} (want ${want})`);
  }
  assert.deepEqual(failed, [], `ports ACTIVE before their DHCP was served:\n${failed.join('\n')}`);

  // A port on a network without DHCP waits for its wiring only.
  const { port } = await net('POST', '/ports', { port: { network_id: quiet.id, ...compute } });
  await eventually('the port without DHCP ACTIVE', async () => (await net('GET', `/ports/${port.id}`)).port.status === 'ACTIVE');

  for (const p of [...burst.map((b) => b.port), port]) await net('DELETE', `/ports/${p.id}`);
  await net('DELETE', `/networks/${network.id}`);
  await net('DELETE', `/networks/${quiet.id}`);
  await c.cloud.network.agent!.idle();
});
