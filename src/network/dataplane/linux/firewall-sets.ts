import type { PortSpec } from '../driver.ts';
import type { Family } from './firewall-rules.ts';

// A rule whose remote is a security group matches the group's addresses through an ipset, as
// Neutron's iptables firewall does: one rule per port that names the set, where a rule per member
// would make every port's chain grow with its group, and the host's rules with the square of it.

/** The set of a remote group's addresses in one family: at most 31 characters with the `-t` of
 * its replacement (the prefix is at most 14). */
export const remoteSet = (prefix: string, group: string, family: Family) => `${prefix}-${family}${group.slice(0, 11)}`;

/** Whether a set name is one of ours, a replacement left by a crash included. */
export const isOurSet = (prefix: string, name: string) => name.startsWith(`${prefix}-`) && /^[46][0-9a-f-]{11}(-t)?$/.test(name.slice(prefix.length + 1));

export interface RemoteSet {
  family: Family;
  /** Addresses with prefix (/32, /128). */
  members: string[];
}

/** The sets the ports' rules name, by set name. */
export function wantedSets(prefix: string, secured: PortSpec[]): Map<string, RemoteSet> {
  const out = new Map<string, RemoteSet>();
  for (const rule of secured.flatMap((p) => p.security?.rules ?? [])) {
    if (rule.remoteGroup === undefined) continue;
    const family: Family = rule.ethertype === 'IPv4' ? 4 : 6;
    const name = remoteSet(prefix, rule.remoteGroup, family);
    if (!out.has(name)) out.set(name, { family, members: [...new Set(rule.remotes ?? [])].sort() });
  }
  return out;
}

/** The `ipset restore` input that gives each set exactly its members, each in one swap: a set is
 * filled aside and swapped in, so that no packet meets it half-filled. */
export function setsRestore(sets: Map<string, RemoteSet>): string {
  const lines: string[] = [];
  for (const [name, set] of sets) {
    const type = `hash:net family ${set.family === 4 ? 'inet' : 'inet6'}`;
    lines.push(`create ${name}-t ${type} -exist`, `flush ${name}-t`, ...set.members.map((m) => `add ${name}-t ${m}`));
    lines.push(`create ${name} ${type} -exist`, `swap ${name}-t ${name}`, `destroy ${name}-t`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
