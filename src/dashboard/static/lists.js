// The lists of the project's resources, refreshed while shown, with the main actions.
import { api, has, session, upload } from './api.js';
import { deleteButton, h, table } from './dom.js';
import { folded } from './forms.js';
import { networkViews } from './network.js';
import { accessViews } from './access.js';
import { adminViews } from './admin.js';
import { volumeViews } from './volumes.js';
import { loadBalancerViews } from './loadbalancers.js';

const POLL_MS = 3000;
const gb = (bytes) => (bytes == null ? '—' : `${(bytes / 1024 ** 3).toFixed(2)} GB`);
const addresses = (server) =>
  Object.entries(server.addresses ?? {})
    .map(([net, ips]) => `${net}: ${ips.map((i) => i.addr).join(', ')}`)
    .join('; ') || '—';

/** The launch form: a server from an image, a flavor and a network, validated before it is sent. */
async function launchForm(report, done) {
  const [images, flavors, networks, keypairs, groups] = await Promise.all([
    api('image', 'GET', '/images?limit=1000').then((b) => b.images.filter((i) => i.status === 'active')),
    api('compute', 'GET', '/flavors/detail').then((b) => b.flavors),
    api('network', 'GET', '/networks').then((b) => b.networks.filter((n) => !n['router:external'])),
    api('compute', 'GET', '/os-keypairs').then((b) => b.keypairs.map((k) => k.keypair)),
    api('network', 'GET', `/security-groups?project_id=${session().project.id}`).then((b) => b.security_groups),
  ]);
  const select = (name, label, items, text) =>
    h('label', {}, [
      label,
      h('select', { name, required: true }, [h('option', { value: '', text: '— choose —' }), ...items.map((i) => h('option', { value: i.id, text: text(i) }))]),
    ]);
  const form = h('form', { class: 'launch', 'aria-label': 'Launch a server' }, [
    h('label', {}, ['Name', h('input', { name: 'name', required: true, maxlength: 255, autocomplete: 'off' })]),
    select('image', 'Image', images, (i) => i.name || i.id),
    select('flavor', 'Flavor', flavors, (f) => `${f.name} (${f.vcpus} vCPU, ${f.ram} MB, ${f.disk} GB)`),
    select('network', 'Network', networks, (n) => n.name || n.id),
    h('label', {}, [
      'Key pair',
      h('select', { name: 'key' }, [h('option', { value: '', text: '— none —' }), ...keypairs.map((k) => h('option', { value: k.name, text: k.name }))]),
    ]),
    h('fieldset', {}, [
      h('legend', { text: 'Security groups' }),
      ...groups.map((g) =>
        h('label', { class: 'check' }, [h('input', { type: 'checkbox', name: 'group', value: g.name, checked: g.name === 'default' }), g.name]),
      ),
    ]),
    h('label', {}, ['Count', h('input', { name: 'count', type: 'number', min: 1, max: 50, value: 1, required: true })]),
    h('label', { class: 'wide' }, ['User data', h('textarea', { name: 'userData', rows: 3, placeholder: '#cloud-config' })]),
    h('button', { type: 'submit', text: 'Launch' }),
  ]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const f = new FormData(form);
    const count = Number(f.get('count'));
    const userData = String(f.get('userData') ?? '');
    const server = {
      name: String(f.get('name')).trim(),
      imageRef: f.get('image'),
      flavorRef: f.get('flavor'),
      networks: [{ uuid: f.get('network') }],
      security_groups: f.getAll('group').map((name) => ({ name })),
      ...(f.get('key') ? { key_name: f.get('key') } : {}),
      // Nova takes user data in base64 of its bytes (UTF-8 here).
      ...(userData ? { user_data: btoa(String.fromCharCode(...new TextEncoder().encode(userData))) } : {}),
      ...(count > 1 ? { min_count: count, max_count: count } : {}),
    };
    try {
      await api('compute', 'POST', '/servers', { server });
      report(count > 1 ? `Servers ${server.name}-1 to ${server.name}-${count} are being built.` : `Server ${server.name} is being built.`);
      form.reset();
      done();
    } catch (err) {
      report(err.message, true);
    }
  });
  return form;
}

/** Power actions: what, its label, the statuses it is offered in (Nova refuses it in others). */
const POWER = [
  ['stop', 'Stop', ['ACTIVE', 'ERROR']],
  ['start', 'Start', ['SHUTOFF']],
  ['reboot', 'Reboot', ['ACTIVE']],
];
const ACTIONS = { stop: { 'os-stop': null }, start: { 'os-start': null }, reboot: { reboot: { type: 'SOFT' } } };

/** The upload form: the image is made, then its file streamed to it with a progress bar. */
function uploadForm(report, done) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Upload progress', hidden: true });
  const form = h('form', { class: 'launch', 'aria-label': 'Upload an image' }, [
    h('label', {}, ['File', h('input', { name: 'file', type: 'file', required: true })]),
    h('label', {}, ['Name', h('input', { name: 'name', required: true, maxlength: 255, autocomplete: 'off' })]),
    h('label', {}, [
      'Disk format',
      h(
        'select',
        { name: 'format', required: true },
        ['qcow2', 'raw', 'iso', 'vmdk', 'vdi', 'vhd', 'vhdx'].map((f) => h('option', { value: f, text: f })),
      ),
    ]),
    h('label', {}, [
      'Visibility',
      h(
        'select',
        { name: 'visibility' },
        ['private', 'shared', 'community', 'public'].map((v) => h('option', { value: v, text: v })),
      ),
    ]),
    h('button', { type: 'submit', text: 'Upload' }),
    bar,
  ]);
  // The name follows the file's unless typed.
  form.elements.file.addEventListener('change', () => {
    const file = form.elements.file.files[0];
    if (file && !form.elements.name.value) form.elements.name.value = file.name.replace(/\.(qcow2|img|raw|iso)$/i, '');
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const file = form.elements.file.files[0];
    const name = form.elements.name.value.trim();
    const button = form.querySelector('button');
    button.disabled = true;
    let id;
    try {
      id = (
        await api('image', 'POST', '/images', {
          name,
          disk_format: form.elements.format.value,
          container_format: 'bare',
          visibility: form.elements.visibility.value,
        })
      ).id;
      done();
      bar.hidden = false;
      await upload('image', `/images/${id}/file`, file, (sent, total) => {
        bar.max = total || 1;
        bar.value = sent;
      });
      report(`Image ${name} is uploaded.`);
      form.reset();
    } catch (err) {
      report(`Image ${name}: ${err.message}`, true);
    } finally {
      button.disabled = false;
      bar.hidden = true;
      done();
    }
  });
  return form;
}

const VIEWS = {
  servers: {
    title: 'Servers',
    service: 'compute',
    // Below microversion 2.47 a server names its flavor by id only: the names come from the flavors.
    async load() {
      const [servers, flavors] = await Promise.all([api('compute', 'GET', '/servers/detail'), api('compute', 'GET', '/flavors')]);
      const names = new Map(flavors.flavors.map((f) => [f.id, f.name]));
      return servers.servers.map((r) => ({ ...r, flavorName: r.flavor?.original_name ?? names.get(r.flavor?.id) ?? r.flavor?.id ?? '—' }));
    },
    columns: (act) => [
      ['Name', (r) => h('a', { href: `/servers/${r.id}`, text: r.name })],
      ['Status', (r) => h('span', { class: `badge ${r.status.toLowerCase()}`, text: r.status })],
      ['Addresses', addresses],
      ['Flavor', (r) => r.flavorName],
      [
        'Actions',
        (r) =>
          h('div', { class: 'actions' }, [
            ...POWER.filter(([, , when]) => when.includes(r.status)).map(([what, label]) =>
              h('button', { type: 'button', 'aria-label': `${label} server ${r.name}`, onclick: () => act(what, r), text: label }),
            ),
            deleteButton(`server ${r.name}`, () => act('delete', r)),
          ]),
      ],
    ],
    async act(what, r, report) {
      if (what === 'delete') {
        if (!confirm(`Delete server ${r.name}?`)) return;
        await api('compute', 'DELETE', `/servers/${r.id}`);
        return report(`Server ${r.name} is being deleted.`);
      }
      const [, label] = POWER.find(([w]) => w === what);
      await api('compute', 'POST', `/servers/${r.id}/action`, ACTIONS[what]);
      report(`${label}: server ${r.name}.`);
    },
    form: async (report, done) => folded('Launch a server', await launchForm(report, done)),
  },
  images: {
    title: 'Images',
    service: 'image',
    load: () => api('image', 'GET', '/images?limit=1000').then((b) => b.images),
    columns: (act) => [
      ['Name', (r) => h('a', { href: `/images/${r.id}`, text: r.name ?? r.id })],
      ['Status', (r) => r.status],
      ['Visibility', (r) => r.visibility],
      ['Format', (r) => r.disk_format ?? '—'],
      ['Size', (r) => gb(r.size)],
      ['Actions', (r) => deleteButton(`image ${r.name ?? r.id}`, () => act('delete', r))],
    ],
    async act(what, r, report) {
      if (what !== 'delete' || !confirm(`Delete image ${r.name ?? r.id}?`)) return;
      await api('image', 'DELETE', `/images/${r.id}`);
      report(`Image ${r.name ?? r.id} is deleted.`);
    },
    form: async (report, done) => folded('Upload an image', uploadForm(report, done)),
  },
};

Object.assign(VIEWS, networkViews, accessViews, volumeViews, loadBalancerViews);

Object.assign(VIEWS, adminViews);

/** Mounts the list named `kind` in `main`; returns the function that stops its polling. */
export function listView(main, kind, { report }) {
  const view = VIEWS[kind];
  let timer;
  let stopped = false;
  const body = h('div', { class: 'list', 'aria-busy': 'true' }, h('p', { text: 'Loading…' }));
  const extra = h('div');
  main.replaceChildren(h('section', {}, [h('div', { class: 'toolbar' }, [h('h1', { text: view.title })]), extra, body]));
  if (!has(view.service)) {
    body.replaceChildren(h('p', { text: `This cloud offers no ${view.service} service.` }));
    return () => undefined;
  }
  let last = '';
  const act = async (what, r) => {
    try {
      await view.act(what, r, report);
      refresh();
    } catch (err) {
      report(err.message, true);
    }
  };
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const rows = await view.load();
      if (stopped) return;
      const sig = JSON.stringify(rows);
      if (sig !== last) {
        last = sig;
        body.replaceChildren(table(view.title, view.columns(act), rows));
      }
      body.setAttribute('aria-busy', 'false');
    } catch (err) {
      if (!stopped) body.replaceChildren(h('p', { class: 'error', role: 'alert', text: err.message }));
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  };
  const reform = () => {
    if (!view.form) return;
    view
      .form(report, refresh, () => (refresh(), reform()))
      .then(
        (form) => {
          if (stopped) return;
          // A form made again stays open if it was.
          const open = new Set([...extra.querySelectorAll('details[open] > summary')].map((s) => s.textContent));
          for (const d of form.querySelectorAll?.('details') ?? []) d.open = open.has(d.querySelector('summary').textContent);
          if (form.matches?.('details')) form.open = open.has(form.querySelector('summary').textContent);
          extra.replaceChildren(form);
        },
        (err) => report(err.message, true),
      );
  };
  reform();
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
