import { tapName, type PortSpec } from '../driver.ts';
import { networkRecord, type NetworkRecord } from './bridge.ts';
import type { Context } from './context.ts';
import { links } from './links.ts';
import { aliasOf, idOfAlias } from './names.ts';

/** Wires every port in one pass: the host's devices are read once, and the taps to make and the
 * devices to set go to one `ip -batch` (one process for any number of ports, where an `ip` each
 * would cost a spawn each). A device already as the spec says is left alone. */
export async function ensurePorts(ctx: Context, specs: PortSpec[]): Promise<void> {
  if (!specs.length) return;
  const have = await links(ctx.sh);
  const records = new Map<string, NetworkRecord>();
  for (const networkId of new Set(specs.map((s) => s.networkId))) records.set(networkId, await networkRecord(ctx, networkId));
  const lines: string[] = [];
  for (const spec of specs) {
    const { bridge, mtu } = records.get(spec.networkId)!;
    const dev = tapName(spec.id);
    const alias = aliasOf(ctx.prefix, spec.id);
    const link = have.get(dev);
    // Persistent, so that it is there before qemu opens it and stays while qemu restarts.
    if (!link) lines.push(`tuntap add dev ${dev} mode tap`);
    if (!link || link.ifalias !== alias || link.mtu !== mtu || link.master !== bridge || link.flags.includes('UP') !== spec.adminUp) {
      lines.push(`link set ${dev} alias ${alias} mtu ${mtu} master ${bridge} ${spec.adminUp ? 'up' : 'down'}`);
    }
  }
  // A batch stops at its first error, and what it did before stays done: the next pass does the rest.
  if (lines.length) await ctx.sh.host(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Removes the ports' devices that are ours (carry our alias): a device of that name that was
 * never wired (a veth a test made for a port not yet bound) is left alone. */
export async function deletePorts(ctx: Context, ids: string[]): Promise<void> {
  if (!ids.length) return;
  const have = await links(ctx.sh);
  const ours = ids.flatMap((id) => {
    const link = have.get(tapName(id));
    return link && idOfAlias(ctx.prefix, link.ifalias) === id ? [`link del ${link.ifname}`] : [];
  });
  if (ours.length) await ctx.sh.host(['ip', '-batch', '-'], { input: `${ours.join('\n')}\n` });
}

/** The ports wired here: tap devices carrying one of our aliases. */
export async function wiredPorts(ctx: Context): Promise<string[]> {
  return [...(await links(ctx.sh)).values()].flatMap((l) => {
    const id = l.ifname.startsWith('tap') ? idOfAlias(ctx.prefix, l.ifalias) : undefined;
    return id ? [id] : [];
  });
}
