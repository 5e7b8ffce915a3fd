import type { RouterSpec } from '../driver.ts';
import { isV4, networkOf, splitCidr } from './cidr.ts';

// A router's NAT as an nftables ruleset, pure text: `table` + `delete table` + the table again in
// one `nft -f` transaction replaces it atomically, whether it existed or not. Floating IPs come
// before the general SNAT so that their 1:1 mapping wins. The router applies it before it changes
// its gateway leg's addresses (router.ts), so that a floating IP is translated from its first packet.

export function natRuleset(table: string, spec: RouterSpec, gatewayDev: string | undefined): string {
  const reset = `table ip ${table}\ndelete table ip ${table}\n`;
  const gw = spec.gateway;
  if (!gw || !gatewayDev) return reset;
  const dev = JSON.stringify(gatewayDev);
  const own = gw.addresses.map((a) => splitCidr(a).ip).filter(isV4);
  const gatewayIp = own[0];
  const internal = [...new Set(spec.interfaces.flatMap((i) => i.addresses.filter(isV4).map(networkOf)))];
  const dnat = spec.floatingIps.map((f) => `ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`);
  // Hairpin: a VM that reaches another through its floating IP is DNATed back inside; without a
  // SNAT too, the other would answer it directly from its fixed IP, which the asker drops. As
  // Neutron does, the asker then appears as its own floating IP, or as the router's gateway address.
  const hairpin = `oifname != ${dev} ct status dnat`;
  const snat = [
    ...spec.floatingIps.flatMap((f) => [
      `oifname ${dev} ip saddr ${f.fixedIp} snat to ${f.floatingIp}`,
      `${hairpin} ip saddr ${f.fixedIp} snat to ${f.floatingIp}`,
    ]),
    ...(gw.snat && gatewayIp && internal.length ? [`oifname ${dev} ip saddr { ${internal.join(', ')} } snat to ${gatewayIp}`] : []),
    ...(gatewayIp && spec.floatingIps.length ? [`${hairpin} snat to ${gatewayIp}`] : []),
  ];
  // What reaches the router itself from outside at another address than its gateway's is a floating
  // IP's that no DNAT took: one whose address is still on the leg an instant after its rule went.
  // Dropped, so that the router never answers in a server's place.
  const input = own.length ? [`iifname ${dev} ip daddr != { ${own.join(', ')} } drop`] : [];
  const chain = (name: string, type: string, hook: string, priority: string, rules: string[]) =>
    [`  chain ${name} {`, `    type ${type} hook ${hook} priority ${priority}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'].join('\n');
  const chains = [chain('prerouting', 'nat', 'prerouting', 'dstnat', dnat), chain('postrouting', 'nat', 'postrouting', 'srcnat', snat), chain('input', 'filter', 'input', 'filter', input)];
  return `${reset}table ip ${table} {\n${chains.join('\n')}\n}\n`;
}
