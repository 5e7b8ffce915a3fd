import type { Context } from './context.ts';

// Connection tracking zones. Bridged traffic is tracked in the host namespace, where two tenant
// networks with the same addresses would share entries: a connection in one would let packets of
// the other with the same addresses and ports pass its security groups as established. Each
// network's own bridge gets a zone of its own (flat networks ride the host's bridges, which the
// host's own traffic crosses too, and keep the default zone). An nftables table of its own, not
// iptables' raw table: replacing it costs one `nft -f` however many firewall rules the host has.

/** A zone is a 16-bit number; 0 is the default one. */
export const MAX_ZONE = 65_535;

/** The table that sets these zones, as `nft -f` input that replaces it whole (or removes it). */
function zonesRuleset(table: string, zones: { bridge: string; zone: number }[]): string {
  const reset = `table inet ${table}\ndelete table inet ${table}\n`;
  if (!zones.length) return reset;
  // Before conntrack (priority raw), which must look the packet up in its zone.
  const rules = zones.map((z) => `    iifname ${JSON.stringify(z.bridge)} ct zone set ${z.zone}`);
  return `${reset}table inet ${table} {\n  chain prerouting {\n    type filter hook prerouting priority raw; policy accept;\n${rules.join('\n')}\n  }\n}\n`;
}

/** The zones a listing of the table sets, as `bridge zone` lines, sorted. */
function listedZones(listing: string): string[] {
  return [...listing.matchAll(/iifname "([^"]+)" ct zone set (\d+)/g)].map((m) => `${m[1]} ${m[2]}`).sort();
}

/** Makes each bridge's traffic go to its zone, in both families, and nothing else. Replacing the
 * table costs a kernel transaction, so it is only done when the table says something else. */
export async function applyZones(ctx: Context, zones: { bridge: string; zone: number }[]): Promise<void> {
  const table = `${ctx.prefix}-ct`;
  // Exit code 1: no such table.
  const listed = await ctx.sh.host(['nft', 'list', 'table', 'inet', table], { okCodes: [0, 1] });
  const have = listed.code === 0 ? listedZones(listed.stdout) : undefined;
  const want = zones.map((z) => `${z.bridge} ${z.zone}`).sort();
  if (have ? have.join('\n') === want.join('\n') && want.length > 0 : !want.length) return;
  await ctx.sh.host(['nft', '-f', '-'], { input: zonesRuleset(table, zones) });
}
