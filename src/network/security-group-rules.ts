import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { reserve } from './quotas.ts';
import { getSecurityGroupRow, type SecurityGroupRuleRow, type Visibility } from './security-groups.ts';
import { securityGroupRules, securityGroups } from './tables.ts';

// The protocol names Neutron accepts, with their numbers (icmpv6 is its legacy alias of ipv6-icmp).
const PROTOCOLS: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  icmpv6: 58,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};
/** Protocols whose rules take a port range: tcp, udp, dccp, sctp, udplite. */
const WITH_PORTS = new Set([6, 17, 33, 132, 136]);
/** Protocols that only exist in IPv6: ipv6-encap, -frag, -icmp, -nonxt, -opts, -route. */
const IPV6_ONLY = new Set([41, 43, 44, 58, 59, 60]);

const protocolNumber = (p: string) => PROTOCOLS[p] ?? Number(p);

/** The rule as a client sends it, fields in Neutron's names still unchecked. */
export interface RuleInput {
  security_group_id: string;
  direction: unknown;
  ethertype?: unknown;
  protocol?: unknown;
  port_range_min?: unknown;
  port_range_max?: unknown;
  remote_ip_prefix?: unknown;
  remote_group_id?: unknown;
  remote_address_group_id?: unknown;
  description?: unknown;
}

const invalid = (field: string, reason: string) => badRequest(`Invalid input for ${field}. Reason: ${reason}.`, 'InvalidInput');

function choice<T extends string>(field: string, value: unknown, allowed: readonly T[], caseless = false): T {
  const found = allowed.find((a) => (caseless && typeof value === 'string' ? a.toLowerCase() === value.toLowerCase() : a === value));
  if (!found) throw invalid(field, `'${String(value)}' is not in [${allowed.map((a) => `'${a}'`).join(', ')}]`);
  return found;
}

/** A protocol as Neutron stores it: a known name in lower case, or a number 1–255 as text; any
 * (the word, 0, or nothing) as null. */
function protocolOf(value: unknown): string | null {
  if (value === null || value === undefined || value === 'any' || value === 0 || value === '0') return null;
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text !== undefined && /^\d+$/.test(text) && Number(text) <= 255) return String(Number(text));
  if (text !== undefined && Object.hasOwn(PROTOCOLS, text)) return text;
  throw badRequest(
    `Security group rule protocol ${String(value)} not supported. Only protocol values [None, ${Object.keys(PROTOCOLS)
      .map((p) => `'${p}'`)
      .join(', ')}] and integer representations [0 to 255] are supported.`,
    'SecurityGroupRuleInvalidProtocol',
  );
}

function portOf(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw badRequest(`Invalid value for port ${String(value)}`, 'SecurityGroupInvalidPortValue');
  return n;
}

/** An address as a number, and its family; undefined when it is not one. */
function parseAddress(text: string): { value: bigint; version: 4 | 6 } | undefined {
  const version = isIP(text);
  if (version === 4) return { version, value: text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n) };
  if (version !== 6) return undefined;
  let groups = text.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (v4) {
    const n = parseAddress(v4[1]!)!.value;
    groups = groups.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = groups.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return { version, value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function formatAddress(value: bigint, version: 4 | 6): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const full = [...Array(8).keys()].map((i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
  // The URL parser writes IPv6 in its canonical, compressed form.
  return new URL(`http://[${full}]/`).hostname.slice(1, -1);
}

export interface Prefix {
  /** As the client gave it, with the prefix length made explicit (Neutron's remote_ip_prefix). */
  cidr: string;
  /** The network address with the prefix length (Neutron's normalized_cidr). */
  normalized: string;
  version: 4 | 6;
}

/** Parses an address or CIDR; a bare address stands for itself alone (/32, /128). */
export function parsePrefix(text: string): Prefix | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const addr = m && parseAddress(m[1]!);
  if (!m || !addr) return undefined;
  const bits = addr.version === 4 ? 32 : 128;
  const len = m[2] === undefined ? bits : Number(m[2]);
  if (len > bits) return undefined;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);
  return {
    cidr: `${formatAddress(addr.value, addr.version)}/${len}`,
    normalized: `${formatAddress(addr.value & mask, addr.version)}/${len}`,
    version: addr.version,
  };
}

/** Neutron's normalized_cidr of a stored rule. */
export const normalizedCidr = (remoteIpPrefix: string | null) => (remoteIpPrefix ? (parsePrefix(remoteIpPrefix)?.normalized ?? remoteIpPrefix) : null);

type ParsedRule = Omit<typeof securityGroupRules.$inferInsert, 'id' | 'projectId'>;

/** Checks a rule as Neutron does, field by field and then as a whole, and returns it as stored. */
export function parseRule(input: RuleInput): ParsedRule {
  const direction = choice('direction', input.direction, ['ingress', 'egress'] as const);
  const ethertype = input.ethertype === undefined || input.ethertype === null ? 'IPv4' : choice('ethertype', input.ethertype, ['IPv4', 'IPv6'] as const, true);
  let protocol = protocolOf(input.protocol);
  const portRangeMin = portOf(input.port_range_min);
  const portRangeMax = portOf(input.port_range_max);
  let remoteIpPrefix: string | null = null;
  if (input.remote_ip_prefix !== null && input.remote_ip_prefix !== undefined && input.remote_ip_prefix !== '') {
    const prefix = typeof input.remote_ip_prefix === 'string' ? parsePrefix(input.remote_ip_prefix) : undefined;
    if (!prefix) throw badRequest(`Invalid CIDR ${String(input.remote_ip_prefix)} given as IP prefix.`, 'InvalidCIDR');
    if (`IPv${prefix.version}` !== ethertype)
      throw badRequest(`Conflicting value ethertype ${ethertype} for CIDR ${prefix.cidr}`, 'SecurityGroupRuleParameterConflict');
    remoteIpPrefix = prefix.cidr;
  }
  const remoteGroupId = input.remote_group_id ?? null;
  if (remoteGroupId !== null && typeof remoteGroupId !== 'string') throw invalid('remote_group_id', `'${String(remoteGroupId)}' is not a valid UUID`);
  if (input.remote_address_group_id !== null && input.remote_address_group_id !== undefined)
    throw notFound(`Address group ${String(input.remote_address_group_id)} could not be found.`, 'AddressGroupNotFound');
  const description = input.description ?? '';
  if (typeof description !== 'string' || description.length > 255) throw invalid('description', `'${String(description)}' is not a valid string`);

  // Neutron keeps ICMP for IPv6 under one name, whatever the client called it.
  if (ethertype === 'IPv6' && (protocol === 'icmp' || protocol === 'icmpv6')) protocol = 'ipv6-icmp';
  if (ethertype === 'IPv6' && protocol === '1') protocol = '58';

  if (portRangeMin !== null || portRangeMax !== null) {
    if (protocol === null) throw badRequest('Must also specify protocol if port range is given.', 'SecurityGroupProtocolRequiredWithPorts');
    const number = protocolNumber(protocol);
    if (WITH_PORTS.has(number)) {
      if (portRangeMin === 0 || portRangeMax === 0) throw badRequest('Invalid value for port 0', 'SecurityGroupInvalidPortValue');
      if (portRangeMin === null || portRangeMax === null || portRangeMin > portRangeMax)
        throw badRequest('For TCP/UDP protocols, port_range_min must be <= port_range_max', 'SecurityGroupInvalidPortRange');
    } else if (number === 1 || number === 58) {
      for (const [attr, field, value] of [
        ['port_range_min', 'type', portRangeMin],
        ['port_range_max', 'code', portRangeMax],
      ] as const) {
        if (value !== null && value > 255)
          throw badRequest(`Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`, 'SecurityGroupInvalidIcmpValue');
      }
      if (portRangeMin === null)
        throw badRequest(`ICMP code (port-range-max) ${portRangeMax} is provided but ICMP type (port-range-min) is missing.`, 'SecurityGroupMissingIcmpType');
    } else {
      throw badRequest(
        `Invalid protocol ${number} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP protocols.`,
        'SecurityGroupInvalidProtocolForPort',
      );
    }
  }
  if (ethertype === 'IPv4' && protocol !== null && IPV6_ONLY.has(protocolNumber(protocol)))
    throw badRequest(`Invalid ethertype ${ethertype} for protocol ${protocol}.`, 'SecurityGroupEthertypeConflictWithProtocol');
  if (remoteIpPrefix && remoteGroupId)
    throw badRequest('Only remote_ip_prefix or remote_group_id may be provided.', 'SecurityGroupRemoteGroupAndRemoteIpPrefix');
  return { securityGroupId: input.security_group_id, direction, ethertype, protocol, portRangeMin, portRangeMax, remoteIpPrefix, remoteGroupId, description };
}

/** What makes two rules the same to Neutron: a protocol by name or number, and an all-addresses
 * prefix or none, are one. */
function ruleKey(r: ParsedRule): string {
  const prefix = normalizedCidr(r.remoteIpPrefix ?? null);
  return JSON.stringify([
    r.direction,
    r.ethertype,
    r.protocol == null ? null : protocolNumber(r.protocol),
    r.portRangeMin ?? null,
    r.portRangeMax ?? null,
    r.remoteGroupId ?? null,
    prefix === '0.0.0.0/0' || prefix === '::/0' ? null : prefix,
  ]);
}

const ruleNotFound = (id: string) => notFound(`Security group rule ${id} does not exist`, 'SecurityGroupRuleNotFound');

/** A group's revision moves on with each change of its rules. */
export const touchGroup = (tx: Db, id: string) =>
  tx
    .update(securityGroups)
    .set({ revision: sql`${securityGroups.revision} + 1`, updatedAt: new Date() })
    .where(eq(securityGroups.id, id));

/** Adds a rule to a group the caller sees; it belongs to the group's project and counts there. */
export async function createRule(tx: Db, v: Visibility, input: RuleInput): Promise<SecurityGroupRuleRow> {
  const rule = parseRule(input);
  const group = await getSecurityGroupRow(tx, v, rule.securityGroupId);
  if (rule.remoteGroupId) await getSecurityGroupRow(tx, v, rule.remoteGroupId);
  // The quota lock also keeps two identical rules created at once from both passing the check below.
  await reserve(tx, group.projectId, 'security_group_rule');
  const key = ruleKey(rule);
  const existing = await tx.select().from(securityGroupRules).where(eq(securityGroupRules.securityGroupId, group.id));
  const same = existing.find((r) => ruleKey(r) === key);
  if (same) throw conflict(`Security group rule already exists. Rule id is ${same.id}.`, 'SecurityGroupRuleExists');
  const [row] = await tx
    .insert(securityGroupRules)
    .values({ id: randomUUID(), projectId: group.projectId, ...rule })
    .returning();
  await touchGroup(tx, group.id);
  await dataplaneChanged(tx, 'firewall');
  return row!;
}

const visibleRules = (v: Visibility) => (v === 'all' ? undefined : eq(securityGroupRules.projectId, v.projectId));

export async function getRule(db: Db, v: Visibility, id: string): Promise<SecurityGroupRuleRow> {
  const [row] = await db
    .select()
    .from(securityGroupRules)
    .where(and(eq(securityGroupRules.id, id), visibleRules(v)));
  if (!row) throw ruleNotFound(id);
  return row;
}

/** The rules the caller sees, of the given groups only when groupIds is set. */
export async function listRules(db: Db, v: Visibility, groupIds?: string[]): Promise<SecurityGroupRuleRow[]> {
  return db
    .select()
    .from(securityGroupRules)
    .where(and(visibleRules(v), groupIds ? inArray(securityGroupRules.securityGroupId, groupIds) : undefined))
    .orderBy(asc(securityGroupRules.createdAt), asc(securityGroupRules.id));
}

export async function deleteRule(tx: Db, v: Visibility, id: string): Promise<void> {
  const rule = await getRule(tx, v, id);
  await tx.delete(securityGroupRules).where(eq(securityGroupRules.id, id));
  await touchGroup(tx, rule.securityGroupId);
  await dataplaneChanged(tx, 'firewall');
}
