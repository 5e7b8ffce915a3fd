import type { Context } from './context.ts';
import { TOOLS } from './firewall.ts';

// Connection tracking zones. Bridged traffic is tracked in the host namespace, where two tenant
// networks with the same addresses would share entries: a connection in one would let packets of
// the other with the same addresses and ports pass its security groups as established. Each
// network's own bridge gets a zone of its own (flat networks ride the host's bridges, which the
// host's own traffic crosses too, and keep the default zone).

/** A zone is a 16-bit number; 0 is the default one. */
export const MAX_ZONE = 65_535;

/** The raw table's rules for these zones, as iptables-restore input, from what the table holds of
 * ours (iptables-save's lines); undefined when it already holds just that. */
export function zonesRestore(prefix: string, zones: { bridge: string; zone: number }[], saved: string[]): string | undefined {
  const chain = `${prefix}-ct`;
  const jump = `-A PREROUTING -j ${chain}`;
  const rules = zones.map((z) => `-A ${chain} -i ${z.bridge} -j CT --zone ${z.zone}`);
  const jumps = saved.filter((l) => l === jump).length;
  const exists = saved.some((l) => l.startsWith(`:${chain} `));
  const current = saved.filter((l) => l.startsWith(`-A ${chain} `));
  const wanted = zones.length > 0;
  if (wanted ? jumps === 1 && current.join('\n') === rules.join('\n') : !exists && !jumps) return undefined;
  const lines = [`:${chain} - [0:0]`];
  for (let n = jumps; n > (wanted ? 1 : 0); n--) lines.push(`-D PREROUTING -j ${chain}`);
  if (wanted && !jumps) lines.push(`-I PREROUTING 1 -j ${chain}`);
  lines.push(...rules);
  if (!wanted) lines.push(`-X ${chain}`);
  return ['*raw', ...lines, 'COMMIT', ''].join('\n');
}

/** Makes the raw table send each bridge's traffic to its zone, in both families, and nothing else. */
export async function applyZones(ctx: Context, zones: { bridge: string; zone: number }[]): Promise<void> {
  for (const tools of Object.values(TOOLS)) {
    const input = zonesRestore(ctx.prefix, zones, (await ctx.sh.host([tools.save, '-t', 'raw'])).stdout.split('\n'));
    if (input) await ctx.sh.host([tools.restore, '-w', '5', '--noflush'], { input });
  }
}
