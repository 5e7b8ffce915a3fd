import type { PortSpec } from '../driver.ts';
import type { Context } from './context.ts';
import { arpRuleset, filterRestore, parseFilterState, portChains, type Family } from './firewall-rules.ts';

// Applies every port's security groups at once, in the host namespace (./firewall-rules.ts says how).

const TOOLS: Record<Family, { save: string; restore: string }> = {
  4: { save: 'iptables-save', restore: 'iptables-restore' },
  6: { save: 'ip6tables-save', restore: 'ip6tables-restore' },
};

export async function applyFirewall(ctx: Context, ports: PortSpec[]): Promise<void> {
  const secured = ports.filter((p) => p.security);
  if (secured.length) {
    // Bridged frames reach iptables only with these on; they are per namespace, and new ones start with them on.
    await ctx.sh.host(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1']);
  }
  for (const family of [4, 6] as const) {
    const { stdout } = await ctx.sh.host([TOOLS[family].save, '-t', 'filter']);
    const input = filterRestore(ctx.prefix, family, secured, parseFilterState(stdout, ctx.prefix));
    if (input) await ctx.sh.host([TOOLS[family].restore, '-w', '5', '--noflush'], { input });
  }
  await ctx.sh.host(['nft', '-f', '-'], { input: arpRuleset(`${ctx.prefix}-arp`, secured) });
}

/** Whether the port has its chains: both families are written by one applyFirewall, IPv6 last. */
export async function isFiltered(ctx: Context, portId: string): Promise<boolean> {
  const { stdout } = await ctx.sh.host([TOOLS[6].save, '-t', 'filter']);
  return parseFilterState(stdout, ctx.prefix).chains.includes(portChains(ctx.prefix, portId).ingress);
}
