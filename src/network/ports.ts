import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, getTableColumns, inArray, sql, type SQL } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { canonicalIp, contains, ipToBigInt, ipVersion, parseCidr } from './addresses.ts';
import { dataplaneChanged } from './changes.ts';
import { checkFixedIpsKept, disassociatePort } from './floating-ips.ts';
import { allocateAddress, allocateFree, cidrOf, isAutoAddress, noMoreAddresses, releaseAddresses, type SubnetRow } from './ipam.ts';
import { reserve } from './quotas.ts';
import { defaultSecurityGroupId, resolveSecurityGroups } from './security-groups.ts';
import { mergeExtraDhcpOpts, newExtraDhcpOpts, type ExtraDhcpOptRequest } from './extra-dhcp-opts.ts';
import { usablePolicy } from './qos.ts';
import { ipAllocations, networks, portSecurityGroups, ports, subnets, type AddressPair } from './tables.ts';
import { visiblePorts, type Caller } from './visibility.ts';

export type PortRow = typeof ports.$inferSelect;

/** A port with its fixed IPs and security groups. */
export interface Port extends PortRow {
  fixedIps: { subnetId: string; ipAddress: string }[];
  securityGroups: string[];
  /** The QoS policy of the port's network (qos_network_policy_id). */
  networkQosPolicyId?: string | null;
}

export type FixedIpRequest = { subnetId?: string; ipAddress?: string };

export interface PortInput {
  networkId: string;
  /** The project that owns the port (for service ports of routers/floating IPs: the resource's). */
  projectId: string;
  name?: string;
  description?: string;
  macAddress?: string;
  /** Each entry: a subnet (allocate from its pools), an address (find its subnet), or both. Absent:
   * one address from the first IPv4 subnet of the network with a free address, one likewise from
   * a stateful IPv6 subnet, and its own address on every SLAAC subnet (Neutron's default). */
  fixedIps?: FixedIpRequest[];
  deviceId?: string;
  deviceOwner?: string;
  adminStateUp?: boolean;
  /** Ids or names of groups of projectId. Absent: the project's default group (when port security
   * is on, the port has an address and its owner is not a network: service). */
  securityGroups?: string[];
  portSecurityEnabled?: boolean;
  allowedAddressPairs?: AddressPair[];
  hostId?: string;
  vnicType?: string;
  bindingProfile?: Record<string, unknown>;
  dnsName?: string;
  extraDhcpOpts?: ExtraDhcpOptRequest[];
  qosPolicyId?: string | null;
}

/** The host name a port's address answers to: its dns_name, else Neutron's `host-<address>`. */
export const hostnameOf = (p: { dnsName: string }, ip: string) => p.dnsName || `host-${ip.replaceAll(/[.:]/g, '-')}`;

/** The device owners whose ports belong to another resource and go only with it. */
export const SERVICE_OWNERS = [
  'network:router_interface',
  'network:router_gateway',
  'network:router_interface_distributed',
  'network:floatingip',
  'network:dhcp',
];

const MAX_FIXED_IPS = 5;
const MAX_ADDRESS_PAIRS = 10;

export const portNotFound = (id: string) => notFound(`Port ${id} could not be found.`, 'PortNotFound');
const invalid = (msg: string) => badRequest(`Invalid input for operation: ${msg}.`, 'InvalidInput');
const securityNeedsPortSecurity = () =>
  badRequest('Port security must be enabled and port must have an IP address in order to use security groups.', 'PortSecurityAndIPRequiredForSecurityGroups');
const pairsNeedPortSecurity = () =>
  conflict('Port Security must be enabled in order to have allowed address pairs on a port.', 'AddressPairAndPortSecurityRequired');

export { visiblePorts };

/** Ports with their fixed IPs and groups. */
async function assemble(db: Db, rows: PortRow[]): Promise<Port[]> {
  const ids = rows.map((p) => p.id);
  const [allocations, groups, nets] = await Promise.all([
    db.select().from(ipAllocations).where(inArray(ipAllocations.portId, ids)),
    db.select().from(portSecurityGroups).where(inArray(portSecurityGroups.portId, ids)),
    db
      .select({ id: networks.id, qosPolicyId: networks.qosPolicyId })
      .from(networks)
      .where(inArray(networks.id, [...new Set(rows.map((p) => p.networkId))])),
  ]);
  const ips = new Map<string, Port['fixedIps']>();
  for (const a of allocations) {
    const list = ips.get(a.portId) ?? [];
    list.push({ subnetId: a.subnetId, ipAddress: a.ipAddress });
    ips.set(a.portId, list);
  }
  const sgs = new Map<string, string[]>();
  for (const g of groups) sgs.set(g.portId, [...(sgs.get(g.portId) ?? []), g.securityGroupId]);
  return rows.map((p) => ({
    ...p,
    fixedIps: ips.get(p.id) ?? [],
    securityGroups: (sgs.get(p.id) ?? []).sort(),
    networkQosPolicyId: nets.find((n) => n.id === p.networkId)?.qosPolicyId ?? null,
  }));
}

/** A port the caller sees, or Neutron's 404. */
export async function findPort(db: Db, caller: Caller, id: string, lock = false): Promise<Port> {
  const q = db
    .select()
    .from(ports)
    .where(and(eq(ports.id, id), visiblePorts(caller)));
  const rows = lock ? await q.for('update') : await q;
  if (!rows.length) throw portNotFound(id);
  return (await assemble(db, rows))[0]!;
}

/** What a list may be narrowed by in the store before the generic filters run over the views. */
export interface PortNarrow {
  ids?: string[];
  networkIds?: string[];
  deviceIds?: string[];
  deviceOwners?: string[];
  macAddresses?: string[];
  /** Ports with a fixed IP among these (and on one of subnetIds when both are given). */
  ipAddresses?: string[];
  subnetIds?: string[];
  /** A page in id order: the ports from this id on (inclusive, so that the marker is found). */
  fromId?: string;
  limit?: number;
}

const portColumns = Object.entries(getTableColumns(ports));

/** A port row from its JSON (column names, timestamps as text), as drizzle would have built it. */
function rowFromJson(json: Record<string, unknown>): PortRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of portColumns) row[key] = column.columnType === 'PgTimestamp' ? new Date(json[column.name] as string) : json[column.name];
  return row as PortRow;
}

/**
 * The ports a caller sees, with their addresses and groups, in one query whatever their number:
 * the store builds one JSON document, which costs a fraction of decoding ten thousand rows.
 */
export async function listPorts(db: Db, caller: Caller, n: PortNarrow = {}): Promise<Port[]> {
  let byAddress: SQL | undefined;
  if (n.ipAddresses || n.subnetIds) {
    const on = and(n.ipAddresses && inArray(ipAllocations.ipAddress, n.ipAddresses), n.subnetIds && inArray(ipAllocations.subnetId, n.subnetIds));
    byAddress = inArray(ports.id, db.select({ id: ipAllocations.portId }).from(ipAllocations).where(on));
  }
  const where = and(
    visiblePorts(caller),
    n.ids && inArray(ports.id, n.ids),
    n.networkIds && inArray(ports.networkId, n.networkIds),
    n.deviceIds && inArray(ports.deviceId, n.deviceIds),
    n.deviceOwners && inArray(ports.deviceOwner, n.deviceOwners),
    n.macAddresses && inArray(ports.macAddress, n.macAddresses),
    n.fromId !== undefined ? sql`${ports.id} >= ${n.fromId}` : undefined,
    byAddress,
  );
  const page = sql`select * from ${ports} where ${where ?? sql`true`} order by ${ports.id} ${n.limit !== undefined ? sql`limit ${n.limit}` : sql``}`;
  // Hash joins of whole tables beat one index probe per port at this size.
  const result = await db.execute(sql`
    with p as (${page}),
    ips as (select a.port_id, json_agg(json_build_array(a.subnet_id, a.ip_address)) as ips
            from ${ipAllocations} a join p on p.id = a.port_id group by a.port_id),
    sgs as (select g.port_id, json_agg(g.security_group_id order by g.security_group_id) as groups
            from ${portSecurityGroups} g join p on p.id = g.port_id group by g.port_id)
    select coalesce(json_agg(json_build_object('port', p, 'ips', ips.ips, 'groups', sgs.groups, 'netqos', n.qos_policy_id) order by p.id)::text, '[]') as list
    from p left join ips on ips.port_id = p.id left join sgs on sgs.port_id = p.id left join ${networks} n on n.id = p.network_id`);
  const list = JSON.parse((result as unknown as { rows: { list: string }[] }).rows[0]!.list) as {
    port: Record<string, unknown>;
    ips: [string, string][] | null;
    groups: string[] | null;
    netqos: string | null;
  }[];
  return list.map((x) => ({
    ...rowFromJson(x.port),
    fixedIps: (x.ips ?? []).map(([subnetId, ipAddress]) => ({ subnetId, ipAddress })),
    securityGroups: x.groups ?? [],
    networkQosPolicyId: x.netqos,
  }));
}

const randomMac = () => `fa:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

/** A MAC as Neutron stores it (lower case, colons); 400 for anything but a unicast address. */
export function checkMac(text: string): string {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text);
  const mac = m ? m.slice(1).join(':').toLowerCase() : '';
  if (!m || mac === '00:00:00:00:00:00' || parseInt(m[1]!, 16) & 1)
    throw badRequest(`Invalid input for mac_address. Reason: '${text}' is not a valid MAC address.`);
  return mac;
}

function checkPairs(pairs: AddressPair[], mac: string): AddressPair[] {
  if (pairs.length > MAX_ADDRESS_PAIRS)
    throw badRequest(`Exceeded maximum amount of allowed address pairs (${MAX_ADDRESS_PAIRS}).`, 'AllowedAddressPairExhausted');
  const out: AddressPair[] = [];
  for (const p of pairs) {
    const ip = ipVersion(p.ip_address) ? canonicalIp(p.ip_address) : parseCidr(p.ip_address) ? p.ip_address : undefined;
    if (!ip) throw badRequest(`Invalid input for allowed_address_pairs. Reason: '${p.ip_address}' is not a valid IP address.`);
    const pair = { ip_address: ip, mac_address: p.mac_address ? checkMac(p.mac_address) : mac };
    if (out.some((o) => o.ip_address === pair.ip_address && o.mac_address === pair.mac_address))
      throw badRequest(
        `Request contains duplicate address pair: mac_address ${pair.mac_address} ip_address ${pair.ip_address}.`,
        'DuplicateAddressPairInRequest',
      );
    out.push(pair);
  }
  return out;
}

const subnetsOf = (db: Db, networkId: string) =>
  db.select().from(subnets).where(eq(subnets.networkId, networkId)).orderBy(asc(subnets.createdAt), asc(subnets.id));

/** Each requested fixed IP with its subnet, checked against the network's subnets. */
async function placeRequests(db: Db, networkId: string, onNetwork: SubnetRow[], requests: FixedIpRequest[]): Promise<{ subnet: SubnetRow; ip?: string }[]> {
  if (requests.length > MAX_FIXED_IPS) throw badRequest('Exceeded maximum amount of fixed ips per port.');
  const placed: { subnet: SubnetRow; ip?: string }[] = [];
  for (const r of requests) {
    if (r.ipAddress !== undefined && !ipVersion(r.ipAddress))
      throw badRequest(`Invalid input for fixed_ips. Reason: '${r.ipAddress}' is not a valid IP address.`);
    let subnet: SubnetRow | undefined;
    if (r.subnetId !== undefined) {
      subnet = onNetwork.find((s) => s.id === r.subnetId);
      if (!subnet) {
        const [exists] = await db.select({ id: subnets.id }).from(subnets).where(eq(subnets.id, r.subnetId));
        if (!exists) throw notFound(`Subnet ${r.subnetId} could not be found.`, 'SubnetNotFound');
        throw invalid(`Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${r.subnetId}`);
      }
    } else if (r.ipAddress !== undefined) {
      const n = ipToBigInt(r.ipAddress);
      subnet = onNetwork.find((s) => s.ipVersion === ipVersion(r.ipAddress!) && contains(cidrOf(s), n));
      if (!subnet) throw badRequest(`IP address ${r.ipAddress} is not a valid IP for any of the subnets on the specified network.`, 'InvalidIpForNetwork');
    } else throw invalid('IP allocation requires subnet_id or ip_address');
    const ip = r.ipAddress === undefined ? undefined : canonicalIp(r.ipAddress);
    if (ip && isAutoAddress(subnet))
      throw invalid(`IPv6 address ${ip} cannot be directly assigned to a port on subnet ${subnet.id} as the subnet is configured for automatic addresses`);
    if (ip && placed.some((p) => p.ip === ip && p.subnet.id === subnet.id)) throw invalid(`Duplicate IP address '${ip}'`);
    placed.push({ subnet, ip });
  }
  return placed;
}

/** Allocates what was placed: the named addresses first, so that no free pick takes one of them. */
async function allocatePlaced(tx: Db, port: { id: string; networkId: string; macAddress: string }, placed: { subnet: SubnetRow; ip?: string }[]) {
  const out: { subnetId: string; ipAddress: string }[] = [];
  for (const p of placed) if (p.ip) out.push({ subnetId: p.subnet.id, ipAddress: await allocateAddress(tx, p.subnet, port.id, p.ip) });
  for (const p of placed) {
    if (p.ip) continue;
    const ip = await allocateFree(tx, p.subnet, port.id, port.macAddress);
    if (!ip) throw noMoreAddresses(port.networkId);
    out.push({ subnetId: p.subnet.id, ipAddress: ip });
  }
  return out;
}

/** Neutron's default addresses: one from the first IPv4 subnet with room, one likewise from the
 * stateful IPv6 subnets, and the port's own address on each SLAAC subnet. */
async function allocateDefault(tx: Db, port: { id: string; networkId: string; macAddress: string }, onNetwork: SubnetRow[]) {
  const out: { subnetId: string; ipAddress: string }[] = [];
  const groups = [onNetwork.filter((s) => s.ipVersion === 4), onNetwork.filter((s) => s.ipVersion === 6 && !isAutoAddress(s))];
  for (const group of groups) {
    if (!group.length) continue;
    let got: string | undefined;
    for (const s of group) {
      got = await allocateFree(tx, s, port.id, port.macAddress);
      if (got) {
        out.push({ subnetId: s.id, ipAddress: got });
        break;
      }
    }
    if (!got) throw noMoreAddresses(port.networkId);
  }
  for (const s of onNetwork.filter(isAutoAddress)) out.push({ subnetId: s.id, ipAddress: (await allocateFree(tx, s, port.id, port.macAddress))! });
  return out;
}

/** Creates a port inside tx: checks the network, quota, MAC and fixed IPs, allocates addresses,
 * and tells the agent. Throws the Neutron errors (404 NetworkNotFound, 409 IpAddressAlreadyAllocated,
 * 409 IpAddressGenerationFailure, 400 InvalidIpForSubnet…). */
export async function createPort(tx: Db, input: PortInput): Promise<Port> {
  // Key share: the network cannot be deleted under the new port, yet ports are made side by side.
  const [network] = await tx.select().from(networks).where(eq(networks.id, input.networkId)).for('key share');
  if (!network) throw notFound(`Network ${input.networkId} could not be found.`, 'NetworkNotFound');
  const owner = input.deviceOwner ?? '';
  // The DHCP service's ports are the cloud's, not the project's choice.
  // Service ports of routers' gateways and floating IPs belong to no project: they count
  // against none.
  if (owner !== 'network:dhcp' && input.projectId !== '') await reserve(tx, input.projectId, 'port');
  const portSecurity = input.portSecurityEnabled ?? network.portSecurityEnabled;
  const onNetwork = await subnetsOf(tx, network.id);
  const placed = input.fixedIps && (await placeRequests(tx, network.id, onNetwork, input.fixedIps));
  const asked = input.macAddress === undefined ? undefined : checkMac(input.macAddress);
  const id = randomUUID();
  let row: PortRow | undefined;
  for (let attempt = 0; !row; attempt++) {
    const mac = asked ?? randomMac();
    const pairs = checkPairs(input.allowedAddressPairs ?? [], mac);
    if (pairs.length && !portSecurity) throw pairsNeedPortSecurity();
    [row] = await tx
      .insert(ports)
      .values({
        id,
        networkId: network.id,
        projectId: input.projectId,
        name: input.name ?? '',
        description: input.description ?? '',
        macAddress: mac,
        deviceId: input.deviceId ?? '',
        deviceOwner: owner,
        adminStateUp: input.adminStateUp ?? true,
        portSecurityEnabled: portSecurity,
        allowedAddressPairs: pairs,
        hostId: input.hostId ?? '',
        vnicType: input.vnicType ?? 'normal',
        bindingProfile: input.bindingProfile ?? {},
        dnsName: input.dnsName ?? '',
        extraDhcpOpts: newExtraDhcpOpts(input.extraDhcpOpts ?? []),
        qosPolicyId: input.qosPolicyId ? await usablePolicy(tx, input.projectId, input.qosPolicyId) : null,
      })
      // The (network, MAC) key: a taken random MAC is drawn again; a taken chosen one is a 409.
      .onConflictDoNothing()
      .returning();
    if (!row && (asked || attempt > 10))
      throw conflict(`Unable to complete operation for network ${network.id}. The mac address ${mac} is in use.`, 'MacAddressInUse');
  }
  const fixedIps = placed ? await allocatePlaced(tx, row, placed) : await allocateDefault(tx, row, onNetwork);
  let groups: string[] = [];
  if (input.securityGroups !== undefined) {
    groups = await resolveSecurityGroups(tx, input.projectId, input.securityGroups);
    if (groups.length && (!portSecurity || !fixedIps.length)) throw securityNeedsPortSecurity();
  } else if (portSecurity && fixedIps.length && !owner.startsWith('network:')) {
    groups = [await defaultSecurityGroupId(tx, input.projectId)];
  }
  if (groups.length) await tx.insert(portSecurityGroups).values(groups.map((securityGroupId) => ({ portId: id, securityGroupId })));
  await dataplaneChanged(tx, `port:${id}`, `network:${network.id}`, 'firewall');
  return { ...row, fixedIps, securityGroups: groups.sort(), networkQosPolicyId: network.qosPolicyId };
}

export interface PortChanges {
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  deviceId?: string;
  deviceOwner?: string;
  macAddress?: string;
  fixedIps?: FixedIpRequest[];
  securityGroups?: string[];
  portSecurityEnabled?: boolean;
  allowedAddressPairs?: AddressPair[];
  hostId?: string;
  vnicType?: string;
  bindingProfile?: Record<string, unknown>;
  dnsName?: string;
  extraDhcpOpts?: ExtraDhcpOptRequest[];
  qosPolicyId?: string | null;
}

/**
 * Changes a port (no ownership checks: callers did them). fixed_ips replaces the port's addresses:
 * an entry that names one it has keeps it, one that names only a subnet it has an address on keeps
 * that address, the rest are allocated; addresses left out are released.
 */
export async function updatePort(tx: Db, id: string, changes: PortChanges): Promise<Port> {
  const port = await findPort(tx, { projectId: '', isAdmin: true }, id, true);
  let fixedIps = port.fixedIps;
  const mac = changes.macAddress === undefined ? port.macAddress : checkMac(changes.macAddress);
  if (mac !== port.macAddress && port.hostId) throw conflict(`Unable to complete operation on port ${id}, port is already bound.`, 'PortBound');
  if (changes.fixedIps) {
    const onNetwork = await subnetsOf(tx, port.networkId);
    const placed = await placeRequests(tx, port.networkId, onNetwork, changes.fixedIps);
    const kept: typeof fixedIps = [];
    const wanted: typeof placed = [];
    for (const p of placed) {
      const have = port.fixedIps.find((f) => f.subnetId === p.subnet.id && (p.ip ? f.ipAddress === p.ip : true) && !kept.includes(f));
      if (have) kept.push(have);
      else wanted.push(p);
    }
    await checkFixedIpsKept(
      tx,
      id,
      kept.map((f) => f.ipAddress),
    );
    await releaseAddresses(
      tx,
      id,
      port.fixedIps.filter((f) => !kept.includes(f)),
    );
    fixedIps = [...kept, ...(await allocatePlaced(tx, { id, networkId: port.networkId, macAddress: mac }, wanted))];
  }
  const portSecurity = changes.portSecurityEnabled ?? port.portSecurityEnabled;
  const pairs = changes.allowedAddressPairs === undefined ? port.allowedAddressPairs : checkPairs(changes.allowedAddressPairs, mac);
  if (pairs.length && !portSecurity) throw pairsNeedPortSecurity();
  let groups = port.securityGroups;
  if (changes.securityGroups !== undefined) {
    groups = await resolveSecurityGroups(tx, port.projectId, changes.securityGroups);
    if (groups.length && (!portSecurity || !fixedIps.length)) throw securityNeedsPortSecurity();
  } else if (groups.length && (!portSecurity || !fixedIps.length)) {
    throw conflict(
      'Port has security group associated. Cannot disable port security or ip address until security group is removed',
      'PortSecurityPortHasSecurityGroup',
    );
  }
  if (changes.securityGroups !== undefined) {
    await tx.delete(portSecurityGroups).where(eq(portSecurityGroups.portId, id));
    if (groups.length) await tx.insert(portSecurityGroups).values(groups.map((securityGroupId) => ({ portId: id, securityGroupId })));
  }
  const [row] = await tx
    .update(ports)
    .set({
      name: changes.name,
      description: changes.description,
      adminStateUp: changes.adminStateUp,
      deviceId: changes.deviceId,
      deviceOwner: changes.deviceOwner,
      macAddress: mac,
      portSecurityEnabled: portSecurity,
      allowedAddressPairs: pairs,
      hostId: changes.hostId,
      vnicType: changes.vnicType,
      bindingProfile: changes.bindingProfile,
      dnsName: changes.dnsName,
      extraDhcpOpts: changes.extraDhcpOpts && mergeExtraDhcpOpts(port.extraDhcpOpts, changes.extraDhcpOpts),
      qosPolicyId: changes.qosPolicyId ? await usablePolicy(tx, port.projectId, changes.qosPolicyId) : changes.qosPolicyId,
      revision: sql`${ports.revision} + 1`,
      updatedAt: new Date(),
    })
    .where(eq(ports.id, id))
    .returning();
  await dataplaneChanged(tx, `port:${id}`, `network:${port.networkId}`, 'firewall');
  return { ...row!, fixedIps, securityGroups: [...groups].sort(), networkQosPolicyId: port.networkQosPolicyId };
}

export async function setPortTags(tx: Db, id: string, tags: string[]): Promise<string[]> {
  const unique = [...new Set(tags)];
  await tx
    .update(ports)
    .set({ tags: unique, revision: sql`${ports.revision} + 1`, updatedAt: new Date() })
    .where(eq(ports.id, id));
  return unique;
}

/** Deletes a port and releases its addresses (no ownership checks: callers did them). */
export async function deletePort(tx: Db, id: string): Promise<void> {
  // A floating IP on it is let go first (its router stops NAT'ing to an address that may be
  // handed out again); its allocations and group bindings go with it (cascade).
  await disassociatePort(tx, id);
  const [gone] = await tx.delete(ports).where(eq(ports.id, id)).returning({ networkId: ports.networkId });
  if (!gone) throw portNotFound(id);
  await dataplaneChanged(tx, `port:${id}`, `network:${gone.networkId}`, 'firewall');
}
