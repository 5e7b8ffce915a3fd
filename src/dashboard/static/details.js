// One resource's page: an image (its metadata and visibility edited through Glance's JSON patch)
// and a server (power actions, snapshot, floating IPs, the console log followed as it grows).
import { api, session } from './api.js';
import { deleteButton, h } from './dom.js';
import { form } from './forms.js';

const POLL_MS = 3000;
const dl = (rows) =>
  h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v ?? '—')]),
  );

/** Glance's own fields; every other key of an image is a property the user set. */
const CORE = new Set(
  'id name status visibility protected checksum os_hash_algo os_hash_value owner size virtual_size min_ram min_disk created_at updated_at tags self file schema disk_format container_format locations direct_url os_hidden stores'.split(
    ' ',
  ),
);

/** key=value lines into properties; a line that is not one is the field's error. */
function parseProperties(text) {
  const out = {};
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^([^=\s][^=]*?)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`"${line}" is not key=value.`);
    if (CORE.has(m[1])) throw new Error(`${m[1]} is one of Glance's own fields, not a property.`);
    out[m[1]] = m[2];
  }
  return out;
}

/** The JSON patch from an image as it is to the values of the form. */
function patchOf(image, v) {
  const ops = [];
  const set = (key, value) => ops.push({ op: key in image ? 'replace' : 'add', path: `/${key}`, value });
  if (v.name !== (image.name ?? '')) set('name', v.name);
  if (v.visibility !== image.visibility) set('visibility', v.visibility);
  if (Number(v.min_disk) !== image.min_disk) set('min_disk', Number(v.min_disk));
  if (Number(v.min_ram) !== image.min_ram) set('min_ram', Number(v.min_ram));
  if (v.protected !== image.protected) set('protected', v.protected);
  const props = parseProperties(v.properties);
  for (const [k, value] of Object.entries(props)) if (image[k] !== value) set(k, value);
  for (const k of Object.keys(image)) if (!CORE.has(k) && !(k in props)) ops.push({ op: 'remove', path: `/${k}` });
  return ops;
}

/** Mounts an image's page; returns the function that stops it. */
export function imageView(main, id, { report, go }) {
  const body = h('div', { class: 'facts-page' }, h('p', { text: 'Loading…' }));
  const title = h('h1', { text: 'Image' });
  main.replaceChildren(h('section', {}, [h('div', { class: 'toolbar' }, [h('a', { href: '/images', text: '← Images' }), title]), body]));
  const show = async () => {
    let image;
    try {
      image = await api('image', 'GET', `/images/${id}`);
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error', role: 'alert', text: err.message }));
      return;
    }
    title.textContent = `Image ${image.name ?? image.id}`;
    const props = Object.entries(image).filter(([k]) => !CORE.has(k));
    const facts = dl([
      ['ID', image.id],
      ['Status', image.status],
      ['Visibility', image.visibility],
      ['Protected', image.protected ? 'yes' : 'no'],
      ['Formats', `${image.disk_format ?? '—'} / ${image.container_format ?? '—'}`],
      ['Size', image.size == null ? '—' : `${image.size} bytes`],
      ['Minimum disk', `${image.min_disk} GB`],
      ['Minimum RAM', `${image.min_ram} MB`],
      ['Checksum', image.os_hash_value ?? image.checksum],
      ['Owner', image.owner],
      ['Created', image.created_at],
      [
        'Properties',
        props.length
          ? h(
              'ul',
              {},
              props.map(([k, v]) => h('li', { text: `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}` })),
            )
          : '—',
      ],
    ]);
    const owned = image.owner === session().project.id;
    const edit = owned
      ? form(
          'Edit the image',
          [
            { name: 'name', label: 'Name', value: image.name ?? '' },
            {
              name: 'visibility',
              label: 'Visibility',
              type: 'select',
              options: ['private', 'shared', 'community', 'public'].map((v) => [v, v]),
              value: image.visibility,
            },
            { name: 'min_disk', label: 'Minimum disk (GB)', type: 'number', min: 0, value: image.min_disk, required: true },
            { name: 'min_ram', label: 'Minimum RAM (MB)', type: 'number', min: 0, value: image.min_ram, required: true },
            { name: 'protected', label: 'Protected from deletion', type: 'checkbox', value: image.protected },
            {
              name: 'properties',
              label: 'Properties, one key=value a line',
              type: 'textarea',
              value: props
                .filter(([, v]) => typeof v === 'string')
                .map(([k, v]) => `${k}=${v}`)
                .join('\n'),
              check: (text) => {
                try {
                  parseProperties(text);
                  return undefined;
                } catch (err) {
                  return err.message;
                }
              },
            },
          ],
          async (v) => {
            const ops = patchOf(image, v);
            if (!ops.length) return 'Nothing to change.';
            await api('image', 'PATCH', `/images/${id}`, ops, { 'content-type': 'application/openstack-images-v2.1-json-patch' });
            return `Image ${v.name || id} is saved.`;
          },
          { report, done: show, button: 'Save' },
        )
      : h('p', { text: 'This image belongs to another project: it can be used, not changed, from here.' });
    // Deleting is the page's last section, apart from the edit form's Save.
    const remove = owned
      ? [
          h('h2', { text: 'Delete' }),
          h('p', { class: 'hint', text: 'Servers already built from the image keep running.' }),
          deleteButton(
            `image ${image.name ?? id}`,
            async () => {
              if (!confirm(`Delete image ${image.name ?? id}?`)) return;
              try {
                await api('image', 'DELETE', `/images/${id}`);
                report(`Image ${image.name ?? id} is deleted.`);
                go('/images');
              } catch (err) {
                report(err.message, true);
              }
            },
            'Delete this image',
          ),
        ]
      : null;
    body.replaceChildren(h('div', { class: 'card' }, facts), h('h2', { text: 'Edit' }), edit, remove);
  };
  show();
  return () => undefined;
}

const POWER = [
  ['os-stop', 'Stop', ['ACTIVE', 'ERROR']],
  ['os-start', 'Start', ['SHUTOFF']],
  ['reboot', 'Reboot', ['ACTIVE']],
];

/** Mounts a server's page; returns the function that stops its polling. */
export function serverView(main, id, { report, go }) {
  let timer;
  let stopped = false;
  let following = false;
  let lastSig = '';
  const title = h('h1', { text: 'Server' });
  const facts = h('div', { class: 'card' }, h('p', { text: 'Loading…' }));
  const actions = h('div', { class: 'actions' });
  const fips = h('div');
  const log = h('pre', { class: 'console', 'aria-label': 'Console log', tabindex: 0, hidden: true });
  const follow = h('button', {
    type: 'button',
    'aria-pressed': 'false',
    onclick: () => {
      following = !following;
      follow.setAttribute('aria-pressed', String(following));
      follow.textContent = following ? 'Stop following the console log' : 'Follow the console log';
      log.hidden = !following;
      if (following) readLog();
    },
    text: 'Follow the console log',
  });
  const snapshot = form(
    'Snapshot',
    [{ name: 'name', label: 'Snapshot name', required: true }],
    async (v) => {
      await api('compute', 'POST', `/servers/${id}/action`, { createImage: { name: v.name } });
      return `Snapshot ${v.name} is being made; it shows in Images.`;
    },
    { report, button: 'Take a snapshot' },
  );
  // Deleting is the page's last section, away from the power actions a poll redraws.
  const remove = deleteButton(
    'server',
    async () => {
      const name = title.dataset.name ?? id;
      if (!confirm(`Delete server ${name}?`)) return;
      try {
        await api('compute', 'DELETE', `/servers/${id}`);
        report(`Server ${name} is being deleted.`);
        go('/servers');
      } catch (err) {
        report(err.message, true);
      }
    },
    'Delete this server',
  );
  main.replaceChildren(
    h('section', {}, [
      h('div', { class: 'toolbar' }, [h('a', { href: '/servers', text: '← Servers' }), title]),
      facts,
      h('h2', { text: 'Power' }),
      actions,
      h('h2', { text: 'Floating IPs' }),
      fips,
      h('h2', { text: 'Snapshot' }),
      snapshot,
      h('h2', { text: 'Console log' }),
      follow,
      log,
      h('h2', { text: 'Delete' }),
      h('p', { class: 'hint', text: 'The server and its disk go; its volumes are detached and kept.' }),
      remove,
    ]),
  );
  let lastStatus;

  const act = async (body, said) => {
    try {
      await api('compute', 'POST', `/servers/${id}/action`, body);
      report(said);
      refresh();
    } catch (err) {
      report(err.message, true);
    }
  };

  const readLog = async () => {
    if (!following) return;
    try {
      const out = (await api('compute', 'POST', `/servers/${id}/action`, { 'os-getConsoleOutput': { length: 200 } })).output || '(nothing yet)';
      if (log.textContent !== out) {
        // The view stays at the end as lines arrive, unless the reader scrolled up.
        const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.textContent = out;
        if (atEnd) log.scrollTop = log.scrollHeight;
      }
    } catch (err) {
      log.textContent = err.message;
    }
  };

  /** The project's floating IPs on this server, the free ones, and the external networks that a
   * router of one of the server's networks reaches (where a new one can come from). */
  const floating = async () => {
    const [ports, all, routers, ifaces, externals] = await Promise.all([
      api('network', 'GET', `/ports?device_id=${id}`).then((b) => b.ports),
      api('network', 'GET', `/floatingips?project_id=${session().project.id}`).then((b) => b.floatingips),
      api('network', 'GET', '/routers').then((b) => b.routers),
      api('network', 'GET', '/ports?device_owner=network:router_interface').then((b) => b.ports),
      api('network', 'GET', '/networks?router:external=true').then((b) => new Map(b.networks.map((n) => [n.id, n.name || n.id]))),
    ]);
    const nets = new Set(ports.map((p) => p.network_id));
    const reach = new Set(
      routers
        .filter((r) => r.external_gateway_info && ifaces.some((i) => i.device_id === r.id && nets.has(i.network_id)))
        .map((r) => r.external_gateway_info.network_id),
    );
    return {
      ports,
      on: all.filter((f) => ports.some((p) => p.id === f.port_id)),
      free: all.filter((f) => !f.port_id && reach.has(f.floating_network_id)),
      reach: [...reach].map((n) => [n, externals.get(n) ?? n]),
    };
  };

  const drawFloating = ({ ports, on, free, reach }) => {
    const list = on.map((f) =>
      h('li', {}, [
        `${f.floating_ip_address} → ${f.fixed_ip_address} `,
        h('button', {
          type: 'button',
          'aria-label': `Detach floating IP ${f.floating_ip_address}`,
          onclick: async () => {
            try {
              await api('network', 'PUT', `/floatingips/${f.id}`, { floatingip: { port_id: null } });
              report(`Floating IP ${f.floating_ip_address} is detached.`);
              refresh();
            } catch (err) {
              report(err.message, true);
            }
          },
          text: 'Detach',
        }),
      ]),
    );
    const port = ports.find((p) => p.fixed_ips.length);
    const attach =
      port && (free.length || reach.length)
        ? form(
            'Attach a floating IP',
            [
              {
                name: 'fip',
                label: 'Floating IP',
                type: 'select',
                required: true,
                options: [...free.map((f) => [f.id, f.floating_ip_address]), ...reach.map(([n, name]) => [`new:${n}`, `a new one from ${name}`])],
                value: free[0]?.id ?? `new:${reach[0][0]}`,
              },
            ],
            async (v) => {
              const body = { floatingip: { port_id: port.id } };
              const f = v.fip.startsWith('new:')
                ? (await api('network', 'POST', '/floatingips', { floatingip: { floating_network_id: v.fip.slice(4), port_id: port.id } })).floatingip
                : (await api('network', 'PUT', `/floatingips/${v.fip}`, body)).floatingip;
              return `Floating IP ${f.floating_ip_address} is attached to server ${title.dataset.name}.`;
            },
            { report, done: () => ((lastSig = ''), refresh()), button: 'Attach' },
          )
        : h('p', { text: port ? "No router joins this server's networks to an external network." : 'The server has no port yet.' });
    fips.replaceChildren(list.length ? h('ul', { 'aria-label': 'Attached floating IPs' }, list) : h('p', { text: 'None attached.' }), attach);
  };

  const refresh = async () => {
    clearTimeout(timer);
    try {
      const server = (await api('compute', 'GET', `/servers/${id}`)).server;
      if (stopped) return;
      const f = await floating();
      if (stopped) return;
      title.textContent = `Server ${server.name}`;
      title.dataset.name = server.name;
      const sig = JSON.stringify(f);
      facts.replaceChildren(
        dl([
          ['ID', server.id],
          ['Status', h('span', { class: `badge ${server.status.toLowerCase()}`, text: server.status })],
          ['Task', server['OS-EXT-STS:task_state'] ?? '—'],
          ['Image', server.image?.id ? h('a', { href: `/images/${server.image.id}`, text: server.image.id }) : '—'],
          ['Flavor', server.flavor?.original_name ?? server.flavor?.id],
          [
            'Addresses',
            Object.entries(server.addresses ?? {})
              .map(([n, ips]) => `${n}: ${ips.map((i) => i.addr).join(', ')}`)
              .join('; ') || '—',
          ],
          ['Key pair', server.key_name],
          ['Security groups', (server.security_groups ?? []).map((g) => g.name).join(', ') || '—'],
          ['Created', server.created],
        ]),
      );
      remove.setAttribute('aria-label', `Delete server ${server.name}`);
      // Redrawn only when the status changed: a button being reached by keyboard keeps its focus.
      if (server.status !== lastStatus) {
        lastStatus = server.status;
        const offered = POWER.filter(([, , when]) => when.includes(server.status));
        actions.replaceChildren(
          ...offered.map(([what, label]) =>
            h('button', {
              type: 'button',
              'aria-label': `${label} server ${server.name}`,
              onclick: () => act({ [what]: what === 'reboot' ? { type: 'SOFT' } : null }, `${label}: server ${server.name}.`),
              text: label,
            }),
          ),
          offered.length ? null : h('p', { class: 'hint', text: `Nothing to do while the server is ${server.status}.` }),
        );
      }
      // Redrawn only when it changed: a choice being made in the form is not undone by a poll.
      if (sig !== lastSig) {
        lastSig = sig;
        drawFloating(f);
      }
      await readLog();
    } catch (err) {
      if (stopped) return;
      if (err.status === 404) {
        facts.replaceChildren(h('p', { class: 'error', role: 'alert', text: err.message }));
        return;
      }
      report(err.message, true);
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  };
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
