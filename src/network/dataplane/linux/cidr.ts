// The little IPv4 arithmetic DHCP options and NAT rules need.

const toInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export const isV4 = (addr: string) => !addr.includes(':');

/** `192.168.10.7/24` → `{ ip: '192.168.10.7', prefix: 24 }`; a bare address is a /32 (or /128). */
export function splitCidr(cidr: string): { ip: string; prefix: number } {
  const [ip, prefix] = cidr.split('/');
  return { ip: ip!, prefix: prefix === undefined ? (isV4(ip!) ? 32 : 128) : Number(prefix) };
}

const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** 24 → 255.255.255.0 */
export const netmask = (prefix: number) => toIp(maskOf(prefix));

/** The network an IPv4 address with prefix is on: `192.168.10.7/24` → `192.168.10.0/24`. */
export function networkOf(cidr: string): string {
  const { ip, prefix } = splitCidr(cidr);
  return `${toIp((toInt(ip) & maskOf(prefix)) >>> 0)}/${prefix}`;
}

/** Whether an IPv4 address lies in a network. */
export function contains(network: string, ip: string): boolean {
  const { ip: base, prefix } = splitCidr(network);
  const mask = maskOf(prefix);
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}
