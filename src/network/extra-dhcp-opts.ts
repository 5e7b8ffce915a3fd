// A port's extra DHCP options (Neutron's extra_dhcp_opt): what its network's DHCP server sends it
// beside the subnet's own options. dnsmasq serves them, so an option is named as dnsmasq names it
// or by its number; a name dnsmasq does not know would make it reject the whole options file.

import { badRequest } from '../lib/errors.ts';
import type { ExtraDhcpOpt } from './tables.ts';

/** The option names dnsmasq 2.90 knows for DHCPv4 (`dnsmasq --help dhcp`), and the pseudo-options
 * Neutron passes through for PXE. */
const NAMES = new Set(
  (
    'netmask time-offset router dns-server log-server lpr-server boot-file-size domain-name swap-server root-path ' +
    'extension-path ip-forward-enable non-local-source-routing policy-filter max-datagram-reassembly default-ttl mtu ' +
    'all-subnets-local router-discovery router-solicitation static-route trailer-encapsulation arp-timeout ethernet-encap ' +
    'tcp-ttl tcp-keepalive nis-domain nis-server ntp-server netbios-ns netbios-dd netbios-nodetype netbios-scope ' +
    'x-windows-fs x-windows-dm T1 T2 vendor-class nis+-domain nis+-server tftp-server bootfile-name mobile-ip-home ' +
    'smtp-server pop3-server nntp-server irc-server user-class rapid-commit client-arch client-interface-id ' +
    'client-machine-id posix-timezone tzdb-timezone ipv6-only domain-search sip-server classless-static-route ' +
    'vendor-id-encap tftp-server-address server-ip-address'
  ).split(' '),
);

/** An option as a request gives it: opt_value null (on update) removes the option of that name. */
export interface ExtraDhcpOptRequest {
  opt_name: string;
  opt_value?: string | null;
  ip_version?: number | string;
}

const invalid = (reason: string) => badRequest(`Invalid input for extra_dhcp_opts. Reason: ${reason}.`, 'InvalidInput');

function check(o: ExtraDhcpOptRequest): { name: string; value: string | null; version: 4 | 6 } {
  const version = Number(o.ip_version ?? 4);
  if (version !== 4 && version !== 6) throw invalid(`'${o.ip_version}' is not in [4, 6]`);
  const name = o.opt_name.trim();
  const numbered = /^\d+$/.test(name) && Number(name) >= 1 && Number(name) <= 254;
  if (version === 4 && !numbered && !NAMES.has(name)) throw invalid(`'${name}' is not a DHCP option dnsmasq knows (a name of \`dnsmasq --help dhcp\`, or a number)`);
  if (version === 6 && !numbered && !/^[a-z0-9-]+$/.test(name)) throw invalid(`'${name}' is not a valid DHCP option name`);
  // One option is one line of dnsmasq's file: no line breaks, and within dnsmasq's own bounds.
  const value = o.opt_value ?? null;
  if (value !== null && (/[\r\n\0]/.test(value) || value.length > 255 || !value.trim())) throw invalid(`'${value}' is not a valid value for option ${name}`);
  return { name, value, version };
}

/** A create's options: each name once per IP version, every one with a value. */
export function newExtraDhcpOpts(requests: ExtraDhcpOptRequest[]): ExtraDhcpOpt[] {
  return mergeExtraDhcpOpts([], requests);
}

/**
 * An update's options, as Neutron applies them: each request replaces the option of its name and
 * IP version, a null value removes it, options not named are kept.
 */
export function mergeExtraDhcpOpts(current: ExtraDhcpOpt[], requests: ExtraDhcpOptRequest[]): ExtraDhcpOpt[] {
  const out = [...current];
  for (const r of requests) {
    const { name, value, version } = check(r);
    const at = out.findIndex((o) => o.opt_name === name && o.ip_version === version);
    if (at >= 0) out.splice(at, 1);
    if (value !== null) out.push({ opt_name: name, opt_value: value, ip_version: version });
  }
  return out;
}
