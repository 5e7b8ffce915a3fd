// The project's load balancers (Octavia): where each answers, what it listens on and how many
// members its pools send to, a form that makes one with a listener, a pool of the project's
// servers and a health monitor, and a delete that takes its listeners, pools and members with it.
import { api } from './api.js';
import { deleteButton, h } from './dom.js';
import { folded, form } from './forms.js';

const lb = (method, path, body) => api('load-balancer', method, path, body);
const named = (r) => r.name || r.id;
/** Octavia refuses a change while one is under way. */
const busy = (r) => r.provisioning_status.startsWith('PENDING_');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the load balancer has applied the last change (Octavia takes one at a time). */
async function settled(id, name) {
  for (let waited = 0; waited < 120_000; waited += 500) {
    const { loadbalancer } = await lb('GET', `/lbaas/loadbalancers/${id}`);
    if (loadbalancer.provisioning_status === 'ACTIVE') return;
    if (loadbalancer.provisioning_status === 'ERROR') throw new Error(`Load balancer ${name} went into ERROR.`);
    await sleep(500);
  }
  throw new Error(`Load balancer ${name} is still busy after two minutes.`);
}

/** The project's servers' IPv4 addresses, with the subnet each is on: the members to choose from. */
async function serverAddresses() {
  const [servers, ports] = await Promise.all([
    api('compute', 'GET', '/servers').then(
      (b) => b.servers,
      () => [],
    ),
    api('network', 'GET', '/ports?device_owner=compute:nova').then(
      (b) => b.ports,
      () => [],
    ),
  ]);
  const names = new Map(servers.map((s) => [s.id, s.name]));
  return ports
    .filter((p) => names.has(p.device_id))
    .flatMap((p) => p.fixed_ips.filter((f) => !f.ip_address.includes(':')).map((f) => ({ server: names.get(p.device_id), address: f.ip_address, subnet: f.subnet_id })))
    .sort((a, b) => a.server.localeCompare(b.server));
}

export const loadBalancerViews = {
  'load-balancers': {
    title: 'Load balancers',
    service: 'load-balancer',
    async load() {
      const [lbs, listeners, pools, networks] = await Promise.all([
        lb('GET', '/lbaas/loadbalancers').then((b) => b.loadbalancers),
        lb('GET', '/lbaas/listeners').then((b) => b.listeners),
        lb('GET', '/lbaas/pools').then((b) => b.pools),
        api('network', 'GET', '/networks').then(
          (b) => b.networks,
          () => [],
        ),
      ]);
      const netName = new Map(networks.map((n) => [n.id, n.name || n.id]));
      const of = (list, r) => list.filter((x) => (x.loadbalancers ?? []).some((l) => l.id === r.id));
      return lbs
        .map((r) => ({
          ...r,
          network: netName.get(r.vip_network_id) ?? r.vip_network_id ?? '—',
          ports: of(listeners, r).map((l) => `${l.protocol} ${l.protocol_port}`),
          members: of(pools, r).reduce((n, p) => n + (p.members?.length ?? 0), 0),
        }))
        .sort((a, b) => named(a).localeCompare(named(b)));
    },
    columns: (act) => [
      ['Name', named],
      ['VIP address', (r) => r.vip_address ?? '—'],
      ['Network', (r) => r.network],
      ['Listeners', (r) => r.ports.join(', ') || '—'],
      ['Members', (r) => String(r.members)],
      [
        'Status',
        (r) => h('span', { class: `badge ${r.provisioning_status === 'ACTIVE' ? 'active' : r.provisioning_status === 'ERROR' ? 'error' : 'build'}`, text: `${r.provisioning_status}, ${r.operating_status}` }),
      ],
      ['Actions', (r) => (busy(r) ? '—' : deleteButton(`load balancer ${named(r)}`, () => act('delete', r)))],
    ],
    async act(what, r, report) {
      if (!confirm(`Delete load balancer ${named(r)} with its listeners, pools and members?`)) return;
      await lb('DELETE', `/lbaas/loadbalancers/${r.id}?cascade=true`);
      report(`Load balancer ${named(r)} is being deleted.`);
    },
    async form(report, done) {
      const [all, networks, members] = await Promise.all([
        api('network', 'GET', '/subnets').then(
          (b) => b.subnets,
          () => [],
        ),
        api('network', 'GET', '/networks').then(
          (b) => b.networks,
          () => [],
        ),
        serverAddresses(),
      ]);
      // A VIP goes on one of the project's own networks: an external one is the routers'.
      const external = new Set(networks.filter((n) => n['router:external']).map((n) => n.id));
      const subnets = all.filter((s) => s.ip_version === 4 && !external.has(s.network_id));
      const fields = [
        { name: 'name', label: 'Name', required: true },
        { name: 'subnet', label: 'VIP subnet', type: 'select', required: true, options: subnets.map((s) => [s.id, `${s.name || s.id} (${s.cidr})`]) },
        { name: 'protocol', label: 'Protocol', type: 'select', value: 'HTTP', options: ['HTTP', 'TCP'].map((p) => [p, p]) },
        { name: 'port', label: 'Port', type: 'number', min: 1, max: 65535, value: 80, required: true },
        {
          name: 'algorithm',
          label: 'Balancing',
          type: 'select',
          value: 'ROUND_ROBIN',
          options: [
            ['ROUND_ROBIN', 'round robin'],
            ['LEAST_CONNECTIONS', 'least connections'],
            ['SOURCE_IP', 'by source address'],
          ],
        },
        { name: 'memberPort', label: "Members' port", type: 'number', min: 1, max: 65535, value: 80, required: true },
        ...members.map((m, i) => ({ name: `member${i}`, label: `Member ${m.server} (${m.address})`, type: 'checkbox' })),
        { name: 'monitor', label: 'Check the members’ health', type: 'checkbox', value: true },
      ];
      return folded(
        'Create a load balancer',
        form(
          'Create a load balancer',
          fields,
          async (v) => {
            const chosen = members.filter((_, i) => v[`member${i}`]);
            let id;
            // Each step waits for the one before: Octavia refuses a change while one is applied.
            const step = async (path, body) => {
              const made = await lb('POST', path, body);
              id ??= made.loadbalancer.id;
              await settled(id, v.name);
              return made;
            };
            await step('/lbaas/loadbalancers', { loadbalancer: { name: v.name, vip_subnet_id: v.subnet } });
            const { listener } = await step('/lbaas/listeners', {
              listener: { name: `${v.name}-${v.protocol.toLowerCase()}`, loadbalancer_id: id, protocol: v.protocol, protocol_port: Number(v.port) },
            });
            const { pool } = await step('/lbaas/pools', { pool: { name: `${v.name}-pool`, listener_id: listener.id, protocol: v.protocol, lb_algorithm: v.algorithm } });
            for (const m of chosen) {
              await step(`/lbaas/pools/${pool.id}/members`, { member: { name: m.server, address: m.address, protocol_port: Number(v.memberPort), subnet_id: m.subnet } });
            }
            if (v.monitor) {
              const check = v.protocol === 'HTTP' ? { type: 'HTTP', url_path: '/', expected_codes: '200' } : { type: 'TCP' };
              await step('/lbaas/healthmonitors', { healthmonitor: { pool_id: pool.id, delay: 5, timeout: 5, max_retries: 3, ...check } });
            }
            const count = `${chosen.length} member${chosen.length === 1 ? '' : 's'}`;
            return `Load balancer ${v.name} is ready: ${v.protocol} ${v.port} to ${count}.`;
          },
          { report, done },
        ),
      );
    },
  },
};
