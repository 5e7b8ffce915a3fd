// The project's networking as lists with their forms: networks, subnets, routers, floating IPs,
// each made and removed through Neutron's API as the openstack CLI would.
import { api, session } from './api.js';
import { deleteButton, h } from './dom.js';
import { CIDR, folded, form } from './forms.js';

const net = (method, path, body) => api('network', method, path, body);
const mine = () => `project_id=${session().project.id}`;
const named = (r) => r.name || r.id;
const del = (kind, r, onclick) => deleteButton(`${kind} ${named(r)}`, onclick);

/** The project's subnets and the external networks, for the forms' choices. */
const internalSubnets = () => net('GET', `/subnets?${mine()}`).then((b) => b.subnets);
const externalNetworks = () => net('GET', '/networks?router:external=true').then((b) => b.networks);

function checkGateway(value, values) {
  if (!values.cidr) return "A gateway needs the subnet's range.";
  return /^[\d.]+$|^[0-9a-fA-F:]+$/.test(value) ? undefined : 'An IP address inside the range.';
}

const subnetFields = [
  { name: 'subnet', label: 'Subnet name' },
  { name: 'cidr', label: 'Subnet range (CIDR)', pattern: CIDR, title: 'A range such as 10.0.0.0/24', placeholder: '10.0.0.0/24' },
  { name: 'gateway', label: 'Gateway IP (optional)', check: checkGateway },
];

/** The body of a subnet create, from the form's values. */
const subnetBody = (networkId, v) => ({
  subnet: {
    network_id: networkId,
    name: v.subnet || undefined,
    cidr: v.cidr,
    ip_version: v.cidr.includes(':') ? 6 : 4,
    ...(v.gateway ? { gateway_ip: v.gateway } : {}),
  },
});

export const networkViews = {
  networks: {
    title: 'Networks',
    service: 'network',
    async load() {
      const [nets, subnets] = await Promise.all([net('GET', '/networks'), net('GET', '/subnets')]);
      const cidrs = new Map();
      for (const s of subnets.subnets) cidrs.set(s.network_id, [...(cidrs.get(s.network_id) ?? []), s.cidr]);
      return nets.networks.map((n) => ({ ...n, cidrs: cidrs.get(n.id) ?? [] }));
    },
    columns: (act) => [
      ['Name', named],
      ['Subnets', (r) => r.cidrs.join(', ') || '—'],
      ['External', (r) => (r['router:external'] ? 'yes' : 'no')],
      ['Shared', (r) => (r.shared ? 'yes' : 'no')],
      ['Status', (r) => r.status],
      ['Actions', (r) => (r.project_id === session().project.id ? del('network', r, () => act('delete', r)) : '—')],
    ],
    async act(what, r, report) {
      if (!confirm(`Delete network ${named(r)} and its subnets?`)) return;
      await net('DELETE', `/networks/${r.id}`);
      report(`Network ${named(r)} is deleted.`);
    },
    form: async (report, done) =>
      folded(
        'Create a network',
        form(
          'Create a network',
          [{ name: 'name', label: 'Name', required: true }, ...subnetFields],
          async (v) => {
            const n = (await net('POST', '/networks', { network: { name: v.name } })).network;
            if (!v.cidr) return `Network ${v.name} is created.`;
            try {
              await net('POST', '/subnets', subnetBody(n.id, v));
            } catch (err) {
              // Half a network is not what was asked for: it goes, and the subnet's reason is said.
              await net('DELETE', `/networks/${n.id}`).catch(() => undefined);
              throw err;
            }
            return `Network ${v.name} is created with subnet ${v.cidr}.`;
          },
          { report, done },
        ),
      ),
  },

  subnets: {
    title: 'Subnets',
    service: 'network',
    async load() {
      const [subnets, nets] = await Promise.all([net('GET', '/subnets'), net('GET', '/networks')]);
      const names = new Map(nets.networks.map((n) => [n.id, named(n)]));
      return subnets.subnets.map((s) => ({ ...s, network: names.get(s.network_id) ?? s.network_id }));
    },
    columns: (act) => [
      ['Name', named],
      ['Network', (r) => r.network],
      ['Range', (r) => r.cidr],
      ['Gateway', (r) => r.gateway_ip ?? '—'],
      ['DHCP', (r) => (r.enable_dhcp ? 'yes' : 'no')],
      ['Actions', (r) => (r.project_id === session().project.id ? del('subnet', r, () => act('delete', r)) : '—')],
    ],
    async act(what, r, report) {
      if (!confirm(`Delete subnet ${named(r)}?`)) return;
      await net('DELETE', `/subnets/${r.id}`);
      report(`Subnet ${named(r)} is deleted.`);
    },
    async form(report, done) {
      const nets = (await net('GET', `/networks?${mine()}`)).networks;
      return folded(
        'Create a subnet',
        form(
          'Create a subnet',
          [
            { name: 'network', label: 'Network', type: 'select', required: true, options: nets.map((n) => [n.id, named(n)]) },
            { ...subnetFields[0], name: 'subnet', label: 'Name' },
            { ...subnetFields[1], required: true },
            subnetFields[2],
          ],
          async (v) => {
            await net('POST', '/subnets', subnetBody(v.network, v));
            return `Subnet ${v.cidr} is created.`;
          },
          { report, done },
        ),
      );
    },
  },

  routers: {
    title: 'Routers',
    service: 'network',
    async load() {
      const [routers, ports, subnets, nets] = await Promise.all([
        net('GET', '/routers'),
        net('GET', '/ports?device_owner=network:router_interface'),
        net('GET', '/subnets'),
        net('GET', '/networks'),
      ]);
      const cidr = new Map(subnets.subnets.map((s) => [s.id, s.cidr]));
      const netName = new Map(nets.networks.map((n) => [n.id, named(n)]));
      return routers.routers.map((r) => ({
        ...r,
        interfaces: ports.ports
          .filter((p) => p.device_id === r.id)
          .flatMap((p) => p.fixed_ips.map((i) => ({ subnet: i.subnet_id, cidr: cidr.get(i.subnet_id) ?? i.subnet_id }))),
        gateway: r.external_gateway_info ? (netName.get(r.external_gateway_info.network_id) ?? r.external_gateway_info.network_id) : '',
      }));
    },
    columns: (act) => [
      ['Name', named],
      ['External gateway', (r) => r.gateway || '—'],
      ['Interfaces', (r) => r.interfaces.map((i) => i.cidr).join(', ') || '—'],
      ['Status', (r) => r.status],
      ['Actions', (r) => del('router', r, () => act('delete', r))],
    ],
    async act(what, r, report) {
      const detach = r.interfaces.length ? ` and detach it from ${r.interfaces.map((i) => i.cidr).join(', ')}` : '';
      if (!confirm(`Delete router ${named(r)}${detach}?`)) return;
      // Neutron refuses to delete a router that still has interfaces: they go first.
      for (const i of r.interfaces) await net('PUT', `/routers/${r.id}/remove_router_interface`, { subnet_id: i.subnet });
      await net('DELETE', `/routers/${r.id}`);
      report(`Router ${named(r)} is deleted.`);
    },
    async form(report, done) {
      const [externals, subnets] = await Promise.all([externalNetworks(), internalSubnets()]);
      return folded(
        'Create a router',
        form(
          'Create a router',
          [
            { name: 'name', label: 'Name', required: true },
            { name: 'external', label: 'External network', type: 'select', blank: '— none —', options: externals.map((n) => [n.id, named(n)]) },
            { name: 'subnet', label: 'Interface on subnet', type: 'select', blank: '— none —', options: subnets.map((s) => [s.id, `${named(s)} ${s.cidr}`]) },
          ],
          async (v) => {
            const body = { router: { name: v.name, ...(v.external ? { external_gateway_info: { network_id: v.external } } : {}) } };
            const r = (await net('POST', '/routers', body)).router;
            if (v.subnet) await net('PUT', `/routers/${r.id}/add_router_interface`, { subnet_id: v.subnet });
            return `Router ${v.name} is created.`;
          },
          { report, done },
        ),
      );
    },
  },

  'floating-ips': {
    title: 'Floating IPs',
    service: 'network',
    async load() {
      const [fips, ports, servers] = await Promise.all([
        net('GET', '/floatingips'),
        net('GET', `/ports?${mine()}`),
        api('compute', 'GET', '/servers').then((b) => b.servers),
      ]);
      const serverName = new Map(servers.map((s) => [s.id, s.name]));
      const portServer = new Map(ports.ports.map((p) => [p.id, serverName.get(p.device_id)]));
      // The server ports a floating IP may go to: the choices of each row's select.
      const targets = ports.ports
        .filter((p) => serverName.has(p.device_id) && p.fixed_ips.length)
        .map((p) => [p.id, `${serverName.get(p.device_id)} ${p.fixed_ips[0].ip_address}`]);
      return fips.floatingips.map((f) => ({ ...f, server: portServer.get(f.port_id), targets }));
    },
    columns: (act) => [
      ['Address', (r) => r.floating_ip_address],
      ['Fixed IP', (r) => r.fixed_ip_address ?? '—'],
      ['Server', (r) => r.server ?? '—'],
      ['Status', (r) => r.status],
      [
        'Actions',
        (r) =>
          h('div', { class: 'actions' }, [
            r.port_id
              ? h('button', { type: 'button', 'aria-label': `Detach floating IP ${r.floating_ip_address}`, onclick: () => act('detach', r), text: 'Detach' })
              : h(
                  'select',
                  {
                    'aria-label': `Attach floating IP ${r.floating_ip_address} to`,
                    onchange: (ev) => ev.target.value && act('attach', { ...r, to: ev.target.value }),
                  },
                  [h('option', { value: '', text: 'Attach to…' }), ...r.targets.map(([id, text]) => h('option', { value: id, text }))],
                ),
            h('button', {
              type: 'button',
              class: 'danger',
              'aria-label': `Release floating IP ${r.floating_ip_address}`,
              onclick: () => act('release', r),
              text: 'Release',
            }),
          ]),
      ],
    ],
    async act(what, r, report) {
      if (what === 'attach') {
        await net('PUT', `/floatingips/${r.id}`, { floatingip: { port_id: r.to } });
        return report(`Floating IP ${r.floating_ip_address} is attached.`);
      }
      if (what === 'detach') {
        await net('PUT', `/floatingips/${r.id}`, { floatingip: { port_id: null } });
        return report(`Floating IP ${r.floating_ip_address} is detached.`);
      }
      if (!confirm(`Release floating IP ${r.floating_ip_address}?`)) return;
      await net('DELETE', `/floatingips/${r.id}`);
      report(`Floating IP ${r.floating_ip_address} is released.`);
    },
    async form(report, done) {
      const externals = await externalNetworks();
      return folded(
        'Allocate a floating IP',
        form(
          'Allocate a floating IP',
          [
            {
              name: 'network',
              label: 'External network',
              type: 'select',
              required: true,
              options: externals.map((n) => [n.id, named(n)]),
              value: externals[0]?.id,
            },
          ],
          async (v) =>
            `Floating IP ${(await net('POST', '/floatingips', { floatingip: { floating_network_id: v.network } })).floatingip.floating_ip_address} is allocated.`,
          { report, done, button: 'Allocate' },
        ),
      );
    },
  },
};
