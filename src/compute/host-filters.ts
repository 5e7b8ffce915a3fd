// The scheduler's filters and weighers as pure functions of what it read in its transaction, so
// that each choice can be explained (which filter refused which host) and tested without a store.

import type { FlavorCopy } from './tables.ts';

/** What the scheduler knows of one host when it places a server. */
export interface Candidate {
  name: string;
  /** Its compute service is enabled and its heartbeat fresh. */
  enabled: boolean;
  up: boolean;
  zone: string;
  arch: string;
  /** What it offers after allocation ratios and reserved memory, and what is placed on it already. */
  free: { vcpus: number; ram: number; disk: number };
  /** The metadata of the aggregates it is in: each key with every value some aggregate gives it. */
  aggregateMetadata: Map<string, Set<string>>;
  /** Members of the server's group already on it. */
  members: number;
}

/** What the server asks of a host. */
export interface Request {
  zone: string | null;
  flavor: FlavorCopy;
  /** The image's hw_architecture (or its older name, architecture), when it gives one. */
  arch?: string;
  group?: { policy: string; maxPerHost: number; placed: number };
}

export interface Filter {
  name: string;
  passes(h: Candidate, r: Request): boolean;
}

// Nova accepts an architecture under several names; these are the ones hosts report.
const ARCH_ALIASES: Record<string, string> = { amd64: 'x86_64', x64: 'x86_64', arm64: 'aarch64', i386: 'i686' };
const canonicalArch = (a: string) => ARCH_ALIASES[a.toLowerCase()] ?? a.toLowerCase();

/** The flavor's extra specs that aggregates must match: scoped ones, and unscoped keys as Nova's filter reads them. */
function aggregateSpecs(flavor: FlavorCopy): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(flavor.extraSpecs ?? {})) {
    const scope = key.indexOf(':');
    if (scope < 0) out.push([key, value]);
    else if (key.slice(0, scope) === 'aggregate_instance_extra_specs') out.push([key.slice(scope + 1), value]);
  }
  return out;
}

/** Nova's filters, in the order it runs them by default: the cheap and the common first. */
export const FILTERS: Filter[] = [
  { name: 'ComputeFilter', passes: (h) => h.enabled && h.up },
  { name: 'AvailabilityZoneFilter', passes: (h, r) => r.zone === null || h.zone === r.zone },
  { name: 'RamFilter', passes: (h, r) => h.free.ram >= r.flavor.ram },
  { name: 'CoreFilter', passes: (h, r) => h.free.vcpus >= r.flavor.vcpus },
  { name: 'DiskFilter', passes: (h, r) => h.free.disk >= r.flavor.disk + r.flavor.ephemeral },
  { name: 'ImagePropertiesFilter', passes: (h, r) => r.arch === undefined || canonicalArch(r.arch) === canonicalArch(h.arch) },
  {
    // A spec's value may list alternatives (`ssd,nvme`), as may the aggregates' values.
    name: 'AggregateInstanceExtraSpecsFilter',
    passes: (h, r) =>
      aggregateSpecs(r.flavor).every(([key, value]) => {
        const have = h.aggregateMetadata.get(key);
        return have !== undefined && value.split(',').some((v) => have.has(v.trim()));
      }),
  },
  {
    name: 'ServerGroupAffinityFilter',
    // The first member goes anywhere; the others go where it went.
    passes: (h, r) => r.group?.policy !== 'affinity' || r.group.placed === 0 || h.members > 0,
  },
  { name: 'ServerGroupAntiAffinityFilter', passes: (h, r) => r.group?.policy !== 'anti-affinity' || h.members < r.group.maxPerHost },
];

/** spread: the emptiest host first (Nova's default, positive multipliers); stack: the fullest that fits. */
export type WeighMode = 'spread' | 'stack';

/** Scales values to 0..1 over the candidates, as Nova's weighers are normalised before they are summed. */
function normalised(values: number[]): number[] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((x) => (hi === lo ? 0 : (x - lo) / (hi - lo)));
}

export interface Weighed {
  name: string;
  weight: number;
}

/**
 * Orders the hosts that passed every filter, best first. Free RAM and free vCPUs are weighed alike
 * (RAMWeigher, CPUWeigher), towards the emptiest host in spread mode and the fullest in stack
 * mode; a soft group policy (ServerGroupSoftAffinityWeigher and its anti twin) outweighs both.
 * Ties go to the host named first, so that the order is the same on every controller.
 */
export function weigh(hosts: Candidate[], r: Request, mode: WeighMode): Weighed[] {
  const sign = mode === 'spread' ? 1 : -1;
  const ram = normalised(hosts.map((h) => h.free.ram));
  const cpu = normalised(hosts.map((h) => h.free.vcpus));
  const soft = r.group?.policy === 'soft-affinity' ? 1 : r.group?.policy === 'soft-anti-affinity' ? -1 : 0;
  const group = normalised(hosts.map((h) => soft * h.members));
  return hosts
    .map((h, i) => ({ name: h.name, weight: 3 * group[i]! + sign * (ram[i]! + cpu[i]!) }))
    .sort((a, b) => b.weight - a.weight || a.name.localeCompare(b.name));
}

/** The hosts each filter refused, by filter name, and the ones that passed them all. */
export function filterHosts(hosts: Candidate[], r: Request): { passed: Candidate[]; refused: Record<string, string[]> } {
  const refused: Record<string, string[]> = {};
  let left = hosts;
  for (const f of FILTERS) {
    const next = left.filter((h) => f.passes(h, r));
    if (next.length < left.length) refused[f.name] = left.filter((h) => !next.includes(h)).map((h) => h.name);
    left = next;
  }
  return { passed: left, refused };
}
