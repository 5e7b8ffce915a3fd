// The topology view: the project's graph drawn as SVG, redrawn when a poll finds it changed,
// each node a button that opens its details, and the way in to a server drawn on demand.
import { api, has } from './api.js';
import { G, buildGraph, layout, pathTo } from './graph.js';
import { cut, h, s } from './dom.js';

const POLL_MS = 2000;
const KIND = {
  external: 'external network',
  network: 'network',
  router: 'router',
  server: 'server',
  port: 'port',
  fip: 'floating IP',
  volume: 'volume',
  lb: 'load balancer',
};

/** The project's load balancers, each with the members of its pools (Octavia lists members per
 * pool only: one call per pool that has any, and none at all without load balancers). */
async function loadBalancers() {
  if (!has('load-balancer')) return [];
  const lbs = await api('load-balancer', 'GET', '/lbaas/loadbalancers').then((b) => b.loadbalancers);
  if (!lbs.length) return [];
  const pools = (await api('load-balancer', 'GET', '/lbaas/pools').then((b) => b.pools)).filter((p) => p.members?.length);
  const members = await Promise.all(pools.map((p) => api('load-balancer', 'GET', `/lbaas/pools/${p.id}/members`).then((b) => b.members)));
  return lbs.map((lb) => ({
    ...lb,
    members: pools.flatMap((p, i) => (p.loadbalancers.some((l) => l.id === lb.id) ? members[i] : [])),
  }));
}

/** Every list the graph is made of, read in parallel; a service the cloud lacks adds nothing. */
async function fetchAll() {
  const none = () => [];
  const get = (service, path, key) => (has(service) ? api(service, 'GET', path).then((b) => b[key]) : Promise.resolve([]));
  const [networks, subnets, routers, ports, floatingips, servers, images, volumes, loadbalancers] = await Promise.all([
    get('network', '/networks', 'networks'),
    get('network', '/subnets', 'subnets'),
    get('network', '/routers', 'routers'),
    get('network', '/ports', 'ports'),
    get('network', '/floatingips', 'floatingips'),
    get('compute', '/servers/detail', 'servers'),
    get('image', '/images?limit=1000', 'images').catch(none),
    get('volume', '/volumes/detail', 'volumes').catch(none),
    loadBalancers().catch(none),
  ]);
  return { networks, subnets, routers, ports, floatingips, servers, images, volumes, loadbalancers };
}

function nodeShape(n, p) {
  const label = `${KIND[n.kind]} ${n.name}`;
  const common = { class: `node ${n.kind}`, 'data-id': n.id, tabindex: 0, role: 'button', 'aria-label': label };
  if (n.kind === 'port') {
    return s('g', common, [s('circle', { cx: p.x + p.w / 2, cy: p.y + p.h / 2, r: p.w / 2 }), s('title', { text: label })]);
  }
  const lines = [];
  if (n.kind === 'server') lines.push(n.image ? `${n.image}` : 'no image', n.status ?? '');
  if (n.kind === 'lb') lines.push(`LB ${n.r.vip_address ?? ''} · ${n.r.provisioning_status}`);
  if (n.kind === 'router') lines.push(n.r.external_gateway_info ? 'router, gateway set' : 'router');
  if (n.kind === 'network' || n.kind === 'external') for (const sub of n.subnets.slice(0, 4)) lines.push(sub.cidr);
  const pill = n.kind === 'fip' || n.kind === 'volume';
  // Characters that fit: pills have a smaller font (app.css).
  const chars = Math.floor(p.w / (pill ? 6.4 : 7));
  return s('g', common, [
    s('rect', { x: p.x, y: p.y, width: p.w, height: p.h, rx: pill ? p.h / 2 : 6 }),
    s('text', {
      x: p.x + (pill ? 7 : 10),
      y: p.y + (pill ? 12 : 17),
      class: pill ? 'name pill' : 'name',
      text: cut(pill && n.kind === 'volume' ? `▣ ${n.name}` : n.name, pill ? chars - 1 : chars),
    }),
    n.kind === 'server' ? s('text', { x: p.x + 10, y: p.y + 32, class: 'sub', text: cut(`${lines[0]} · ${lines[1]}`, chars + 4) }) : null,
    n.kind !== 'server' ? lines.map((line, i) => s('text', { x: p.x + 10, y: p.y + 33 + i * 14, class: 'sub', text: cut(line, chars + 4) })) : null,
    n.kind === 'server' ? s('rect', { x: p.x, y: p.y, width: 4, height: p.h, class: `status ${String(n.status).toLowerCase()}` }) : null,
  ]);
}

function edgeShape(e, pos) {
  const a = pos.get(e.from);
  const b = pos.get(e.to);
  if (!a || !b) return null;
  let d;
  if ((e.kind === 'attachment' || e.kind === 'vip') && b.y >= a.y && b.y + b.h <= a.y + a.h) {
    // Along the gap above the port's row, then down to it: each row of a network reads as a bus.
    const rowTop = b.y - ((b.y - a.y) % G.cell.h) + 1;
    d = `M${a.x + a.w},${rowTop} H${b.x + b.w / 2} V${b.y}`;
  } else {
    const x1 = a.x + a.w;
    const y1 = Math.min(Math.max(b.y + b.h / 2, a.y + 10), a.y + a.h - 10);
    const x2 = b.x;
    const y2 = e.kind === 'interface' ? Math.min(Math.max(a.y + a.h / 2, b.y + 10), b.y + b.h - 10) : b.y + b.h / 2;
    const mid = (x1 + x2) / 2;
    d = `M${x1},${e.kind === 'interface' ? a.y + a.h / 2 : y1} C${mid},${e.kind === 'interface' ? a.y + a.h / 2 : y1} ${mid},${y2} ${x2},${y2}`;
  }
  return s('path', { d, class: `edge ${e.kind}`, 'data-from': e.from, 'data-to': e.to });
}

/** The details of one node, with what can be done to it. */
function details(graph, n, { showPath, remove, attach, follow, flavors }) {
  const name = (id) => graph.nodes.get(id)?.name ?? id;
  const rows = [['ID', n.r.id]];
  if (n.kind === 'server') {
    rows.push(['Status', n.status], ['Image', n.image || '—'], ['Flavor', n.r.flavor?.original_name ?? flavors.get(n.r.flavor?.id) ?? n.r.flavor?.id ?? '—']);
    rows.push(['Addresses', n.ports.map((p) => `${graph.nodes.get(p).ip}`).join(', ') || '—']);
    rows.push([
      'Floating IPs',
      n.pills
        .filter((p) => p.startsWith('fip:'))
        .map(name)
        .join(', ') || '—',
    ]);
    rows.push([
      'Volumes',
      n.pills
        .filter((p) => p.startsWith('volume:'))
        .map(name)
        .join(', ') || '—',
    ]);
  } else if (n.kind === 'network' || n.kind === 'external') {
    rows.push(
      ['Subnets', n.subnets.map((x) => `${x.name || x.id} ${x.cidr}`).join(', ') || '—'],
      ['Shared', n.r.shared ? 'yes' : 'no'],
      ['Status', n.r.status],
    );
  } else if (n.kind === 'router') {
    const gw = n.r.external_gateway_info;
    rows.push(
      ['Gateway', gw ? `${name(`external:${gw.network_id}`)} ${(gw.external_fixed_ips ?? []).map((i) => i.ip_address).join(', ')}` : '—'],
      ['Status', n.r.status],
    );
  } else if (n.kind === 'port') {
    rows.push(
      ['IP addresses', (n.r.fixed_ips ?? []).map((i) => i.ip_address).join(', ')],
      ['MAC', n.r.mac_address],
      ['Server', name(n.server)],
      ['Status', n.r.status],
    );
  } else if (n.kind === 'fip') {
    rows.push(['Fixed IP', n.r.fixed_ip_address ?? '—'], ['Server', n.server ? name(n.server) : '—'], ['Status', n.r.status]);
  } else if (n.kind === 'lb') {
    rows.push(
      ['VIP address', n.r.vip_address ?? '—'],
      ['Network', name(`network:${n.r.vip_network_id}`)],
      ['Status', `${n.r.provisioning_status}, ${n.r.operating_status}`],
      ['Members', n.members.map((m) => `${m.server ? name(m.server) : m.address}:${m.port}`).join(', ') || '—'],
    );
  } else if (n.kind === 'volume') {
    rows.push(['Size', `${n.r.size} GB`], ['Status', n.r.status], ['Attached to', n.server ? name(n.server) : '—']);
  }
  const paths = n.kind === 'server' ? pathTo(graph, n.id) : [];
  return [
    h('h2', { id: 'details-title', text: `${KIND[n.kind]} ${n.name}` }),
    h(
      'dl',
      {},
      rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: String(v ?? '—') })]),
    ),
    paths.length ? h('button', { type: 'button', onclick: () => showPath(n.id), text: 'Show the way in from outside' }) : null,
    n.kind === 'server' && !paths.length && n.ports.length ? h('button', { type: 'button', onclick: () => attach(n), text: 'Attach a floating IP' }) : null,
    n.kind === 'server' ? h('button', { type: 'button', onclick: () => follow(n), text: 'Console log' }) : null,
    n.kind === 'server' ? h('button', { type: 'button', class: 'danger', onclick: () => remove(n), text: 'Delete server' }) : null,
  ];
}

/**
 * Allocates a floating IP for a server's first port and associates it, as `floating ip create` and
 * `server add floating ip` do: from the external network of a router on the port's network, since
 * only such a router can translate the address (Neutron refuses the others).
 */
async function attachFloatingIp(graph, server) {
  const port = graph.nodes.get(server.ports[0]);
  const net = graph.edges.find((e) => e.kind === 'attachment' && e.to === port.id)?.from;
  const routers = graph.edges.filter((e) => e.kind === 'interface' && e.to === net).map((e) => e.from);
  const ext = graph.edges.find((e) => e.kind === 'gateway' && routers.includes(e.to))?.from;
  if (!ext) throw new Error(`No router joins ${graph.nodes.get(net)?.name ?? 'its network'} to an external network: add one first.`);
  const body = { floatingip: { floating_network_id: graph.nodes.get(ext).r.id, port_id: port.r.id } };
  return (await api('network', 'POST', '/floatingips', body)).floatingip.floating_ip_address;
}

/** Describes a path in words, for the panel (and whoever cannot see the drawing). */
const describe = (graph, path) => ['Outside', ...path.map((id) => `${KIND[graph.nodes.get(id).kind]} ${graph.nodes.get(id).name}`)].join(' → ');

/** Mounts the view in `main`; returns the function that stops its polling. */
export function topologyView(main, { project, report }) {
  let graph;
  let last = '';
  let selected;
  let path;
  let timer;
  let stopped = false;
  // Servers name their flavor by id below microversion 2.47; the names change rarely enough to read once.
  let flavors = new Map();
  if (has('compute'))
    api('compute', 'GET', '/flavors').then(
      (b) => (flavors = new Map(b.flavors.map((f) => [f.id, f.name]))),
      () => undefined,
    );
  // The server whose console log the panel follows, and its last lines.
  let consoleOf;
  let consoleText = '';
  const status = h('span', { class: 'updated', text: 'Loading…' });
  const svg = s('svg', { role: 'group', 'aria-label': `Topology of project ${project}`, class: 'graph' });
  const canvas = h('div', { class: 'canvas' }, svg);
  const panel = h('aside', { class: 'details', 'aria-labelledby': 'details-title', hidden: true });
  main.replaceChildren(
    h('section', { class: 'topology' }, [
      h('div', { class: 'toolbar' }, [
        h('h1', { text: 'Topology' }),
        status,
        h('button', { type: 'button', onclick: () => ((last = ''), refresh()), text: 'Refresh' }),
      ]),
      h('div', { class: 'split' }, [canvas, panel]),
    ]),
  );

  const mark = () => {
    const on = new Set(path ? pathTo(graph, path).flat() : []);
    for (const el of svg.querySelectorAll('.node')) {
      el.classList.toggle('selected', el.dataset.id === selected);
      el.classList.toggle('on-path', on.has(el.dataset.id));
    }
    for (const el of svg.querySelectorAll('.edge')) el.classList.toggle('on-path', on.has(el.dataset.from) && on.has(el.dataset.to));
  };

  const open = (id) => {
    const n = graph.nodes.get(id);
    if (!n) {
      panel.hidden = true;
      selected = undefined;
      return mark();
    }
    selected = id;
    const showPath = (serverId) => {
      path = serverId;
      mark();
      panel.querySelector('.path')?.remove();
      panel.append(
        h(
          'ol',
          { class: 'path', 'aria-label': 'The way in' },
          pathTo(graph, serverId).map((p) => h('li', { text: describe(graph, p) })),
        ),
      );
    };
    const remove = async (server) => {
      if (!confirm(`Delete server ${server.name}?`)) return;
      try {
        await api('compute', 'DELETE', `/servers/${server.r.id}`);
        report(`Server ${server.name} is being deleted.`);
        refresh();
      } catch (err) {
        report(err.message, true);
      }
    };
    const attach = async (server) => {
      try {
        const address = await attachFloatingIp(graph, server);
        report(`Floating IP ${address} is attached to server ${server.name}.`);
        last = '';
        await refresh();
      } catch (err) {
        report(err.message, true);
      }
    };
    const follow = (server) => {
      consoleOf = server.id;
      consoleText = '';
      open(server.id);
      readConsole();
    };
    const close = () => {
      path = undefined;
      consoleOf = undefined;
      open(undefined);
    };
    panel.replaceChildren(
      h('button', { type: 'button', class: 'close', 'aria-label': 'Close details', onclick: close, text: '×' }),
      ...details(graph, n, { showPath, remove, attach, follow, flavors }).filter(Boolean),
    );
    if (path === id) showPath(id);
    if (consoleOf === id) panel.append(h('pre', { class: 'console', 'aria-label': 'Console log', tabindex: 0, text: consoleText || 'Reading…' }));
    panel.hidden = false;
    mark();
  };

  /** The last lines of the followed server's console, read again at each poll. */
  const readConsole = async () => {
    const n = graph?.nodes.get(consoleOf);
    if (!n || selected !== consoleOf) return;
    try {
      const body = await api('compute', 'POST', `/servers/${n.r.id}/action`, { 'os-getConsoleOutput': { length: 50 } });
      consoleText = body.output || '(nothing yet)';
    } catch (err) {
      consoleText = err.message;
    }
    const pre = panel.querySelector('pre.console');
    if (pre && pre.textContent !== consoleText) {
      pre.textContent = consoleText;
      pre.scrollTop = pre.scrollHeight;
    }
  };

  const draw = () => {
    const focused = document.activeElement?.closest?.('.node')?.dataset.id;
    const l = layout(graph, Math.max(canvas.clientWidth, 900));
    svg.setAttribute('width', l.width);
    svg.setAttribute('height', l.height);
    svg.setAttribute('viewBox', `0 0 ${l.width} ${l.height}`);
    const bands = l.bands.map((b, i) => s('rect', { class: `band ${i % 2 ? 'odd' : ''}`, x: 0, y: b.y - 6, width: l.width, height: b.h + 12 }));
    const loose = l.bands.filter((b) => b.id === 'band:loose').map((b) => s('text', { class: 'band-label', x: l.x.net, y: b.y + 14, text: b.label }));
    // A floating IP sits beside its server: a line to the port would cross the server's box.
    const edges = graph.edges
      .filter((e) => e.kind !== 'nat')
      .map((e) => edgeShape(e, l.pos))
      .filter(Boolean);
    const nodes = [...graph.nodes.values()].filter((n) => l.pos.has(n.id)).map((n) => nodeShape(n, l.pos.get(n.id)));
    svg.replaceChildren(...bands, ...loose, ...edges, ...nodes);
    if (selected) open(graph.nodes.has(selected) ? selected : undefined);
    if (focused) svg.querySelector(`[data-id="${CSS.escape(focused)}"]`)?.focus();
    mark();
  };

  const refresh = async () => {
    clearTimeout(timer);
    // A tab out of sight asks nothing of the cloud; it catches up when shown again.
    if (document.hidden) {
      timer = setTimeout(refresh, POLL_MS);
      return;
    }
    try {
      const data = await fetchAll();
      if (stopped) return;
      const sig = JSON.stringify(data);
      if (sig !== last) {
        last = sig;
        graph = buildGraph(data);
        draw();
      }
      const count = (k, one, many) => {
        const n = [...graph.nodes.values()].filter((x) => x.kind === k).length;
        return `${n} ${n === 1 ? one : many}`;
      };
      status.textContent = `${count('server', 'server', 'servers')}, ${count('network', 'network', 'networks')}, ${count('router', 'router', 'routers')} · updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (stopped) return;
      status.textContent = `Not updated: ${err.message}`;
    }
    if (consoleOf && !stopped) await readConsole();
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  };

  svg.addEventListener('click', (ev) => {
    const node = ev.target.closest?.('.node');
    if (node) open(node.dataset.id);
  });
  svg.addEventListener('keydown', (ev) => {
    const node = ev.target.closest?.('.node');
    if (node && (ev.key === 'Enter' || ev.key === ' ')) {
      ev.preventDefault();
      open(node.dataset.id);
    }
  });
  let width = 0;
  const resize = new ResizeObserver(() => {
    if (graph && Math.abs(canvas.clientWidth - width) > 40) {
      width = canvas.clientWidth;
      draw();
    }
  });
  resize.observe(canvas);
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    resize.disconnect();
  };
}
