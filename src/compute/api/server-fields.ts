import { Type } from 'typebox';
import { badRequest } from '../../lib/errors.ts';
import type { ServerRequest } from '../servers.ts';
import type { Microversion } from './microversion.ts';

// Fields of a server's requests that came with later microversions, with Nova's bounds.

/** 2.19: printable text, null to clear. */
export const Description = Type.Union([Type.String({ maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]*$' }), Type.Null()]);
/** 2.26: a tag has no '/' nor ','. */
export const Tag = Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' });
/** 2.90: a host name label, as RFC 1123 writes it. */
export const Hostname = Type.String({ minLength: 2, maxLength: 63, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$' });
/** 2.63: certificate ids, unique, at most 50. */
export const TrustedCerts = Type.Union([Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 50, uniqueItems: true }), Type.Null()]);

export const Nic = Type.Object({
  uuid: Type.Optional(Type.String({ format: 'uuid' })),
  port: Type.Optional(Type.String({ format: 'uuid' })),
  fixed_ip: Type.Optional(Type.String({ format: 'ipv4' })),
  // Device tags (2.32, 2.42): accepted, not passed to the guest's metadata yet.
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' })),
});
type NicBody = { uuid?: string; port?: string; fixed_ip?: string };

/**
 * Refuses fields of a body that the request's microversion does not have yet, as Nova's schema
 * for that version does (it allows no other properties).
 */
export function introducedIn(v: Microversion, what: string, body: object, since: Record<string, string>): void {
  for (const [field, version] of Object.entries(since)) {
    if (field in body && v.below(version)) {
      throw badRequest(
        `Invalid input for field/attribute ${what}. Value: ${JSON.stringify(body)}. Additional properties are not allowed ('${field}' was unexpected)`,
      );
    }
  }
}

/** Refuses fields that the request's microversion no longer has (personality went at 2.57). */
export function removedIn(v: Microversion, what: string, body: object, until: Record<string, string>): void {
  for (const [field, version] of Object.entries(until)) {
    if (field in body && v.atLeast(version)) {
      throw badRequest(`Invalid input for field/attribute ${what}. Additional properties are not allowed ('${field}' was unexpected)`);
    }
  }
}

/** The networks of a create: from 2.37 required, and "auto" or "none" as well as a list. */
export function networksOf(networks: NicBody[] | string | undefined, v: Microversion): ServerRequest['networks'] {
  if (networks === undefined) {
    if (v.atLeast('2.37')) throw badRequest(`Invalid input for field/attribute server. 'networks' is a required property`);
    return undefined;
  }
  if (typeof networks === 'string') {
    if (v.below('2.37')) throw badRequest(`Invalid input for field/attribute networks. Value: ${networks}. '${networks}' is not of type 'array'`);
    if (networks !== 'auto' && networks !== 'none')
      throw badRequest(`Invalid input for field/attribute networks. Value: ${networks}. '${networks}' is not one of ['none', 'auto']`);
    return networks;
  }
  return networks.map((n) => ({ networkId: n.uuid, portId: n.port, fixedIp: n.fixed_ip }));
}
