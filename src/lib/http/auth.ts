import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../errors.ts';
import { allows, type Target } from './policy.ts';

/** Who is calling, as the identity service established it from the X-Auth-Token. */
export interface AuthContext {
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  /** Set for a project-scoped token. */
  project?: { id: string; name: string; domainId: string; domainName: string };
  /** Set for a domain-scoped token. */
  domain?: { id: string; name: string };
  /** Effective roles on the scope, implied roles included. */
  roles: { id: string; name: string }[];
  methods: string[];
  auditIds: string[];
  issuedAt: Date;
  expiresAt: Date;
  applicationCredentialId?: string;
}

export type TokenValidator = (token: string) => Promise<AuthContext>;

/** Route options every route must carry: either `public: true`, or the name of its policy rule. */
export interface RouteAuth {
  public?: boolean;
  policy?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig extends RouteAuth {}
}

/** The caller's context on a route that requires a token (the hook has checked it exists). */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized();
  return request.auth;
}

/**
 * Authenticates every request that carries X-Auth-Token and enforces the route's policy rule
 * against the path parameters, before the body is read. Routes without a policy and not marked
 * public are refused at registration, so none is left open by omission.
 */
export function installAuth(app: FastifyInstance, validate: TokenValidator): void {
  app.decorateRequest('auth', null);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as RouteAuth;
    if (!config.public && !config.policy && route.method !== 'HEAD') {
      throw new Error(`route ${String(route.method)} ${route.url} declares neither a policy nor public`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config as RouteAuth;
    const token = request.headers['x-auth-token'];
    if (typeof token === 'string' && token !== '' && (config.policy || config.public)) {
      request.auth = await validate(token);
    }
    if (!config.policy) return;
    if (!request.auth) throw unauthorized();
    if (!allows(config.policy, request.auth, request.params as Target)) throw forbidden(`Policy doesn't allow ${config.policy} to be performed.`);
  });
}
