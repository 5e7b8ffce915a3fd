import type { RouterSpec } from '../driver.ts';
import { isV4 } from './cidr.ts';
import { networkRecord } from './bridge.ts';
import type { Context } from './context.ts';
import { ensureLeg, ip, links, type Leg } from './links.ts';
import { natRuleset } from './nat.ts';
import { gatewayLeg, namespaces, routerLeg } from './names.ts';
import { deleteNamespace, ensureNamespace, listNamespaces } from './netns.ts';

// A router is a namespace that forwards, with a veth leg on each network it is attached to and
// NAT on its gateway leg. Every call converges from whatever it finds: legs no longer in the spec
// go, missing ones are made again.

/** `ip -json route` prints a host route without its prefix and the default route as `default`. */
const routeKey = (dst: string, via: string) => {
  const v4 = isV4(via);
  const full = dst === 'default' ? (v4 ? '0.0.0.0/0' : '::/0') : dst.includes('/') ? dst : `${dst}/${v4 ? 32 : 128}`;
  return `${full} ${via}`;
};

/** Gives the namespace exactly these routes among those it marked `proto static` (the kernel's own
 * connected routes are left alone). */
async function setRoutes(ctx: Context, netns: string, wanted: RouterSpec['routes']): Promise<void> {
  const want = new Map(wanted.map((r) => [routeKey(r.destination, r.nexthop), r]));
  for (const family of ['-4', '-6']) {
    const { stdout } = await ip(ctx.sh, netns, [family, '-json', 'route', 'show', 'proto', 'static']);
    const have = stdout.trim() ? (JSON.parse(stdout) as { dst: string; gateway?: string }[]) : [];
    for (const r of have) {
      if (!r.gateway || !want.delete(routeKey(r.dst, r.gateway))) {
        await ip(ctx.sh, netns, [family, 'route', 'del', r.dst, ...(r.gateway ? ['via', r.gateway] : []), 'proto', 'static']);
      }
    }
  }
  for (const r of want.values()) {
    await ip(ctx.sh, netns, [isV4(r.nexthop) ? '-4' : '-6', 'route', 'replace', r.destination, 'via', r.nexthop, 'proto', 'static']);
  }
}

export async function ensureRouter(ctx: Context, spec: RouterSpec): Promise<void> {
  const ns = namespaces(ctx.prefix).router(spec.id);
  await ensureNamespace(ctx.sh, ns);
  await ctx.sh.in(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);

  const legOf = async (names: { inside: string; outside: string }, networkId: string, mac: string, addresses: string[]): Promise<Leg> => {
    const { bridge, mtu } = await networkRecord(ctx, networkId);
    return { netns: ns, ...names, bridge, mtu, mac, addresses };
  };
  const legs = await Promise.all(spec.interfaces.map((i) => legOf(routerLeg(i.portId), i.networkId, i.mac, i.addresses)));
  const gw = spec.gateway;
  // Each floating IP is an address of the gateway leg, so that the router answers ARP for it on the external network.
  const gwLeg = gw && (await legOf(gatewayLeg(gw.portId), gw.networkId, gw.mac, [...gw.addresses, ...spec.floatingIps.map((f) => `${f.floatingIp}/32`)]));
  const all = gwLeg ? [...legs, gwLeg] : legs;

  for (const name of (await links(ctx.sh, ns)).keys()) {
    if (/^q[rg]-/.test(name) && !all.some((l) => l.inside === name)) await ip(ctx.sh, ns, ['link', 'del', name]);
  }
  // NAT first: a floating IP's address up on the gateway leg before its DNAT would be answered by the
  // router itself, past the server's security groups.
  await ctx.sh.in(ns, ['nft', '-f', '-'], { input: natRuleset(`${ctx.prefix}-nat`, spec, gwLeg?.inside) });
  for (const leg of all) await ensureLeg(ctx.sh, leg);

  const defaults = ['0.0.0.0/0', '::/0'].flatMap((destination) => {
    const nexthop = gw?.nextHops.find((h) => isV4(h) === isV4(destination));
    return nexthop ? [{ destination, nexthop }] : [];
  });
  await setRoutes(ctx, ns, [...defaults, ...spec.routes]);
}

export const deleteRouter = (ctx: Context, id: string) => deleteNamespace(ctx.sh, namespaces(ctx.prefix).router(id));

/** The routers whose namespace is here. */
export async function hostedRouters(ctx: Context): Promise<string[]> {
  const start = namespaces(ctx.prefix).router('');
  return (await listNamespaces()).filter((n) => n.startsWith(start)).map((n) => n.slice(start.length));
}
