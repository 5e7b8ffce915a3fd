// The project's volumes (Cinder) with what can be done to them: created (empty or from an image),
// attached to a server and detached through Nova as `server add volume` does, extended, deleted.
// The list is polled, so a volume's status follows it from creating to available to in-use.
import { api } from './api.js';
import { deleteButton, h } from './dom.js';
import { folded, form } from './forms.js';

const vol = (method, path, body) => api('volume', method, path, body);
const named = (r) => r.name || r.id;
/** Statuses Cinder is still working in: drawn as the servers' BUILD. */
const BUSY = ['creating', 'attaching', 'detaching', 'extending', 'deleting', 'downloading', 'reserved'];
const badge = (status) =>
  h('span', { class: `badge ${status === 'in-use' || status === 'available' ? 'active' : BUSY.includes(status) ? 'build' : status.startsWith('error') ? 'error' : ''}`, text: status });

/** A size field and its button in a row: the volume grows to the size typed. */
function extendControl(r, act) {
  const size = h('input', { type: 'number', min: r.size + 1, value: r.size + 1, required: true, 'aria-label': `New size of volume ${named(r)} in GB`, class: 'size' });
  return h(
    'form',
    {
      class: 'inline',
      onsubmit: (ev) => {
        ev.preventDefault();
        if (ev.target.reportValidity()) act('extend', { ...r, to: Number(size.value) });
      },
    },
    [size, h('button', { type: 'submit', 'aria-label': `Extend volume ${named(r)}`, text: 'Extend' })],
  );
}

export const volumeViews = {
  volumes: {
    title: 'Volumes',
    service: 'volume',
    async load() {
      const [volumes, servers] = await Promise.all([
        vol('GET', '/volumes/detail').then((b) => b.volumes),
        api('compute', 'GET', '/servers').then(
          (b) => b.servers,
          () => [],
        ),
      ]);
      const names = new Map(servers.map((s) => [s.id, s.name]));
      return volumes
        .map((v) => ({
          ...v,
          on: (v.attachments ?? []).map((a) => ({ id: a.server_id, name: names.get(a.server_id) ?? a.server_id, device: a.device })),
          servers: servers.map((s) => [s.id, s.name]).sort((a, b) => a[1].localeCompare(b[1])),
        }))
        .sort((a, b) => named(a).localeCompare(named(b)));
    },
    columns: (act) => [
      ['Name', named],
      ['Size', (r) => `${r.size} GB`],
      ['Status', (r) => badge(r.status)],
      ['Attached to', (r) => (r.on.length ? r.on.map((s) => h('a', { href: `/servers/${s.id}`, text: `${s.name}${s.device ? ` on ${s.device}` : ''}` })) : '—')],
      [
        'Actions',
        (r) =>
          h('div', { class: 'actions' }, [
            r.status === 'available' && r.servers.length
              ? h(
                  'select',
                  { 'aria-label': `Attach volume ${named(r)} to`, onchange: (ev) => ev.target.value && act('attach', { ...r, to: ev.target.value }) },
                  [h('option', { value: '', text: 'Attach to…' }), ...r.servers.map(([id, text]) => h('option', { value: id, text }))],
                )
              : null,
            ...(r.status === 'in-use'
              ? r.on.map((s) =>
                  h('button', { type: 'button', 'aria-label': `Detach volume ${named(r)} from ${s.name}`, onclick: () => act('detach', { ...r, from: s }), text: 'Detach' }),
                )
              : []),
            r.status === 'available' ? extendControl(r, act) : null,
            ['available', 'error', 'error_extending'].includes(r.status) ? deleteButton(`volume ${named(r)}`, () => act('delete', r)) : null,
          ]),
      ],
    ],
    async act(what, r, report) {
      if (what === 'attach') {
        await api('compute', 'POST', `/servers/${r.to}/os-volume_attachments`, { volumeAttachment: { volumeId: r.id } });
        return report(`Volume ${named(r)} is being attached to ${r.servers.find(([id]) => id === r.to)?.[1] ?? r.to}.`);
      }
      if (what === 'detach') {
        await api('compute', 'DELETE', `/servers/${r.from.id}/os-volume_attachments/${r.id}`);
        return report(`Volume ${named(r)} is being detached from ${r.from.name}.`);
      }
      if (what === 'extend') {
        await vol('POST', `/volumes/${r.id}/action`, { 'os-extend': { new_size: r.to } });
        return report(`Volume ${named(r)} is being extended to ${r.to} GB.`);
      }
      if (!confirm(`Delete volume ${named(r)}? Its data is lost.`)) return;
      await vol('DELETE', `/volumes/${r.id}`);
      report(`Volume ${named(r)} is being deleted.`);
    },
    async form(report, done) {
      const images = await api('image', 'GET', '/images?limit=1000').then(
        (b) => b.images.filter((i) => i.status === 'active'),
        () => [],
      );
      return folded(
        'Create a volume',
        form(
          'Create a volume',
          [
            { name: 'name', label: 'Name', required: true },
            { name: 'size', label: 'Size (GB)', type: 'number', min: 1, value: 1, required: true },
            { name: 'image', label: 'From image', type: 'select', blank: '— empty —', options: images.map((i) => [i.id, i.name || i.id]) },
            { name: 'description', label: 'Description' },
          ],
          async (v) => {
            const volume = { name: v.name, size: Number(v.size), ...(v.image ? { imageRef: v.image } : {}), ...(v.description ? { description: v.description } : {}) };
            await vol('POST', '/volumes', { volume });
            return `Volume ${v.name} is being created.`;
          },
          { report, done },
        ),
      );
    },
  },
};
