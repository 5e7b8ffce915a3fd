import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, like, sql } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { admin } from '../lib/http/policy.ts';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import type { NetworkSettings } from './index.ts';
import { reserve } from './quotas.ts';
import { grant, revoke } from './rbac.ts';
import { defaultPolicyOf, usablePolicy } from './qos.ts';
import { networks, ports, subnets, type NetworkType } from './tables.ts';
import { isGranted, sharedWith, visibleNetworks, type Caller } from './visibility.ts';

export type NetworkRow = typeof networks.$inferSelect;

/** A network with the ids of its subnets, and whether it is shared with the project that looks. */
export interface Network extends NetworkRow {
  subnetIds: string[];
  shared: boolean;
}

export type { Caller };

export const callerOf = (auth: AuthContext): Caller => ({ projectId: auth.project?.id ?? '', isAdmin: admin(auth, {}) });

/** Neutron's 403 for a resource the caller sees (shared, external) but does not own. */
export const notOwner = (action: string) => forbidden(`Policy doesn't allow ${action} to be performed.`);

export function mustOwn(caller: Caller, row: { projectId: string }, action: string): void {
  if (!caller.isAdmin && row.projectId !== caller.projectId) throw notOwner(action);
}

export const networkNotFound = (id: string) => notFound(`Network ${id} could not be found.`, 'NetworkNotFound');

/** The networks with their subnets, and `shared` as the viewer's project sees it. */
async function withSubnets(db: Db, viewer: string, rows: NetworkRow[]): Promise<Network[]> {
  const ids = rows.map((n) => n.id);
  const children = ids.length
    ? await db
        .select({ id: subnets.id, networkId: subnets.networkId })
        .from(subnets)
        .where(inArray(subnets.networkId, ids))
        .orderBy(asc(subnets.createdAt), asc(subnets.id))
    : [];
  const byNetwork = new Map<string, string[]>();
  for (const s of children) byNetwork.set(s.networkId, [...(byNetwork.get(s.networkId) ?? []), s.id]);
  const shared = await sharedWith(db, ids, viewer);
  return rows.map((n) => ({ ...n, subnetIds: byNetwork.get(n.id) ?? [], shared: shared.has(n.id) }));
}

/** A network the caller sees, or Neutron's 404. lock: 'key share' keeps it from being deleted
 * under a port or subnet being made on it; 'update' is the delete's own. */
export async function getNetworkRow(db: Db, caller: Caller, id: string, lock?: 'key share' | 'no key update' | 'update'): Promise<NetworkRow> {
  const q = db
    .select()
    .from(networks)
    .where(and(eq(networks.id, id), visibleNetworks(caller)));
  const [row] = lock ? await q.for(lock) : await q;
  if (!row) throw networkNotFound(id);
  return row;
}

export async function getNetwork(db: Db, caller: Caller, id: string): Promise<Network> {
  return (await withSubnets(db, caller.projectId, [await getNetworkRow(db, caller, id)]))[0]!;
}

export async function listNetworks(db: Db, caller: Caller, narrow: { ids?: string[]; names?: string[] } = {}): Promise<Network[]> {
  const rows = await db
    .select()
    .from(networks)
    .where(and(visibleNetworks(caller), narrow.ids && inArray(networks.id, narrow.ids), narrow.names && inArray(networks.name, narrow.names)))
    .orderBy(asc(networks.id));
  return withSubnets(db, caller.projectId, rows);
}

/** The provider attributes as asked (the admin's), before checking. */
export interface ProviderInput {
  networkType?: string;
  physicalNetwork?: string | null;
  segmentationId?: number | null;
}

export interface NetworkInput {
  projectId: string;
  name: string;
  description: string;
  adminStateUp: boolean;
  shared: boolean;
  external: boolean;
  portSecurityEnabled: boolean;
  mtu?: number;
  provider?: ProviderInput;
  /** Undefined: the project's default QoS policy, if it has one. */
  qosPolicyId?: string | null;
}

interface Segment {
  networkType: NetworkType;
  physicalNetwork: string | null;
  segmentationId: number | null;
  segment: string | null;
}

const MAX_VNI = 2 ** 24 - 1;
const invalid = (msg: string) => badRequest(`Invalid input for operation: ${msg}.`, 'InvalidInput');

/** The segment an admin asked for, checked as ML2's type drivers check it; undefined: a tenant
 * network's, allocated at insert. */
function requestedSegment(settings: NetworkSettings, p: ProviderInput | undefined): Segment | undefined {
  if (!p || (p.networkType === undefined && p.physicalNetwork == null && p.segmentationId == null)) return undefined;
  const type = p.networkType;
  const physnet = p.physicalNetwork ?? null;
  const segId = p.segmentationId ?? null;
  if (type === undefined) throw invalid('network_type required');
  const knownPhysnet = (kind: string) => {
    if (physnet === null) throw invalid(`physical_network required for ${kind} provider network`);
    if (!settings.physicalNetworks.includes(physnet)) throw invalid(`physical_network '${physnet}' unknown for ${kind} provider network`);
  };
  switch (type) {
    case 'flat':
      if (segId !== null) throw invalid('segmentation_id specified for flat provider network');
      knownPhysnet('flat');
      return { networkType: 'flat', physicalNetwork: physnet, segmentationId: null, segment: `flat:${physnet}` };
    case 'vlan':
      if (segId === null) throw invalid('segmentation_id required for VLAN provider network');
      knownPhysnet('VLAN');
      if (segId < 1 || segId > 4094) throw invalid('segmentation_id out of range (1 through 4094)');
      return { networkType: 'vlan', physicalNetwork: physnet, segmentationId: segId, segment: `vlan:${physnet}:${segId}` };
    case 'vxlan':
      if (physnet !== null) throw invalid('provider:physical_network specified for vxlan network');
      if (segId === null) return undefined;
      if (segId < 1 || segId > MAX_VNI) throw invalid(`segmentation_id out of range (1 through ${MAX_VNI})`);
      return { networkType: 'vxlan', physicalNetwork: null, segmentationId: segId, segment: `vxlan:${segId}` };
    case 'local':
      if (physnet !== null || segId !== null) throw invalid('provider:physical_network and provider:segmentation_id specified for local network');
      return { networkType: 'local', physicalNetwork: null, segmentationId: null, segment: null };
    default:
      throw invalid(`network_type value '${type}' not supported`);
  }
}

/** The segment in use, as Neutron words it for each type. */
function segmentInUse(s: Segment) {
  if (s.networkType === 'flat') return conflict(`Unable to create the flat network. Physical network ${s.physicalNetwork} is in use.`, 'FlatNetworkInUse');
  if (s.networkType === 'vlan')
    return conflict(`Unable to create the network. The VLAN ${s.segmentationId} on physical network ${s.physicalNetwork} is in use.`, 'VlanIdInUse');
  return conflict(`Unable to create the network. The tunnel ID ${s.segmentationId} is in use.`, 'TunnelIdInUse');
}

/** The lowest VNI of the tenant ranges that no network holds. */
async function freeVni(tx: Db, ranges: [number, number][]): Promise<number> {
  for (const [min, max] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const used = await tx
      .select({ id: networks.segmentationId })
      .from(networks)
      .where(and(eq(networks.networkType, 'vxlan'), sql`${networks.segmentationId} between ${min} and ${max}`))
      .orderBy(asc(networks.segmentationId));
    let vni = min;
    for (const { id } of used) {
      if (id === vni) vni++;
      else if (id !== null && id > vni) break;
    }
    if (vni <= max) return vni;
  }
  throw new ApiError('Unavailable', 'Unable to create the network. No tenant network is available for allocation.', 'NoNetworkAvailable');
}

export const maxMtu = (settings: NetworkSettings, type: NetworkType) => (type === 'vxlan' ? settings.mtu - 50 : settings.mtu);

function checkMtu(settings: NetworkSettings, type: NetworkType, mtu: number | undefined): number {
  const max = maxMtu(settings, type);
  if (mtu === undefined) return max;
  if (mtu > max) throw invalid(`Requested MTU is too big, maximum is ${max}`);
  if (mtu < 68) throw invalid(`Requested MTU is too small, minimum is 68`);
  return mtu;
}

/**
 * Makes a network: the admin's provider segment, or a tenant segment of the configured type with
 * the lowest free VNI. The unique segment column settles races: a create that loses one takes the
 * next VNI (or, for a segment asked by name, gets Neutron's 409).
 */
export async function createNetwork(tx: Db, settings: NetworkSettings, input: NetworkInput): Promise<Network> {
  const asked = requestedSegment(settings, input.provider);
  const type = asked?.networkType ?? (input.provider?.networkType as NetworkType | undefined) ?? settings.tenantNetworkType;
  const mtu = checkMtu(settings, type, input.mtu);
  await reserve(tx, input.projectId, 'network');
  const id = randomUUID();
  const base = {
    id,
    projectId: input.projectId,
    name: input.name,
    description: input.description,
    adminStateUp: input.adminStateUp,
    external: input.external,
    portSecurityEnabled: input.portSecurityEnabled,
    mtu,
    qosPolicyId:
      input.qosPolicyId === undefined
        ? await defaultPolicyOf(tx, input.projectId)
        : input.qosPolicyId && (await usablePolicy(tx, input.projectId, input.qosPolicyId)),
  };
  for (let attempt = 0; ; attempt++) {
    let segment = asked;
    if (!segment) {
      if (type === 'local') segment = { networkType: 'local', physicalNetwork: null, segmentationId: null, segment: null };
      else {
        const vni = await freeVni(tx, settings.vniRanges);
        segment = { networkType: 'vxlan', physicalNetwork: null, segmentationId: vni, segment: `vxlan:${vni}` };
      }
    }
    const inserted = await tx
      .insert(networks)
      .values({ ...base, ...segment })
      .onConflictDoNothing()
      .returning();
    if (inserted.length) break;
    if (asked || attempt >= 20) throw segmentInUse(segment);
  }
  // shared and router:external are grants to every project, as Neutron records them.
  if (input.shared) await grant(tx, { projectId: input.projectId, networkId: id, action: 'access_as_shared', targetTenant: '*' });
  if (input.external) await grant(tx, { projectId: input.projectId, networkId: id, action: 'access_as_external', targetTenant: '*' });
  await dataplaneChanged(tx, `network:${id}`);
  return (await withSubnets(tx, input.projectId, [(await tx.select().from(networks).where(eq(networks.id, id)))[0]!]))[0]!;
}

/** Neutron's word for unsharing a network other projects have ports on. */
const unshareRefused = (id: string) => (err: unknown) => {
  if (err instanceof ApiError && err.type === 'RbacPolicyInUse')
    throw conflict(`Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`, 'InvalidSharedSetting');
  throw err;
};

export interface NetworkChanges {
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  shared?: boolean;
  external?: boolean;
  portSecurityEnabled?: boolean;
  mtu?: number;
  qosPolicyId?: string | null;
}

export async function updateNetwork(tx: Db, settings: NetworkSettings, caller: Caller, id: string, changes: NetworkChanges): Promise<Network> {
  // Taking a grant back waits for the ports being made on the network (they hold 'key share').
  const revoking = changes.shared === false || changes.external === false;
  const row = await getNetworkRow(tx, caller, id, revoking ? 'update' : 'no key update');
  mustOwn(caller, row, 'update_network');
  if (changes.mtu !== undefined) checkMtu(settings, row.networkType, changes.mtu);
  // shared and router:external are the grants to every project: set, they are made; unset, taken
  // back, unless projects depend on them (Neutron's 409s).
  const { shared, ...columns } = changes;
  const wildcard = { projectId: row.projectId, networkId: id, targetTenant: '*' };
  if (shared === true && !(await isGranted(tx, id, '*', 'access_as_shared'))) await grant(tx, { ...wildcard, action: 'access_as_shared' });
  if (shared === false) await revoke(tx, row, 'access_as_shared', ['*']).catch(unshareRefused(id));
  if (changes.external === true && !(await isGranted(tx, id, '*', 'access_as_external'))) await grant(tx, { ...wildcard, action: 'access_as_external' });
  if (changes.external === false) await revoke(tx, row, 'access_as_external');
  if (changes.qosPolicyId) await usablePolicy(tx, row.projectId, changes.qosPolicyId);
  await tx
    .update(networks)
    .set({ ...columns, revision: sql`${networks.revision} + 1`, updatedAt: new Date() })
    .where(eq(networks.id, id));
  // The network's policy is in force on its servers' ports that have none of their own.
  const limited =
    changes.qosPolicyId === undefined
      ? []
      : await tx
          .select({ id: ports.id })
          .from(ports)
          .where(and(eq(ports.networkId, id), isNull(ports.qosPolicyId), like(ports.deviceOwner, 'compute:%')));
  await dataplaneChanged(tx, `network:${id}`, ...limited.map((p) => `port:${p.id}` as const));
  return getNetwork(tx, { projectId: caller.projectId, isAdmin: true }, id);
}

export async function setNetworkTags(tx: Db, caller: Caller, id: string, tags: string[]): Promise<string[]> {
  const row = await getNetworkRow(tx, caller, id, 'no key update');
  mustOwn(caller, row, 'update_network');
  const unique = [...new Set(tags)];
  await tx
    .update(networks)
    .set({ tags: unique, revision: sql`${networks.revision} + 1`, updatedAt: new Date() })
    .where(eq(networks.id, id));
  return unique;
}

/** The DHCP service's ports go with their network; any other port keeps it (409 NetworkInUse). */
export async function deleteNetwork(tx: Db, caller: Caller, id: string): Promise<void> {
  const row = await getNetworkRow(tx, caller, id, 'update');
  mustOwn(caller, row, 'delete_network');
  const onIt = await tx.select({ id: ports.id, owner: ports.deviceOwner }).from(ports).where(eq(ports.networkId, id));
  if (onIt.some((p) => p.owner !== 'network:dhcp'))
    throw conflict(`Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`, 'NetworkInUse');
  // Allocations go with their ports (cascade); then nothing refers to the subnets.
  if (onIt.length) await tx.delete(ports).where(eq(ports.networkId, id));
  await tx.delete(subnets).where(eq(subnets.networkId, id));
  await tx.delete(networks).where(eq(networks.id, id));
  await dataplaneChanged(tx, `network:${id}`, ...onIt.map((p) => `port:${p.id}` as const));
}
