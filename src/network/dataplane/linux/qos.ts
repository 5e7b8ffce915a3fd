import { tapName, type BandwidthLimit, type PortSpec } from '../driver.ts';
import type { Context } from './context.ts';
import { ip, links } from './links.ts';
import { aliasOf, idOfAlias } from './names.ts';

// Bandwidth limits on a port's tap, with tc. What the guest receives leaves the tap: a token
// bucket (tbf) as the tap's root qdisc shapes it. What the guest sends enters the tap, where
// Linux can only police, and this kernel has no police action: each such packet is redirected
// (u32 + mirred) to an ifb device of the port's own, whose tbf shapes it and hands it back to the
// tap's receive path, so bridging and the firewall see it as before.

/** The port's ifb device: 14 characters, like its tap. */
export const ifbName = (portId: string) => `ifb${portId.slice(0, 11)}`;

/** Neutron's burst when the rule gives none: 80 % of the rate, in kbit. */
const burstBytes = (l: BandwidthLimit) => Math.max(Math.round(((l.maxBurstKbps || l.maxKbps * 0.8) * 1000) / 8), 3000);
/** How long a packet may wait in the bucket: beyond it, it is dropped, as a police would. */
const LATENCY = '50ms';

interface Qdisc {
  kind: string;
  dev: string;
  root?: boolean;
  options?: { rate?: number; burst?: number };
}

const json = <T>(text: string): T[] => (text.trim() ? (JSON.parse(text) as T[]) : []);

/** Makes dev's root qdisc a tbf of this limit, or, without one, removes a tbf it has. */
async function shape(ctx: Context, dev: string, root: Qdisc | undefined, limit: BandwidthLimit | undefined): Promise<void> {
  const isTbf = root?.kind === 'tbf';
  if (!limit) {
    if (isTbf) await ctx.sh.host(['tc', 'qdisc', 'del', 'dev', dev, 'root']);
    return;
  }
  if (isTbf && root.options?.rate === (limit.maxKbps * 1000) / 8 && root.options.burst === burstBytes(limit)) return;
  await ctx.sh.host(['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${limit.maxKbps}kbit`, 'burst', String(burstBytes(limit)), 'latency', LATENCY]);
}

/** The host's qdiscs and devices, read once for any number of ports. */
async function hostState(ctx: Context) {
  const qdiscs = json<Qdisc>((await ctx.sh.host(['tc', '-json', 'qdisc', 'show'])).stdout);
  return {
    devices: await links(ctx.sh),
    root: (dev: string) => qdiscs.find((q) => q.dev === dev && q.root),
    ingress: (dev: string) => qdiscs.some((q) => q.dev === dev && q.kind === 'ingress'),
  };
}

/** Sends everything the tap receives through the port's ifb, shaped there; or undoes it. */
async function shapeFromGuest(ctx: Context, state: Awaited<ReturnType<typeof hostState>>, portId: string, limit: BandwidthLimit | undefined): Promise<void> {
  const tap = tapName(portId);
  const ifb = ifbName(portId);
  const ingress = state.ingress(tap);
  const have = state.devices.get(ifb);
  if (!limit) {
    if (ingress) await ctx.sh.host(['tc', 'qdisc', 'del', 'dev', tap, 'ingress']);
    if (have && idOfAlias(ctx.prefix, have.ifalias) === portId) await ip(ctx.sh, undefined, ['link', 'del', ifb]);
    return;
  }
  if (!have) await ip(ctx.sh, undefined, ['link', 'add', ifb, 'type', 'ifb']);
  if (!have || have.ifalias !== aliasOf(ctx.prefix, portId) || !have.flags.includes('UP'))
    await ip(ctx.sh, undefined, ['link', 'set', ifb, 'alias', aliasOf(ctx.prefix, portId), 'up']);
  await shape(ctx, ifb, have ? state.root(ifb) : undefined, limit);
  // The ingress qdisc holds the one redirect: made together, so one without the other is a crash's
  // leftover, made again whole.
  const filters = ingress ? json<{ options?: { actions?: { to_dev?: string }[] } }>((await ctx.sh.host(['tc', '-json', 'filter', 'show', 'dev', tap, 'ingress'])).stdout) : [];
  if (filters.some((f) => f.options?.actions?.some((a) => a.to_dev === ifb))) return;
  if (ingress) await ctx.sh.host(['tc', 'qdisc', 'del', 'dev', tap, 'ingress']);
  await ctx.sh.host(['tc', 'qdisc', 'add', 'dev', tap, 'handle', 'ffff:', 'ingress']);
  await ctx.sh.host([
    'tc', 'filter', 'add', 'dev', tap, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1',
    'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb,
  ]); // prettier-ignore
}

/** Makes each port's tap carry the limits its spec says, and no other: idempotent, and one read of
 * the host for the ports that have no limits and never had any. */
export async function applyQos(ctx: Context, specs: PortSpec[]): Promise<void> {
  if (!specs.length) return;
  const state = await hostState(ctx);
  for (const spec of specs) {
    const tap = tapName(spec.id);
    if (!state.devices.has(tap)) continue;
    const root = state.root(tap);
    if (!spec.qos && root?.kind !== 'tbf' && !state.ingress(tap) && !state.devices.has(ifbName(spec.id))) continue;
    await shape(ctx, tap, root, spec.qos?.ingress);
    await shapeFromGuest(ctx, state, spec.id, spec.qos?.egress);
  }
}

/** Removes the ports' ifb devices (their taps' qdiscs go with the taps). */
export async function removeQos(ctx: Context, ids: string[]): Promise<void> {
  if (!ids.length) return;
  const present = await links(ctx.sh);
  for (const id of ids) {
    const ifb = present.get(ifbName(id));
    if (ifb && idOfAlias(ctx.prefix, ifb.ifalias) === id) await ip(ctx.sh, undefined, ['link', 'del', ifb.ifname]);
  }
}
