import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest } from '../errors.ts';

/** A microversion as major.minor, compared numerically (2.10 > 2.9). */
export interface Version {
  major: number;
  minor: number;
}

export const parseVersion = (text: string): Version | undefined => {
  // Nova's and Cinder's grammar: no leading zeros (2.01 is malformed).
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
};
export const formatVersion = (v: Version) => `${v.major}.${v.minor}`;
export const compareVersions = (a: Version, b: Version) => a.major - b.major || a.minor - b.minor;
/** True when v lies in [min, max]; either bound may be left open. */
export const inRange = (v: Version, min?: string, max?: string) =>
  (!min || compareVersions(v, parseVersion(min)!) >= 0) && (!max || compareVersions(v, parseVersion(max)!) <= 0);

declare module 'fastify' {
  interface FastifyRequest {
    apiVersion: Version;
  }
}

export interface MicroversionSpec {
  /** The service type as it appears in the header: `compute`, `volume`. */
  service: string;
  /** The legacy header some clients still send (X-OpenStack-Nova-API-Version). */
  legacyHeader?: string;
  min: string;
  max: string;
}

/** Picks the version asked in the request headers, `latest` or none (→ min). */
export function negotiate(headers: Record<string, string | string[] | undefined>, spec: MicroversionSpec): Version {
  const min = parseVersion(spec.min)!;
  const max = parseVersion(spec.max)!;
  let asked: string | undefined;
  const header = headers['openstack-api-version'];
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [service, version] = part.trim().split(/\s+/);
    if (service?.toLowerCase() === spec.service && version) asked = version;
  }
  if (asked === undefined && spec.legacyHeader) {
    const legacy = headers[spec.legacyHeader.toLowerCase()];
    if (typeof legacy === 'string') asked = legacy;
  }
  if (asked === undefined) return min;
  if (asked === 'latest') return max;
  const v = parseVersion(asked);
  if (!v) throw badRequest(`API Version String ${asked} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (compareVersions(v, min) < 0 || compareVersions(v, max) > 0) {
    throw new ApiError(
      'NotAcceptable',
      `Version ${asked} is not supported by the API. Minimum is ${spec.min} and maximum is ${spec.max}.`,
    );
  }
  return v;
}

/** Negotiates on every request of the (encapsulated) service plugin and echoes the version. */
export function useMicroversions(app: FastifyInstance, spec: MicroversionSpec): void {
  app.decorateRequest('apiVersion', null as unknown as Version);
  app.addHook('onRequest', async (request, reply) => {
    const vary = ['OpenStack-API-Version', ...(spec.legacyHeader ? [spec.legacyHeader] : [])];
    reply.header('vary', vary.join(', '));
    request.apiVersion = negotiate(request.headers, spec);
    const v = formatVersion(request.apiVersion);
    reply.header('openstack-api-version', `${spec.service} ${v}`);
    if (spec.legacyHeader) reply.header(spec.legacyHeader, v);
  });
}
