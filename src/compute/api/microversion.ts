import type { FastifyRequest } from 'fastify';
import { notFound } from '../../lib/errors.ts';
import { compareVersions, parseVersion, type Version } from '../../lib/http/microversion.ts';

/** The lowest and highest compute microversions served: 2.1 to Zed's 2.93. */
export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.93';

/** What a handler asks of the microversion its request negotiated (once, in the service's hook). */
export interface Microversion {
  /** True when the request's version is `v` or newer. */
  atLeast(v: string): boolean;
  /** True when the request's version is older than `v`. */
  below(v: string): boolean;
}

// The versions handlers name are a few literals: parse each once.
const known = new Map<string, Version>();
function version(v: string): Version {
  let parsed = known.get(v);
  if (!parsed) {
    parsed = parseVersion(v);
    if (!parsed) throw new Error(`not a microversion: ${v}`);
    known.set(v, parsed);
  }
  return parsed;
}

export function versionOf(request: FastifyRequest): Microversion {
  const asked = request.apiVersion;
  return {
    atLeast: (v) => compareVersions(asked, version(v)) >= 0,
    below: (v) => compareVersions(asked, version(v)) < 0,
  };
}

/** A route that came with microversion `v` is not there for older requests: Nova's 404. */
export function servedFrom(request: FastifyRequest, v: string): void {
  if (versionOf(request).below(v)) throw notFound('The resource could not be found.');
}
