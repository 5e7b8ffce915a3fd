import { tapName, type FirewallRule, type PortSpec } from '../driver.ts';
import { isV4 } from './cidr.ts';
import { remoteSet } from './firewall-sets.ts';

// Security groups rendered as pure text: an iptables-restore input per address family (stateful,
// through br_netfilter and physdev, as Neutron's iptables firewall does it) and an nftables bridge
// table against ARP and MAC spoofing (stateless, which is all the bridge family does on this kernel).
//
// A packet between a port and anything else enters `<prefix>-sg` from FORWARD once per secured
// port it touches; each port's chain RETURNs what it allows and DROPs the rest, so a packet from
// one port to another passes the sender's egress and the receiver's ingress before the ACCEPT at
// the end of `<prefix>-sg`.

export type Family = 4 | 6;

/** The host's filter table as far as it concerns us, read from iptables-save. */
export interface FilterState {
  /** Our chains (named with our prefix). */
  chains: string[];
  /** How many times each of the built-in chains jumps to ours. */
  jumps: { FORWARD: number; INPUT: number };
}

export const topChains = (prefix: string) => ({ FORWARD: `${prefix}-FORWARD`, INPUT: `${prefix}-INPUT`, sg: `${prefix}-sg` });

export const portChains = (prefix: string, portId: string) => {
  const short = portId.slice(0, 11);
  return { ingress: `${prefix}-i${short}`, egress: `${prefix}-o${short}`, spoof: `${prefix}-s${short}` };
};

export function parseFilterState(save: string, prefix: string): FilterState {
  const top = topChains(prefix);
  const lines = save.split('\n');
  return {
    chains: lines.flatMap((l) => (l.startsWith(`:${prefix}-`) ? [l.slice(1, l.indexOf(' '))] : [])),
    jumps: {
      FORWARD: lines.filter((l) => l === `-A FORWARD -j ${top.FORWARD}`).length,
      INPUT: lines.filter((l) => l === `-A INPUT -j ${top.INPUT}`).length,
    },
  };
}

/** The EUI-64 link-local address the kernel gives an interface with this MAC. */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const eui = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  const groups = [0, 2, 4, 6].map((i) => ((eui[i]! << 8) | eui[i + 1]!).toString(16));
  return `fe80::${groups.join(':')}`;
}

const NUMBERED: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'ipv6-icmp', '132': 'sctp' };
const WITH_PORTS = new Set(['tcp', 'udp', 'sctp', 'udplite', 'dccp']);

/** The match of one rule, once per remote prefix (none when its remote list is empty), or once
 * naming its remote group's set (./firewall-sets.ts). */
export function ruleMatches(rule: FirewallRule, family: Family, prefix: string): string[][] {
  const named = rule.protocol === undefined ? undefined : (NUMBERED[rule.protocol] ?? rule.protocol.toLowerCase());
  // Neutron lets an IPv6 rule say icmp for ICMPv6.
  const proto = family === 6 && (named === 'icmp' || named === 'icmpv6') ? 'ipv6-icmp' : named;
  const match: string[] = [];
  if (proto && proto !== 'any') match.push('-p', proto);
  const { portRangeMin: min, portRangeMax: max } = rule;
  if (proto && WITH_PORTS.has(proto) && min !== undefined) {
    match.push('-m', proto, '--dport', max === undefined || max === min ? `${min}` : `${min}:${max}`);
  } else if ((proto === 'icmp' || proto === 'ipv6-icmp') && min !== undefined) {
    match.push(proto === 'icmp' ? '--icmp-type' : '--icmpv6-type', max === undefined ? `${min}` : `${min}/${max}`);
  }
  if (rule.remoteGroup !== undefined) return [['-m', 'set', '--match-set', remoteSet(prefix, rule.remoteGroup, family), rule.direction === 'ingress' ? 'src' : 'dst', ...match]];
  if (rule.remotes === undefined) return [match];
  const flag = rule.direction === 'ingress' ? '-s' : '-d';
  return rule.remotes.filter((r) => isV4(r) === (family === 4)).map((r) => [flag, r, ...match]);
}

/** What a port may send from: its addresses and allowed pairs, each with its MAC. */
function sources(port: PortSpec, family: Family): { ip: string; mac: string }[] {
  const pairs = [...port.ips.map((ip) => ({ ip, mac: port.mac })), ...(port.security?.allowedPairs ?? [])];
  const linkLocal = family === 6 ? [...new Set(pairs.map((p) => p.mac))].map((mac) => ({ ip: linkLocalOf(mac), mac })) : [];
  return [...pairs.filter((p) => isV4(p.ip) === (family === 4)), ...linkLocal];
}

const CT_OK = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'];
const CT_INVALID = ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'];
const icmp6 = (type: number, verdict: string) => ['-p', 'ipv6-icmp', '--icmpv6-type', String(type), '-j', verdict];

/** The ingress, egress and spoofing chains of one port, as `-A` lines. */
function portRules(prefix: string, port: PortSpec, family: Family): string[][] {
  const c = portChains(prefix, port.id);
  const rules = port.security?.rules.filter((r) => r.ethertype === (family === 4 ? 'IPv4' : 'IPv6')) ?? [];
  const allowed = (direction: FirewallRule['direction']) =>
    rules.filter((r) => r.direction === direction).flatMap((r) => ruleMatches(r, family, prefix).map((m) => [...m, '-j', 'RETURN']));
  const ingress = [
    CT_OK,
    // Replies of the DHCP server, and for IPv6 the neighbour discovery and router advertisements a port cannot live without.
    ...(family === 4 ? [['-p', 'udp', '--sport', '67', '--dport', '68', '-j', 'RETURN']] : [130, 131, 132, 134, 135, 136].map((t) => icmp6(t, 'RETURN'))),
    ...(family === 6 ? [['-p', 'udp', '--sport', '547', '--dport', '546', '-j', 'RETURN']] : []),
    CT_INVALID,
    ...allowed('ingress'),
    ['-j', 'DROP'],
  ];
  const egress = [
    // A DHCP request or duplicate address detection goes out before the port has an address.
    ...(family === 4
      ? [['-s', '0.0.0.0/32', '-d', '255.255.255.255/32', '-p', 'udp', '--sport', '68', '--dport', '67', '-j', 'RETURN']]
      : [131, 135, 143].map((t) => ['-s', '::/128', ...icmp6(t, 'RETURN')])),
    ['-j', c.spoof],
    ...(family === 4
      ? [
          ['-p', 'udp', '--sport', '68', '--dport', '67', '-j', 'RETURN'],
          ['-p', 'udp', '--sport', '67', '-j', 'DROP'],
        ]
      : [
          icmp6(134, 'DROP'),
          ['-p', 'udp', '--sport', '547', '-j', 'DROP'],
          ...[133, 135, 136, 143].map((t) => icmp6(t, 'RETURN')),
          ['-p', 'udp', '--sport', '546', '--dport', '547', '-j', 'RETURN'],
        ]),
    CT_OK,
    CT_INVALID,
    ...allowed('egress'),
    ['-j', 'DROP'],
  ];
  const spoof = [...sources(port, family).map((s) => ['-s', s.ip, '-m', 'mac', '--mac-source', s.mac, '-j', 'RETURN']), ['-j', 'DROP']];
  return [...ingress.map((r) => ['-A', c.ingress, ...r]), ...egress.map((r) => ['-A', c.egress, ...r]), ...spoof.map((r) => ['-A', c.spoof, ...r])];
}

/**
 * The iptables-restore --noflush input that makes our part of the filter table exactly this:
 * every chain of ours is declared (which flushes it), filled if wanted, deleted if not, and the
 * jumps from FORWARD and INPUT made to exist once (or not at all when no port is secured). Rules
 * that are not ours are never named. Undefined when there is nothing to do.
 */
export function filterRestore(prefix: string, family: Family, secured: PortSpec[], state: FilterState): string | undefined {
  const top = topChains(prefix);
  const want = secured.length ? [top.FORWARD, top.INPUT, top.sg, ...secured.flatMap((p) => Object.values(portChains(prefix, p.id)))] : [];
  if (!want.length && !state.chains.length && !state.jumps.FORWARD && !state.jumps.INPUT) return undefined;
  const lines: string[][] = [];
  for (const builtin of ['FORWARD', 'INPUT'] as const) {
    const wanted = want.length ? 1 : 0;
    for (let n = state.jumps[builtin]; n > wanted; n--) lines.push(['-D', builtin, '-j', top[builtin]]);
    if (wanted && !state.jumps[builtin]) lines.push(['-I', builtin, '1', '-j', top[builtin]]);
  }
  for (const port of secured) {
    const tap = tapName(port.id);
    const c = portChains(prefix, port.id);
    for (const dir of ['--physdev-out', '--physdev-in']) lines.push(['-A', top.FORWARD, '-m', 'physdev', dir, tap, '--physdev-is-bridged', '-j', top.sg]);
    lines.push(['-A', top.sg, '-m', 'physdev', '--physdev-out', tap, '--physdev-is-bridged', '-j', c.ingress]);
    lines.push(['-A', top.sg, '-m', 'physdev', '--physdev-in', tap, '--physdev-is-bridged', '-j', c.egress]);
    // What a port sends to the host itself is held to the same egress rules.
    lines.push(['-A', top.INPUT, '-m', 'physdev', '--physdev-in', tap, '-j', c.egress]);
    lines.push(...portRules(prefix, port, family));
  }
  if (secured.length) lines.push(['-A', top.sg, '-j', 'ACCEPT']);
  const stale = state.chains.filter((c) => !want.includes(c));
  for (const chain of stale) lines.push(['-X', chain]);
  const declared = [...new Set([...want, ...state.chains])].map((c) => `:${c} - [0:0]`);
  return ['*filter', ...declared, ...lines.map((l) => l.join(' ')), 'COMMIT', ''].join('\n');
}

/**
 * The nftables bridge table that holds each secured port to its own MACs, and its ARP to its own
 * addresses (0.0.0.0 for address probes): ARP never reaches iptables.
 */
export function arpRuleset(table: string, secured: PortSpec[]): string {
  const reset = `table bridge ${table}\ndelete table bridge ${table}\n`;
  if (!secured.length) return reset;
  const chains = secured.map((port) => {
    const pairs = sources(port, 4);
    const macs = [...new Set([port.mac, ...pairs.map((p) => p.mac)])];
    return [
      `  chain port-${port.id.slice(0, 11)} {`,
      `    ether saddr != { ${macs.join(', ')} } drop`,
      '    ether type != arp return',
      '    arp saddr ip 0.0.0.0 return',
      ...pairs.map((p) => `    arp saddr ip ${p.ip} arp saddr ether ${p.mac} return`),
      '    drop',
      '  }',
    ].join('\n');
  });
  const dispatch = secured.map((p) => `    iifname ${JSON.stringify(tapName(p.id))} jump port-${p.id.slice(0, 11)}`);
  return `${reset}table bridge ${table} {\n${chains.join('\n')}\n  chain prerouting {\n    type filter hook prerouting priority 0; policy accept;\n${dispatch.join('\n')}\n  }\n}\n`;
}
