// Who may reach the servers and how: security groups with their rules (Neutron), and key pairs
// (Nova), whose private key is handed to the browser once, at creation, and kept nowhere.
import { api, session } from './api.js';
import { deleteButton, h } from './dom.js';
import { CIDR, download, folded, form, portRange } from './forms.js';

const net = (method, path, body) => api('network', method, path, body);

/** A rule in a line, as people read it: "ingress tcp 22 from 0.0.0.0/0". */
export function ruleText(r) {
  const ports = r.port_range_min == null ? '' : r.port_range_min === r.port_range_max ? ` ${r.port_range_min}` : ` ${r.port_range_min}-${r.port_range_max}`;
  const remote = r.remote_group_id ? 'group' : (r.remote_ip_prefix ?? (r.ethertype === 'IPv6' ? '::/0' : '0.0.0.0/0'));
  return `${r.direction} ${r.ethertype} ${r.protocol ?? 'any'}${ports} ${r.direction === 'ingress' ? 'from' : 'to'} ${remote}`;
}

const PROTOCOLS = [
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['icmp', 'ICMP'],
  ['any', 'Any'],
];

export const accessViews = {
  'security-groups': {
    title: 'Security groups',
    service: 'network',
    async load() {
      const [groups, rules] = await Promise.all([
        net('GET', `/security-groups?project_id=${session().project.id}`),
        net('GET', `/security-group-rules?project_id=${session().project.id}`),
      ]);
      return groups.security_groups
        .map((g) => ({ ...g, rules: rules.security_group_rules.filter((r) => r.security_group_id === g.id) }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    columns: (act) => [
      ['Name', (r) => r.name],
      ['Description', (r) => r.description || '—'],
      [
        'Rules',
        (r) =>
          h(
            'ul',
            { class: 'rules', 'aria-label': `Rules of ${r.name}` },
            r.rules.map((rule) =>
              h('li', {}, [
                ruleText(rule),
                ' ',
                h('button', {
                  type: 'button',
                  class: 'danger',
                  'aria-label': `Delete rule ${ruleText(rule)} of ${r.name}`,
                  onclick: () => act('delete-rule', { ...r, rule }),
                  text: '×',
                }),
              ]),
            ),
          ),
      ],
      ['Actions', (r) => (r.name === 'default' ? '—' : deleteButton(`security group ${r.name}`, () => act('delete', r)))],
    ],
    async act(what, r, report) {
      if (what === 'delete-rule') {
        await net('DELETE', `/security-group-rules/${r.rule.id}`);
        return report(`Rule ${ruleText(r.rule)} is deleted from ${r.name}.`);
      }
      if (!confirm(`Delete security group ${r.name}?`)) return;
      await net('DELETE', `/security-groups/${r.id}`);
      report(`Security group ${r.name} is deleted.`);
    },
    async form(report, done, reform) {
      const groups = (await net('GET', `/security-groups?project_id=${session().project.id}`)).security_groups;
      const create = form(
        'Create a security group',
        [
          { name: 'name', label: 'Name', required: true },
          { name: 'description', label: 'Description' },
        ],
        async (v) => {
          await net('POST', '/security-groups', { security_group: { name: v.name, description: v.description } });
          return `Security group ${v.name} is created.`;
        },
        // The rule form's choice of groups is read when it is made: it is made again.
        { report, done: reform },
      );
      const rule = form(
        'Add a rule',
        [
          { name: 'group', label: 'Security group', type: 'select', required: true, options: groups.map((g) => [g.id, g.name]) },
          {
            name: 'direction',
            label: 'Direction',
            type: 'select',
            options: [
              ['ingress', 'Ingress'],
              ['egress', 'Egress'],
            ],
            value: 'ingress',
          },
          { name: 'protocol', label: 'Protocol', type: 'select', options: PROTOCOLS, value: 'tcp' },
          {
            name: 'ports',
            label: 'Port or range',
            placeholder: '22 or 8000-8080',
            check: (value, v) => (['tcp', 'udp'].includes(v.protocol) ? portRange(value) : 'Ports are for TCP and UDP only.'),
          },
          {
            name: 'remote',
            label: 'Remote (CIDR)',
            placeholder: '0.0.0.0/0',
            pattern: CIDR,
            title: 'A range such as 0.0.0.0/0 or 10.0.0.0/8',
          },
        ],
        async (v) => {
          const [min, max] = v.ports ? v.ports.split('-').map((p) => Number(p.trim())) : [];
          const body = {
            security_group_rule: {
              security_group_id: v.group,
              direction: v.direction,
              ethertype: v.remote.includes(':') ? 'IPv6' : 'IPv4',
              ...(v.protocol === 'any' ? {} : { protocol: v.protocol }),
              ...(min ? { port_range_min: min, port_range_max: max ?? min } : {}),
              ...(v.remote ? { remote_ip_prefix: v.remote } : {}),
            },
          };
          const made = (await net('POST', '/security-group-rules', body)).security_group_rule;
          return `Rule ${ruleText(made)} is added.`;
        },
        { report, done, button: 'Add rule' },
      );
      return h('div', {}, [folded('Create a security group', create), folded('Add a rule', rule)]);
    },
  },

  'key-pairs': {
    title: 'Key pairs',
    service: 'compute',
    load: () => api('compute', 'GET', '/os-keypairs').then((b) => b.keypairs.map((k) => k.keypair)),
    columns: (act) => [
      ['Name', (r) => r.name],
      ['Fingerprint', (r) => r.fingerprint],
      ['Type', (r) => r.type ?? 'ssh'],
      ['Actions', (r) => deleteButton(`key pair ${r.name}`, () => act('delete', r))],
    ],
    async act(what, r, report) {
      if (!confirm(`Delete key pair ${r.name}?`)) return;
      await api('compute', 'DELETE', `/os-keypairs/${encodeURIComponent(r.name)}`);
      report(`Key pair ${r.name} is deleted.`);
    },
    form: async (report, done) => {
      const name = { name: 'name', label: 'Name', required: true, pattern: /^[\w .@-]+$/, title: 'Letters, digits, spaces and . _ - @' };
      const create = form(
        'Create a key pair',
        [name],
        async (v) => {
          const k = (await api('compute', 'POST', '/os-keypairs', { keypair: { name: v.name } })).keypair;
          download(`${v.name}.pem`, k.private_key);
          return `Key pair ${v.name} is created; its private key is downloaded as ${v.name}.pem, and Nubo keeps no copy.`;
        },
        { report, done },
      );
      const imported = form(
        'Import a key pair',
        [
          name,
          {
            name: 'key',
            label: 'Public key',
            type: 'textarea',
            required: true,
            placeholder: 'ssh-ed25519 AAAA… user@host',
            check: (value) =>
              /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+( .*)?$/.test(value)
                ? undefined
                : 'An OpenSSH public key: ssh-ed25519 AAAA… or ssh-rsa AAAA…',
          },
        ],
        async (v) => {
          await api('compute', 'POST', '/os-keypairs', { keypair: { name: v.name, public_key: v.key } });
          return `Key pair ${v.name} is imported.`;
        },
        { report, done, button: 'Import' },
      );
      return h('div', {}, [folded('Create a key pair', create), folded('Import a key pair', imported)]);
    },
  },
};
