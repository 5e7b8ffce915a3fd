import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkSpec } from '../driver.ts';
import type { Context } from './context.ts';
import { addressesOf, ip, links } from './links.ts';
import { aliasOf, bridgeName, idOfAlias, vlanName, vxlanName } from './names.ts';
import { ensureVxlan } from './vxlan.ts';
import { applyZones, MAX_ZONE } from './zones.ts';

// A bridge per network in the host namespace. A flat network is its physical network's bridge
// itself; a VLAN network is a bridge of its own with a tagged sub-interface of the physical
// bridge on it. A vxlan network on one host is a plain bridge; on a host of a multi-host cloud its
// bridge also holds a VXLAN device that carries its frames to the other hosts (./vxlan.ts).

/** What a wired network rides on, kept on disk because a flat network has no device of its own to
 * say so, and ports, DHCP and routers must find the bridge of any network. */
export interface NetworkRecord {
  bridge: string;
  mtu: number;
  /** The conntrack zone of a network's own bridge (./zones.ts); none on a physical bridge. */
  zone?: number;
}

const recordDir = (ctx: Context) => join(ctx.stateDir, 'networks');
const recordPath = (ctx: Context, id: string) => join(recordDir(ctx), `${id}.json`);

export async function networkRecord(ctx: Context, id: string): Promise<NetworkRecord> {
  const record = await readRecord(ctx, id);
  if (!record) throw new Error(`network ${id} is not wired on this host: ensureNetwork comes first`);
  return record;
}

async function readRecord(ctx: Context, id: string): Promise<NetworkRecord | undefined> {
  const text = await readFile(recordPath(ctx, id), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as NetworkRecord);
}

/** Every network's record, by network id. */
async function records(ctx: Context): Promise<Map<string, NetworkRecord>> {
  const files = (await readdir(recordDir(ctx)).catch(() => [])).filter((f) => f.endsWith('.json'));
  const out = new Map<string, NetworkRecord>();
  for (const f of files) {
    const record = await readRecord(ctx, f.slice(0, -5));
    if (record) out.set(f.slice(0, -5), record);
  }
  return out;
}

/** Makes the zones of these records, and only those, the ones traffic is tracked in. */
async function syncZones(ctx: Context, all: Map<string, NetworkRecord>): Promise<void> {
  const zoned = [...all.values()].flatMap((r) => (r.zone ? [{ bridge: r.bridge, zone: r.zone }] : []));
  await applyZones(ctx, zoned);
}

/** The network's zone among the records: the one it has, or the lowest one no other network has. */
function zoneOf(all: Map<string, NetworkRecord>, id: string): number {
  const own = all.get(id)?.zone;
  if (own) return own;
  const taken = new Set([...all.values()].map((r) => r.zone));
  for (let zone = 1; zone <= MAX_ZONE; zone++) if (!taken.has(zone)) return zone;
  throw new Error(`network ${id}: every conntrack zone is taken`);
}

/** Makes the bridge if it is missing (without forward delay, so a new port forwards at once) and sets it up. */
async function ensureBridge(ctx: Context, name: string, settings: { mtu?: number; alias?: string }): Promise<void> {
  const link = (await links(ctx.sh)).get(name);
  if (!link) await ip(ctx.sh, undefined, ['link', 'add', name, 'type', 'bridge', 'forward_delay', '0']);
  else if (link.linkinfo?.info_kind !== 'bridge') throw new Error(`${name} exists on this host and is not a bridge`);
  else await ip(ctx.sh, undefined, ['link', 'set', name, 'type', 'bridge', 'forward_delay', '0']);
  await ip(ctx.sh, undefined, [
    'link',
    'set',
    name,
    ...(settings.mtu ? ['mtu', String(settings.mtu)] : []),
    ...(settings.alias ? ['alias', settings.alias] : []),
    'up',
  ]);
}

/** The bridge of a physical network, made (with the host's address on it) if missing. Its MTU is the host's business. */
async function physicalBridge(ctx: Context, spec: NetworkSpec): Promise<string> {
  const physnet = spec.physicalNetwork === undefined ? undefined : ctx.physicalNetworks[spec.physicalNetwork];
  if (!physnet) throw new Error(`network ${spec.id}: physical network ${spec.physicalNetwork ?? '(none)'} is not configured on this host`);
  await ensureBridge(ctx, physnet.bridge, {});
  if (physnet.address && !(await addressesOf(ctx.sh, undefined, physnet.bridge)).includes(physnet.address)) {
    await ip(ctx.sh, undefined, ['addr', 'add', physnet.address, 'dev', physnet.bridge]);
  }
  return physnet.bridge;
}

export async function ensureNetwork(ctx: Context, spec: NetworkSpec): Promise<void> {
  const alias = aliasOf(ctx.prefix, spec.id);
  let bridge: string;
  if (spec.type === 'flat') {
    bridge = await physicalBridge(ctx, spec);
  } else if (spec.type === 'vlan') {
    if (spec.segmentationId === undefined) throw new Error(`vlan network ${spec.id} has no segmentation id`);
    const parent = await physicalBridge(ctx, spec);
    const vlan = vlanName(spec.id);
    // The tagged device first: a kernel without 802.1Q then fails before anything is made.
    if (!(await links(ctx.sh)).has(vlan)) {
      await ip(ctx.sh, undefined, ['link', 'add', vlan, 'link', parent, 'type', 'vlan', 'id', String(spec.segmentationId)]).catch((err: Error) => {
        throw /Unknown device type/.test(err.message) ? new Error(`vlan network ${spec.id}: this kernel has no 802.1Q VLAN support (modprobe 8021q)`) : err;
      });
    }
    bridge = bridgeName(spec.id);
    await ensureBridge(ctx, bridge, { mtu: spec.mtu, alias });
    await ip(ctx.sh, undefined, ['link', 'set', vlan, 'alias', alias, 'master', bridge, 'mtu', String(spec.mtu), 'up']);
  } else {
    bridge = bridgeName(spec.id);
    await ensureBridge(ctx, bridge, { mtu: spec.mtu, alias });
    const vxlan = vxlanName(spec.id);
    const have = await links(ctx.sh);
    if (spec.type === 'vxlan' && spec.tunnel) {
      if (spec.segmentationId === undefined) throw new Error(`vxlan network ${spec.id} has no segmentation id`);
      await ensureVxlan(ctx, { id: spec.id, segmentationId: spec.segmentationId, mtu: spec.mtu, tunnel: spec.tunnel }, bridge, alias, have);
    } else if (idOfAlias(ctx.prefix, have.get(vxlan)?.ifalias) === spec.id) {
      await ip(ctx.sh, undefined, ['link', 'del', vxlan]);
    }
  }
  // Read once: the zone is chosen among them, and they are what the zones table must say.
  const all = await records(ctx);
  const record: NetworkRecord = { bridge, mtu: spec.mtu, zone: spec.type === 'flat' ? undefined : zoneOf(all, spec.id) };
  await mkdir(recordDir(ctx), { recursive: true });
  await writeFile(`${recordPath(ctx, spec.id)}.part`, JSON.stringify(record));
  await rename(`${recordPath(ctx, spec.id)}.part`, recordPath(ctx, spec.id));
  await syncZones(ctx, all.set(spec.id, record));
}

/** Removes what was made for the network, never a physical bridge, nor a device that is not ours. */
export async function deleteNetwork(ctx: Context, id: string): Promise<void> {
  const have = await links(ctx.sh);
  for (const name of [vlanName(id), vxlanName(id), bridgeName(id)]) {
    if (idOfAlias(ctx.prefix, have.get(name)?.ifalias) === id) await ip(ctx.sh, undefined, ['link', 'del', name]);
  }
  await rm(recordPath(ctx, id), { force: true });
  await syncZones(ctx, await records(ctx));
}

/** The networks wired here: their records, and bridges of ours whose record is lost. */
export async function wiredNetworks(ctx: Context): Promise<string[]> {
  const files = await readdir(recordDir(ctx)).catch(() => []);
  const bridges = [...(await links(ctx.sh)).values()].filter((l) => l.ifname.startsWith('brq')).map((l) => idOfAlias(ctx.prefix, l.ifalias));
  return [...new Set([...files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)), ...bridges.flatMap((id) => (id ? [id] : []))])];
}
