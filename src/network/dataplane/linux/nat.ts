import type { RouterSpec } from '../driver.ts';
import { isV4, networkOf, splitCidr } from './cidr.ts';

// A router's NAT as an nftables ruleset, pure text: `table` + `delete table` + the table again in
// one `nft -f` transaction replaces it atomically, whether it existed or not. Floating IPs come
// before the general SNAT so that their 1:1 mapping wins.

export function natRuleset(table: string, spec: RouterSpec, gatewayDev: string | undefined): string {
  const reset = `table ip ${table}\ndelete table ip ${table}\n`;
  const gw = spec.gateway;
  if (!gw || !gatewayDev) return reset;
  const dev = JSON.stringify(gatewayDev);
  const gatewayIp = gw.addresses.map((a) => splitCidr(a).ip).find(isV4);
  const internal = [...new Set(spec.interfaces.flatMap((i) => i.addresses.filter(isV4).map(networkOf)))];
  const dnat = spec.floatingIps.map((f) => `ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`);
  const snat = [
    ...spec.floatingIps.map((f) => `oifname ${dev} ip saddr ${f.fixedIp} snat to ${f.floatingIp}`),
    ...(gw.snat && gatewayIp && internal.length ? [`oifname ${dev} ip saddr { ${internal.join(', ')} } snat to ${gatewayIp}`] : []),
  ];
  const chain = (name: string, hook: string, priority: string, rules: string[]) =>
    [`  chain ${name} {`, `    type nat hook ${hook} priority ${priority}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'].join('\n');
  return `${reset}table ip ${table} {\n${chain('prerouting', 'prerouting', 'dstnat', dnat)}\n${chain('postrouting', 'postrouting', 'srcnat', snat)}\n}\n`;
}
