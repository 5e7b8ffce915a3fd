import { tapName, type PortSpec } from '../driver.ts';
import { networkRecord } from './bridge.ts';
import type { Context } from './context.ts';
import { deleteLink, ip, links } from './links.ts';
import { aliasOf, idOfAlias } from './names.ts';

export async function ensurePort(ctx: Context, spec: PortSpec): Promise<void> {
  const { bridge, mtu } = await networkRecord(ctx, spec.networkId);
  const dev = tapName(spec.id);
  // Persistent, so that it is there before qemu opens it and stays while qemu restarts.
  if (!(await links(ctx.sh)).has(dev)) await ip(ctx.sh, undefined, ['tuntap', 'add', 'dev', dev, 'mode', 'tap']);
  await ip(ctx.sh, undefined, ['link', 'set', dev, 'alias', aliasOf(ctx.prefix, spec.id), 'mtu', String(mtu), 'master', bridge, spec.adminUp ? 'up' : 'down']);
}

/** Removes the port's device if it is ours (carries our alias): a device of that name that was
 * never wired (a veth a test made for a port not yet bound) is left alone. */
export async function deletePort(ctx: Context, id: string): Promise<void> {
  const link = (await links(ctx.sh)).get(tapName(id));
  if (link && idOfAlias(ctx.prefix, link.ifalias) === id) await deleteLink(ctx.sh, undefined, link.ifname);
}

/** The ports wired here: tap devices carrying one of our aliases. */
export async function wiredPorts(ctx: Context): Promise<string[]> {
  return [...(await links(ctx.sh)).values()].flatMap((l) => {
    const id = l.ifname.startsWith('tap') ? idOfAlias(ctx.prefix, l.ifalias) : undefined;
    return id ? [id] : [];
  });
}
