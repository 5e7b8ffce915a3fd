// The project's topology as a graph, and its layout: pure functions of what the APIs listed, so
// that the drawing (topology.js) only turns positions into SVG.
//
// Layered from the outside in, left to right: external networks, routers, then one horizontal band
// per network holding its load balancers and servers in a grid, each server with its ports on its
// left and its floating IPs and volumes on its right. Bands stack vertically and the page scrolls, so that 200
// servers on 20 networks stay as readable as 2 on 1.

export const G = {
  pad: 16,
  ext: { w: 140, h: 44 },
  router: { w: 130, h: 40 },
  net: { w: 160 },
  /** Between one column and the next, where the edges run. */
  gap: 36,
  cell: { w: 244, h: 58 },
  server: { dx: 14, w: 134, h: 40 },
  pill: { dx: 154, w: 86, h: 16, gap: 2, max: 3 },
  bandGap: 14,
};

// vm-2 before vm-10, as people count.
const collator = new Intl.Collator(undefined, { numeric: true });
const byName = (a, b) => collator.compare(a.name || a.id, b.name || b.id);
const isServerPort = (p) => (p.device_owner ?? '').startsWith('compute:');
const isRouterPort = (p) =>
  ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface'].includes(p.device_owner);

/**
 * Nodes and edges from the lists: { networks, subnets, routers, ports, floatingips, servers,
 * images, volumes, loadbalancers (each with its pools' members) }. Node ids are the resources' ids prefixed with their kind.
 */
export function buildGraph(d) {
  const nodes = new Map();
  const edges = [];
  const add = (kind, r, name, extra = {}) => nodes.set(`${kind}:${r.id}`, { id: `${kind}:${r.id}`, kind, name: name || r.id, r, ...extra });
  const images = new Map((d.images ?? []).map((i) => [i.id, i.name]));
  const subnetsOf = new Map();
  for (const s of d.subnets ?? []) subnetsOf.set(s.network_id, [...(subnetsOf.get(s.network_id) ?? []), s]);

  const networks = [...(d.networks ?? [])].sort(byName);
  for (const n of networks) {
    const subnets = (subnetsOf.get(n.id) ?? []).sort(byName);
    add(n['router:external'] ? 'external' : 'network', n, n.name, { subnets });
  }
  for (const r of [...(d.routers ?? [])].sort(byName)) {
    add('router', r, r.name);
    const gw = r.external_gateway_info?.network_id;
    if (gw && nodes.has(`external:${gw}`)) edges.push({ from: `external:${gw}`, to: `router:${r.id}`, kind: 'gateway' });
  }
  for (const p of d.ports ?? []) {
    const net = nodes.get(`network:${p.network_id}`) ?? nodes.get(`external:${p.network_id}`);
    if (isRouterPort(p) && nodes.has(`router:${p.device_id}`) && net) {
      edges.push({ from: `router:${p.device_id}`, to: net.id, kind: 'interface' });
    }
  }
  const servers = [...(d.servers ?? [])].sort(byName);
  const portsOf = new Map();
  for (const p of d.ports ?? []) if (isServerPort(p)) portsOf.set(p.device_id, [...(portsOf.get(p.device_id) ?? []), p]);
  for (const s of servers) {
    const image = typeof s.image === 'object' && s.image ? (images.get(s.image.id) ?? s.image.id) : '';
    add('server', s, s.name, { image, status: s.status, ports: [], pills: [] });
    for (const p of (portsOf.get(s.id) ?? []).sort((a, b) => a.id.localeCompare(b.id))) {
      const ip = p.fixed_ips?.[0]?.ip_address ?? '';
      add('port', p, p.name || ip || p.id, { ip, server: `server:${s.id}` });
      nodes.get(`server:${s.id}`).ports.push(`port:${p.id}`);
      const net = nodes.get(`network:${p.network_id}`) ?? nodes.get(`external:${p.network_id}`);
      if (net) edges.push({ from: net.id, to: `port:${p.id}`, kind: 'attachment' });
    }
  }
  const portOwner = new Map();
  for (const n of nodes.values()) if (n.kind === 'port') portOwner.set(n.r.id, n.server);
  // A load balancer sits on its VIP's network like a server; a member is the server whose port
  // holds its address (on its subnet when the member names one).
  const serverAt = new Map();
  for (const n of nodes.values()) {
    if (n.kind !== 'port') continue;
    for (const ip of n.r.fixed_ips ?? []) serverAt.set(`${ip.subnet_id} ${ip.ip_address}`, n.server).set(ip.ip_address, n.server);
  }
  for (const lb of [...(d.loadbalancers ?? [])].sort(byName)) {
    const members = (lb.members ?? []).map((m) => ({ address: m.address, port: m.protocol_port, server: serverAt.get(m.subnet_id ? `${m.subnet_id} ${m.address}` : m.address) }));
    add('lb', lb, lb.name, { members, ports: [], pills: [], net: nodes.has(`network:${lb.vip_network_id}`) ? `network:${lb.vip_network_id}` : undefined });
    if (nodes.get(`lb:${lb.id}`).net) edges.push({ from: `network:${lb.vip_network_id}`, to: `lb:${lb.id}`, kind: 'vip' });
    for (const server of new Set(members.map((m) => m.server).filter(Boolean))) edges.push({ from: `lb:${lb.id}`, to: server, kind: 'member' });
  }
  const loose = [];
  for (const f of d.floatingips ?? []) {
    const server = f.port_id ? portOwner.get(f.port_id) : undefined;
    add('fip', f, f.floating_ip_address, { server });
    if (server) {
      nodes.get(server).pills.push(`fip:${f.id}`);
      edges.push({ from: `fip:${f.id}`, to: `port:${f.port_id}`, kind: 'nat' });
    } else loose.push(`fip:${f.id}`);
  }
  for (const v of [...(d.volumes ?? [])].sort(byName)) {
    const server = (v.attachments ?? []).map((a) => `server:${a.server_id}`).find((id) => nodes.has(id));
    add('volume', v, v.name, { server });
    if (server) nodes.get(server).pills.push(`volume:${v.id}`);
    else loose.push(`volume:${v.id}`);
  }
  return { nodes, edges, loose };
}

/** Spreads boxes of height h wanting centres `want` so that none overlap, in order, from `top`. */
function spread(items, h, gap, top) {
  items.sort((a, b) => a.want - b.want);
  let next = top;
  for (const it of items) {
    it.y = Math.max(next, it.want - h / 2);
    next = it.y + h + gap;
  }
}

/** Positions for every node ({x, y, w, h}), the bands, and the drawing's size, for a width. */
export function layout(graph, width) {
  const { nodes, edges, loose } = graph;
  const pos = new Map();
  // Columns only for what the project has: a project without routers gives its servers the room.
  const kinds = new Set([...nodes.values()].map((n) => n.kind));
  const x = { ext: G.pad };
  x.router = x.ext + (kinds.has('external') ? G.ext.w + G.gap : 0);
  x.net = x.router + (kinds.has('router') ? G.router.w + G.gap : 0);
  x.cells = x.net + G.net.w + G.gap;
  const cols = Math.max(1, Math.floor((width - x.cells - G.pad) / G.cell.w));
  // A server's band is its first port's network (the network it was launched on).
  const bands = [];
  const bandOf = new Map();
  for (const n of nodes.values()) {
    if (n.kind !== 'network') continue;
    const band = { id: n.id, label: n.name, servers: [] };
    bands.push(band);
    bandOf.set(n.id, band);
  }
  const unplugged = { id: 'band:none', label: 'Not on a network', servers: [] };
  // Load balancers first in their VIP's band, the servers they send to after them.
  for (const n of nodes.values()) if (n.kind === 'lb') (bandOf.get(n.net) ?? unplugged).servers.push(n);
  for (const n of nodes.values()) {
    if (n.kind !== 'server') continue;
    const first = n.ports.map((p) => edges.find((e) => e.to === p && e.kind === 'attachment')?.from).find(Boolean);
    (bandOf.get(first) ?? unplugged).servers.push(n);
  }
  if (unplugged.servers.length) bands.push(unplugged);

  let y = G.pad;
  const bandBoxes = [];
  for (const band of bands) {
    const net = nodes.get(band.id);
    const rows = Math.max(1, Math.ceil(band.servers.length / cols));
    const netH = net ? 44 + 14 * Math.min(net.subnets.length, 4) : 0;
    const h = Math.max(netH, rows * G.cell.h);
    if (net) pos.set(net.id, { x: x.net, y, w: G.net.w, h });
    band.servers.forEach((s, i) => {
      const cx = x.cells + (i % cols) * G.cell.w;
      const cy = y + Math.floor(i / cols) * G.cell.h;
      pos.set(s.id, { x: cx + G.server.dx, y: cy + 4, w: G.server.w, h: G.server.h });
      const ports = s.ports;
      // Stacked on the server's left side, centred on it.
      const first = cy + 4 + G.server.h / 2 - (Math.min(ports.length, 3) * 12) / 2;
      ports.slice(0, 3).forEach((p, k) => pos.set(p, { x: cx + 2, y: first + k * 12 + 1, w: 10, h: 10 }));
      s.pills.slice(0, G.pill.max).forEach((p, k) => pos.set(p, { x: cx + G.pill.dx, y: cy + 4 + k * (G.pill.h + G.pill.gap), w: G.pill.w, h: G.pill.h }));
    });
    bandBoxes.push({ id: band.id, label: band.label, y, h });
    y += h + G.bandGap;
  }
  // Floating IPs on no port and volumes on no server: a band of their own, at the bottom.
  if (loose.length) {
    const per = Math.max(1, Math.floor((width - x.cells - G.pad) / (G.pill.w + 8)));
    const rows = Math.ceil(loose.length / per);
    loose.forEach((id, i) =>
      pos.set(id, { x: x.cells + (i % per) * (G.pill.w + 8), y: y + 4 + Math.floor(i / per) * (G.pill.h + 8), w: G.pill.w, h: G.pill.h }),
    );
    const h = rows * (G.pill.h + 8) + 8;
    bandBoxes.push({ id: 'band:loose', label: 'Not attached', y, h });
    y += h + G.bandGap;
  }

  // Routers next to the networks they join; external networks next to their routers.
  const centre = (id) => pos.get(id).y + pos.get(id).h / 2;
  const routers = [...nodes.values()].filter((n) => n.kind === 'router');
  const rItems = routers.map((r) => {
    const nets = edges.filter((e) => e.from === r.id && e.kind === 'interface' && pos.has(e.to)).map((e) => centre(e.to));
    return { id: r.id, want: nets.length ? nets.reduce((a, b) => a + b, 0) / nets.length : G.pad };
  });
  spread(rItems, G.router.h, 12, G.pad);
  for (const it of rItems) pos.set(it.id, { x: x.router, y: it.y, w: G.router.w, h: G.router.h });
  const exts = [...nodes.values()].filter((n) => n.kind === 'external');
  const eItems = exts.map((x) => {
    const rs = edges.filter((e) => e.from === x.id && e.kind === 'gateway').map((e) => centre(e.to));
    return { id: x.id, want: rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : G.pad };
  });
  spread(eItems, G.ext.h + 14, 12, G.pad);
  for (const it of eItems) pos.set(it.id, { x: x.ext, y: it.y, w: G.ext.w, h: G.ext.h + 14 * Math.min(nodes.get(it.id).subnets.length, 2) });

  let bottom = y;
  for (const p of pos.values()) bottom = Math.max(bottom, p.y + p.h + G.pad);
  return { pos, bands: bandBoxes, width: Math.max(width, x.cells + cols * G.cell.w + G.pad), height: bottom, cols, x };
}

/**
 * The way in from outside to a server, through each of its floating IPs: the external network,
 * the router that translates the address, the internal network, the port and the server. Neutron
 * names the router on the floating IP; a router on both networks stands in when it does not.
 */
export function pathTo(graph, serverId) {
  const { nodes, edges } = graph;
  const server = nodes.get(serverId);
  const paths = [];
  for (const pill of server?.pills ?? []) {
    const fip = nodes.get(pill);
    if (fip.kind !== 'fip') continue;
    const port = nodes.get(`port:${fip.r.port_id}`);
    const net = edges.find((e) => e.to === port?.id && e.kind === 'attachment')?.from;
    const ext = `external:${fip.r.floating_network_id}`;
    let router = fip.r.router_id ? `router:${fip.r.router_id}` : undefined;
    if (!router || !nodes.has(router)) {
      router = edges.find((e) => e.kind === 'gateway' && e.from === ext && edges.some((i) => i.kind === 'interface' && i.from === e.to && i.to === net))?.to;
    }
    paths.push([ext, fip.id, router, net, port?.id, serverId].filter((id) => id && nodes.has(id)));
  }
  return paths;
}
