// The project's load balancers (Octavia): where each answers, what it listens on and how many
// members its pools send to, and a delete that takes its listeners, pools and members with it.
import { api } from './api.js';
import { deleteButton, h } from './dom.js';

const lb = (method, path) => api('load-balancer', method, path);
const named = (r) => r.name || r.id;
/** Octavia refuses a change while one is under way. */
const busy = (r) => r.provisioning_status.startsWith('PENDING_');

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
  },
};
