import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../errors.ts';
import { allows, type Target } from './policy.ts';
import { compileGlob, matchGlob } from './path-glob.ts';

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
  /** Set for a system-scoped token: the deployment as a whole. */
  system?: { all: true };
  /** Set for a token issued through a trust: the user is the trustor when the trust impersonates,
   * the trustee otherwise; the project and roles are the trust's. */
  trust?: { id: string; impersonation: boolean; trustorUserId: string; trusteeUserId: string };
  /** When the user's password expires; null when it does not. */
  passwordExpiresAt?: Date | null;
  /** Effective roles on the scope, implied roles included. */
  roles: { id: string; name: string }[];
  methods: string[];
  auditIds: string[];
  issuedAt: Date;
  expiresAt: Date;
  applicationCredentialId?: string;
  /** The application credential the token comes from: whether it may manage others, and the
   * only calls it may make when it has access rules. */
  applicationCredential?: { name: string; unrestricted: boolean; accessRules?: AccessRule[] };
}

/** A call an application credential may make: a service type of the catalog, an HTTP method, and
 * a path below the service's root where `*` (or `{name}`) stands for one segment and `**` for any. */
export interface AccessRule {
  id: string;
  service: string;
  method: string;
  path: string;
}

export type TokenValidator = (token: string) => Promise<AuthContext>;

/** Route options every route must carry: either `public: true`, or the name of its policy rule. */
export interface RouteAuth {
  public?: boolean;
  policy?: string;
  /** The catalog service the route belongs to, set by declareServices. */
  service?: { type: string; prefix: string };
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
    const rules = request.auth.applicationCredential?.accessRules;
    // keystonemiddleware's answer to a call outside the credential's rules: the token is invalid here.
    if (rules && !permitted(rules, request.method, request.url, config.service)) throw unauthorized();
    if (!allows(config.policy, request.auth, request.params as Target)) throw forbidden(`Policy doesn't allow ${config.policy} to be performed.`);
  });
}

/** Tells the auth layer which catalog service serves the routes under each prefix, so that
 * access rules can name them. Call it before the services register their routes. */
export function declareServices(app: FastifyInstance, services: { type: string; prefix: string }[]): void {
  app.addHook('onRoute', (route) => {
    const service = services.find((s) => route.url === s.prefix || route.url.startsWith(`${s.prefix}/`));
    if (service) route.config = { ...route.config, service: { type: service.type, prefix: service.prefix } };
  });
}

const globs = new WeakMap<AccessRule, ReturnType<typeof compileGlob>>();

function globOf(rule: AccessRule) {
  let glob = globs.get(rule);
  if (!glob) globs.set(rule, (glob = compileGlob(rule.path)));
  return glob;
}

/** Whether a call matches one of the rules. The path is compared below the service's prefix
 * (`/v2.1/servers` for compute), as the service itself sees it; a token may always be validated. */
export function permitted(rules: AccessRule[], method: string, url: string, service?: { type: string; prefix: string }): boolean {
  if (!service) return false;
  // The path as the router reads it: it ends at the query or at a fragment.
  const end = url.search(/[?#]/);
  const path = (end === -1 ? url : url.slice(0, end)).slice(service.prefix.length);
  if (service.type === 'identity' && method === 'GET' && path === '/v3/auth/tokens') return true;
  return rules.some((r) => r.service === service.type && r.method === method && matchGlob(globOf(r), path));
}
