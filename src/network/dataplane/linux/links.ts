import type { Shell } from './host.ts';

// Devices and addresses, read as `ip -json` prints them and changed one step at a time, so that a
// call after a crash finds what was already done and does only the rest.

export interface Link {
  ifname: string;
  ifalias?: string;
  address?: string;
  mtu: number;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string };
}

interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
}

const json = <T>(text: string): T[] => (text.trim() ? (JSON.parse(text) as T[]) : []);

/** The devices of a namespace (the host's when netns is undefined), by name. */
export async function links(sh: Shell, netns?: string): Promise<Map<string, Link>> {
  const argv = ['ip', '-json', '-details', 'link', 'show'];
  const { stdout } = netns ? await sh.in(netns, argv) : await sh.host(argv);
  return new Map(json<Link>(stdout).map((l) => [l.ifname, l]));
}

/** Runs an `ip …` in the given namespace, or the host's. */
export const ip = (sh: Shell, netns: string | undefined, args: string[], okCodes?: number[]) =>
  netns ? sh.in(netns, ['ip', ...args], { okCodes }) : sh.host(['ip', ...args], { okCodes });

const globalAddresses = (info: AddrInfo[]) => info.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`);

/** A device's global addresses, with prefix. */
export async function addressesOf(sh: Shell, netns: string | undefined, dev: string): Promise<string[]> {
  const { stdout } = await ip(sh, netns, ['-json', 'addr', 'show', 'dev', dev]);
  return globalAddresses(json<{ addr_info: AddrInfo[] }>(stdout).flatMap((l) => l.addr_info));
}

/**
 * Gives a device exactly these global addresses (with prefix): missing ones are added, others
 * removed. IPv6 link-local addresses are the kernel's and stay. `have` saves a look when the
 * caller has just read them.
 */
export async function setAddresses(sh: Shell, netns: string | undefined, dev: string, wanted: string[], have?: string[]): Promise<void> {
  have ??= await addressesOf(sh, netns, dev);
  for (const a of have.filter((a) => !wanted.includes(a))) await ip(sh, netns, ['addr', 'del', a, 'dev', dev]);
  // nodad: a router's or DHCP server's IPv6 address must answer at once, not after DAD.
  for (const a of wanted.filter((a) => !have.includes(a))) await ip(sh, netns, ['addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])]);
}

/** One end of a veth in a namespace of the cloud's, the other on a bridge of the host. */
export interface Leg {
  netns: string;
  inside: string;
  outside: string;
  bridge: string;
  mac: string;
  mtu: number;
  addresses: string[];
}

/** One device of a namespace (the host's when netns is undefined) with its addresses; undefined
 * when there is none. A look at one device, where a listing costs as much as the host has devices. */
async function device(sh: Shell, netns: string | undefined, name: string): Promise<(Link & { addr_info: AddrInfo[] }) | undefined> {
  // Exit code 1: no such device.
  const { stdout, code } = await ip(sh, netns, ['-json', '-details', 'addr', 'show', 'dev', name], [0, 1]);
  return code === 0 ? json<Link & { addr_info: AddrInfo[] }>(stdout)[0] : undefined;
}

/** Makes a leg whole: a pair with an end missing is made again, and both ends are set as the spec
 * says. A leg already as it should be costs one look at each end. */
export async function ensureLeg(sh: Shell, leg: Leg): Promise<void> {
  let [inside, outside] = await Promise.all([device(sh, leg.netns, leg.inside), device(sh, undefined, leg.outside)]);
  if (!inside || !outside) {
    if (inside) await ip(sh, leg.netns, ['link', 'del', leg.inside]);
    if (outside) await ip(sh, undefined, ['link', 'del', leg.outside]);
    // Made in the host namespace with its peer born inside the other one: no moment where the inside end is loose on the host.
    await ip(sh, undefined, ['link', 'add', leg.outside, 'mtu', String(leg.mtu), 'type', 'veth', 'peer', 'name', leg.inside, 'netns', leg.netns]);
    [inside, outside] = [undefined, undefined];
  }
  const up = (l: Link | undefined) => l?.flags.includes('UP') === true;
  if (outside?.master !== leg.bridge || outside.mtu !== leg.mtu || !up(outside)) {
    await ip(sh, undefined, ['link', 'set', leg.outside, 'master', leg.bridge, 'mtu', String(leg.mtu), 'up']);
  }
  if (inside?.address?.toLowerCase() !== leg.mac.toLowerCase() || inside.mtu !== leg.mtu || !up(inside)) {
    await ip(sh, leg.netns, ['link', 'set', leg.inside, 'address', leg.mac, 'mtu', String(leg.mtu), 'up']);
  }
  await setAddresses(sh, leg.netns, leg.inside, leg.addresses, inside && globalAddresses(inside.addr_info));
}
