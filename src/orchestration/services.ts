/**
 * The other services, reached as a client reaches them: over their public HTTP APIs with the
 * user's token, at the endpoints the token's catalog gives, as OpenStack's Heat does. The engine
 * needs no import of another service's code, and a resource does exactly what the user could do.
 */

import { errorDetail } from '../client/errors.ts';

/** A call another service refused, with that service's own message. */
export class ServiceError extends Error {
  constructor(
    /** Heat shows the kind of the failure in front of the message (NotFound, BadRequest…). */
    readonly kind: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const KINDS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 413: 'OverLimit' };

export interface Services {
  /** A call to the service of that catalog type, below its endpoint; answers the parsed body,
   * or undefined for an empty one. */
  call(type: string, method: string, path: string, body?: unknown): Promise<any>;
  /** The same call, with a 404 answered as undefined (a resource already gone). */
  callOr404(type: string, method: string, path: string, body?: unknown): Promise<any>;
}

/** The services as the holder of `token` sees them, from its catalog at the cloud's identity
 * endpoint (the catalog is read once, at the first call). */
export function servicesFor(identityUrl: string, token: string): Services {
  let catalog: Promise<Map<string, string>> | undefined;
  const endpoints = () =>
    (catalog ??= (async () => {
      const res = await fetch(`${identityUrl}/v3/auth/catalog`, { headers: { 'x-auth-token': token, accept: 'application/json' } });
      if (!res.ok) throw new ServiceError(KINDS[res.status] ?? 'Error', `The service catalog could not be read: ${res.status}`, res.status);
      const body = (await res.json()) as { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] };
      return new Map(body.catalog.flatMap((s) => s.endpoints.filter((e) => e.interface === 'public').map((e) => [s.type, e.url.replace(/\/$/, '')] as const)));
    })());
  const call = async (type: string, method: string, path: string, body?: unknown) => {
    const base = (await endpoints()).get(type);
    if (!base) throw new ServiceError('EndpointNotFound', `No endpoint of type ${type} in the service catalog.`, 500);
    const headers: Record<string, string> = { 'x-auth-token': token, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new ServiceError(KINDS[res.status] ?? 'Error', errorDetail(text, `${method} ${path}: ${res.status}`), res.status);
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the text is the answer.
      return text;
    }
  };
  return {
    call,
    async callOr404(type, method, path, body) {
      try {
        return await call(type, method, path, body);
      } catch (err) {
        if (err instanceof ServiceError && err.status === 404) return undefined;
        throw err;
      }
    },
  };
}
