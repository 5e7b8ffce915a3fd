import { badRequest, notImplemented } from '../../lib/errors.ts';
import { normalCidr } from '../../network/for-loadbalancer.ts';
import { PROVIDER } from '../service.ts';

// Octavia's validation errors (wsme's wording), one helper per kind of field.

export const invalid = (field: string, value: unknown, why: string) =>
  badRequest(`Invalid input for field/attribute ${field}. Value: '${typeof value === 'string' ? value : JSON.stringify(value)}'. ${why}`);

export type Body = Record<string, unknown>;

/** Octavia's protocols that this provider's HAProxy does not serve, and why, for a 501 that says so
 * (an unknown protocol is a 400). */
const UNSUPPORTED_PROTOCOLS: Record<string, string> = {
  TERMINATED_HTTPS: 'its certificate would come from a key manager (Barbican), which this cloud has not',
  HTTPS: 'TLS passes through as TCP: use the TCP protocol',
  UDP: 'HAProxy balances TCP only',
  SCTP: 'HAProxy balances TCP only',
  PROXY: 'members are reached by HTTP or TCP',
  PROXYV2: 'members are reached by HTTP or TCP',
  PROMETHEUS: 'HAProxy here serves no metrics listener',
};

/** A listener's or pool's protocol: one HAProxy serves, or Octavia's 501 for one it knows but this
 * provider does not offer. */
export function protocolOf<T extends string>(b: Body, supported: readonly T[]): T | undefined {
  const v = b.protocol;
  if (typeof v === 'string' && v in UNSUPPORTED_PROTOCOLS)
    throw notImplemented(`Provider '${PROVIDER.name}' does not support a requested option: protocol ${v} (${UNSUPPORTED_PROTOCOLS[v]}).`);
  return oneOf(b, 'protocol', supported);
}

/** The object under key of a request body: Octavia's { "loadbalancer": {...} }. */
export function bodyOf(body: unknown, key: string): Body {
  const inner = (body as Record<string, unknown> | null)?.[key];
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw badRequest(`Invalid input: the request body must hold an object "${key}".`);
  return inner as Body;
}

export function text(b: Body, field: string, max = 255): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(field, v, 'Value should be a string.');
  if (v.length > max) throw invalid(field, v, `Value should have a maximum character requirement of ${max}`);
  return v;
}

export function int(b: Body, field: string, min: number, max: number): number | undefined {
  let v = b[field];
  if (v === undefined || v === null) return undefined;
  // Octavia's types take an integer written as a string, and octaviaclient sends some that way
  // (`listener set --connection-limit 100` sends "100").
  if (typeof v === 'string' && /^-?\d{1,10}$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(field, v, 'Value should be an integer.');
  if (v < min || v > max) throw invalid(field, v, `Value should be greater or equal to ${min} and lower or equal to ${max}`);
  return v;
}

export function bool(b: Body, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(field, v, 'Value should be a boolean.');
  return v;
}

export function oneOf<T extends string>(b: Body, field: string, values: readonly T[]): T | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) throw invalid(field, v, `Value should be one of: ${values.join(', ')}`);
  return v as T;
}

/** A list of CIDRs, each kept as its network address; null clears it. */
export function cidrs(b: Body, field: string): string[] | null | undefined {
  const v = b[field];
  if (v === undefined || v === null) return v;
  const out = Array.isArray(v) ? v.map((c) => (typeof c === 'string' ? normalCidr(c) : undefined)) : [];
  if (!Array.isArray(v) || out.some((c) => c === undefined)) throw invalid(field, v, 'Value should be IPv4 or IPv6 CIDR format');
  return [...new Set(out as string[])];
}

export function tags(b: Body): string[] | undefined {
  const v = b.tags;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw invalid('tags', v, 'Value should be a list of strings.');
  return v as string[];
}

export function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw badRequest(`Invalid input for field/attribute ${field}. Value: 'None'. Mandatory field missing.`);
  return value;
}

/** Keeps the views whose fields equal every query parameter that names one: Octavia's filters. */
export function filtered<T extends Record<string, unknown>>(views: T[], query: Record<string, string | undefined>): T[] {
  const wanted = Object.entries(query).filter(([k, v]) => v !== undefined && views[0] && k in views[0] && typeof views[0][k] !== 'object');
  return views.filter((v) => wanted.every(([k, want]) => String(v[k]) === want || (typeof v[k] === 'boolean' && String(v[k]) === want!.toLowerCase())));
}
