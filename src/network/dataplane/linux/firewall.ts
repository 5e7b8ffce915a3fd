import type { PortSpec } from '../driver.ts';
import type { Context } from './context.ts';
import { arpRuleset, filterRestore, parseFilterState, portChains, topChains, type Family, type FilterState } from './firewall-rules.ts';
import { isOurSet, setsRestore, wantedSets } from './firewall-sets.ts';

// Applies every port's security groups at once, in the host namespace (./firewall-rules.ts says
// how). Reading the filter table back costs in proportion to every rule on the host, so it is read
// once, and then known from what was applied: again only when told to (the agent's resync), after a
// failure (the kernel may hold anything then), and by a new process.

const TOOLS: Record<Family, { save: string; restore: string }> = {
  4: { save: 'iptables-save', restore: 'iptables-restore' },
  6: { save: 'ip6tables-save', restore: 'ip6tables-restore' },
};

/** What the last successful apply left on the host. */
interface Applied {
  state: Record<Family, FilterState>;
  /** Our ipsets. */
  sets: string[];
  /** The inputs it was made from: the same inputs again change nothing. */
  inputs: string;
  filtered: Set<string>;
  /** Whether bridged frames were sent through iptables. */
  bridged: boolean;
}

export interface Firewall {
  apply(ports: PortSpec[], opts?: { reread?: boolean }): Promise<void>;
  /** Whether the last apply filtered this port. */
  isFiltered(portId: string): boolean;
}

export function createFirewall(ctx: Context): Firewall {
  let applied: Applied | undefined;

  async function read(): Promise<Pick<Applied, 'state' | 'sets'>> {
    const [v4, v6, sets] = await Promise.all([
      ...([4, 6] as const).map((f) => ctx.sh.host([TOOLS[f].save, '-t', 'filter'])),
      ctx.sh.host(['ipset', 'list', '-n']),
    ]);
    return {
      state: { 4: parseFilterState(v4!.stdout, ctx.prefix), 6: parseFilterState(v6!.stdout, ctx.prefix) },
      sets: sets!.stdout.split('\n').filter((n) => isOurSet(ctx.prefix, n)),
    };
  }

  async function apply(ports: PortSpec[], opts: { reread?: boolean } = {}): Promise<void> {
    const secured = ports.filter((p) => p.security);
    const known = opts.reread ? undefined : applied;
    // Forgotten until this apply is through: a failure half-way leaves the host unknown.
    applied = undefined;
    const { state, sets: had } = known ?? (await read());
    const restores = ([4, 6] as const).map((family) => filterRestore(ctx.prefix, family, secured, state[family]));
    const arp = arpRuleset(`${ctx.prefix}-arp`, secured);
    const sets = wantedSets(ctx.prefix, secured);
    const fill = setsRestore(sets);
    const inputs = JSON.stringify([fill, restores, arp]);
    if (known?.inputs !== inputs) {
      if (secured.length && !known?.bridged) {
        // Bridged frames reach iptables only with these on; they are per namespace, and new ones start with them on.
        await ctx.sh.host(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1']);
      }
      // The sets first, for the rules name them; those no rule names any more last.
      if (fill) await ctx.sh.host(['ipset', 'restore'], { input: fill });
      for (const [i, family] of ([4, 6] as const).entries()) {
        const input = restores[i];
        if (input) await ctx.sh.host([TOOLS[family].restore, '-w', '5', '--noflush'], { input });
      }
      await ctx.sh.host(['nft', '-f', '-'], { input: arp });
      const stale = had.filter((n) => !sets.has(n.replace(/-t$/, '')));
      if (stale.length) await ctx.sh.host(['ipset', 'restore'], { input: stale.map((n) => `destroy ${n}\n`).join('') });
    }
    // What the restores made: our chains, each jumped to once; or nothing at all.
    const top = topChains(ctx.prefix);
    const chains = secured.length ? [top.FORWARD, top.INPUT, top.sg, ...secured.flatMap((p) => Object.values(portChains(ctx.prefix, p.id)))] : [];
    const jumps = secured.length ? 1 : 0;
    const now: FilterState = { chains, jumps: { FORWARD: jumps, INPUT: jumps } };
    applied = { state: { 4: now, 6: now }, sets: [...sets.keys()], inputs, filtered: new Set(secured.map((p) => p.id)), bridged: Boolean(known?.bridged) || secured.length > 0 };
  }

  return { apply, isFiltered: (portId) => applied?.filtered.has(portId) ?? false };
}
