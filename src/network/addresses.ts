// IP address arithmetic on BigInt, for both families: what subnets and IPAM compute with.

import { isIP } from 'node:net';

export type IpVersion = 4 | 6;

/** A CIDR as numbers: its first and last address and its prefix length. */
export interface Cidr {
  version: IpVersion;
  first: bigint;
  last: bigint;
  prefix: number;
}

const bitsOf = (v: IpVersion) => (v === 4 ? 32 : 128);

/** The address family of a literal, or undefined when it is not an address. */
export const ipVersion = (text: string): IpVersion | undefined => {
  const v = isIP(text);
  return v === 4 || v === 6 ? v : undefined;
};

function v6Groups(text: string): number[] {
  let head = text;
  let tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = Number(ipToBigInt(dotted[1]!));
    tail = [n >>> 16, n & 0xffff];
    head = text.slice(0, -dotted[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const missing = 8 - l.length - r.length - tail.length;
  return [...l, ...Array<number>(right === undefined ? 0 : missing).fill(0), ...r, ...tail];
}

/** The number of an address; the caller has checked it with ipVersion. */
export function ipToBigInt(text: string): bigint {
  if (isIP(text) === 4) return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  return v6Groups(text).reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** An address in its canonical text: dotted quad, or RFC 5952's compressed IPv6. */
export function bigIntToIp(n: bigint, version: IpVersion): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups becomes '::' (the first one on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The canonical text of an address literal (IPv6 compressed, lower case). */
export const canonicalIp = (text: string) => bigIntToIp(ipToBigInt(text), ipVersion(text)!);

/** Parses `address/prefix` (host bits allowed, as Neutron accepts them); undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const version = ipVersion(m[1]!);
  const prefix = Number(m[2]);
  if (!version || prefix > bitsOf(version)) return undefined;
  const hostBits = BigInt(bitsOf(version) - prefix);
  const first = (ipToBigInt(m[1]!) >> hostBits) << hostBits;
  return { version, first, last: first + (1n << hostBits) - 1n, prefix };
}

/** The normalized text of a CIDR: its network address and prefix. */
export const formatCidr = (c: Cidr) => `${bigIntToIp(c.first, c.version)}/${c.prefix}`;

export const contains = (c: Cidr, ip: bigint) => ip >= c.first && ip <= c.last;

export const overlaps = (a: { first: bigint; last: bigint }, b: { first: bigint; last: bigint }) => a.first <= b.last && b.first <= a.last;

/** The addresses of a subnet a port may hold: all but the network address and, in IPv4, the
 * broadcast address (point-to-point /31 and /32 keep every address). */
export function usableRange(c: Cidr): { first: bigint; last: bigint } {
  if (c.version === 4 && c.prefix >= 31) return { first: c.first, last: c.last };
  return { first: c.first + 1n, last: c.last - (c.version === 4 ? 1n : 0n) };
}

/** The EUI-64 address a SLAAC host with this MAC takes in a /64. */
export function eui64(c: Cidr, mac: string): bigint {
  const bytes = mac.split(':').map((b) => parseInt(b, 16));
  bytes[0]! ^= 0x02;
  const iid = [...bytes.slice(0, 3), 0xff, 0xfe, ...bytes.slice(3)].reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return c.first | iid;
}
