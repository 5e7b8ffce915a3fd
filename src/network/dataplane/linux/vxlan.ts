import type { VxlanTunnel } from '../driver.ts';
import type { Context } from './context.ts';
import { ip, type Link } from './links.ts';
import { vxlanName } from './names.ts';

// A vxlan network that spans hosts: a VXLAN device on the network's bridge, its forwarding table
// written from the store as Neutron's l2population does it. Learning is off and no multicast
// group is joined: broadcast and unknown frames are copied to each host in the flood list (the
// all-zero MAC's entries), and each remote port's MAC is sent straight to its host.

/** The IANA port, as Linux's default (8472) is not. */
export const VXLAN_PORT = 4789;
const FLOOD = '00:00:00:00:00:00';

type VxlanLink = Link & { linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; learning?: boolean } } };

/** The VNI, tunnel end and port a device has, to tell whether it is the one wanted. */
const fits = (l: VxlanLink | undefined, vni: number, local: string) => {
  const d = l?.linkinfo?.info_data;
  return l?.linkinfo?.info_kind === 'vxlan' && d?.id === vni && d.local === local && d.port === VXLAN_PORT && d.learning === false;
};

/** Makes the network's VXLAN device (again, if its VNI or tunnel end changed), on its bridge, up. */
export async function ensureVxlan(
  ctx: Context,
  spec: { id: string; segmentationId: number; mtu: number; tunnel: VxlanTunnel },
  bridge: string,
  alias: string,
  have: Map<string, Link>,
): Promise<void> {
  const name = vxlanName(spec.id);
  const link = have.get(name) as VxlanLink | undefined;
  if (link && !fits(link, spec.segmentationId, spec.tunnel.local)) await ip(ctx.sh, undefined, ['link', 'del', name]);
  if (!link || !fits(link, spec.segmentationId, spec.tunnel.local)) {
    await ip(ctx.sh, undefined, [
      ...['link', 'add', name, 'type', 'vxlan', 'id', String(spec.segmentationId)],
      ...['local', spec.tunnel.local, 'dstport', String(VXLAN_PORT), 'nolearning'],
    ]);
  }
  await ip(ctx.sh, undefined, ['link', 'set', name, 'alias', alias, 'master', bridge, 'mtu', String(spec.mtu), 'up']);
  await syncFdb(ctx, name, spec.tunnel);
}

/** Makes the device's forwarding entries exactly the flood list and the remote ports' MACs. */
async function syncFdb(ctx: Context, dev: string, tunnel: VxlanTunnel): Promise<void> {
  const { stdout } = await ctx.sh.host(['bridge', '-json', 'fdb', 'show', 'dev', dev]);
  const have = (stdout.trim() ? (JSON.parse(stdout) as { mac: string; dst?: string }[]) : []).filter((e) => e.dst);
  const key = (mac: string, dst: string) => `${mac.toLowerCase()} ${dst}`;
  const wanted = new Map<string, string>();
  for (const remote of tunnel.remotes) wanted.set(key(FLOOD, remote), `fdb append ${FLOOD} dev ${dev} dst ${remote} self permanent`);
  for (const p of tunnel.ports) wanted.set(key(p.mac, p.remote), `fdb replace ${p.mac.toLowerCase()} dev ${dev} dst ${p.remote} self permanent`);
  const present = new Set(have.map((e) => key(e.mac, e.dst!)));
  const commands = [
    ...have.filter((e) => !wanted.has(key(e.mac, e.dst!))).map((e) => `fdb del ${e.mac} dev ${dev} dst ${e.dst} self`),
    ...[...wanted].filter(([k]) => !present.has(k)).map(([, command]) => command),
  ];
  if (commands.length) await ctx.sh.host(['bridge', '-batch', '-'], { input: `${commands.join('\n')}\n` });
}
