import type { tokenView } from '../identity/api/views.ts';
import { ClientError } from './errors.ts';
import { send, type Logger, type Query } from './http.ts';

/** The `token` of Keystone's answer to POST /v3/auth/tokens. */
export type Token = ReturnType<typeof tokenView>['token'];
export type CatalogEntry = NonNullable<Token['catalog']>[number];

/** A user, a project or a domain named by ID, or by name (with its domain for users and projects). */
export interface Ref {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}

export type Credentials =
  | { method: 'password'; user: Ref; password: string }
  | { method: 'token'; token: string }
  | { method: 'application_credential'; id?: string; name?: string; user?: Ref; secret: string };

/** What the token is scoped to; left out, Keystone picks the user's default project. */
export type Scope = { project: Ref } | { domain: Ref } | 'unscoped';

export interface SessionOptions {
  /** Keystone's URL, with or without the /v3 at its end. */
  authUrl: string;
  credentials: Credentials;
  scope?: Scope;
  /** Only endpoints of this region are used; any region when left out. */
  region?: string;
  /** public (the default), internal or admin. */
  interface?: string;
  /** The compute microversion asked for; left out, the highest both sides implement. */
  computeApiVersion?: string;
  /** Where the clouds' microversion ranges are kept between commands; not kept when left out. */
  versionCacheDir?: string;
  log?: Logger;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Keystone v3's base URL. Discovery is skipped on purpose: it costs a round trip on every
 * command, and v3 always lives at AUTH_URL/v3. */
export function identityV3(url: string): string {
  const base = url.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

function authBody(credentials: Credentials, scope: Scope | undefined) {
  const identity =
    credentials.method === 'password'
      ? { methods: ['password'], password: { user: { ...credentials.user, password: credentials.password } } }
      : credentials.method === 'token'
        ? { methods: ['token'], token: { id: credentials.token } }
        : {
            methods: ['application_credential'],
            application_credential: { id: credentials.id, name: credentials.name, user: credentials.user, secret: credentials.secret },
          };
  // An application credential carries its own project: asking for a scope is an error.
  return { auth: { identity, ...(scope && credentials.method !== 'application_credential' ? { scope } : {}) } };
}

const interfaces: Record<string, string> = { publicURL: 'public', internalURL: 'internal', adminURL: 'admin' };

/** An authenticated conversation with an OpenStack cloud: the token, its catalog, and JSON
 * requests that carry the token. */
export class Session {
  private constructor(
    readonly options: SessionOptions,
    /** The X-Auth-Token to send. */
    readonly token: string,
    /** What Keystone said about the token: user, scope, roles, expiry, catalog. */
    readonly auth: Token,
  ) {}

  static async authenticate(options: SessionOptions): Promise<Session> {
    const res = await send<{ token: Token }>(
      { method: 'POST', url: `${identityV3(options.authUrl)}/auth/tokens`, body: authBody(options.credentials, options.scope) },
      options.log,
    );
    const token = res.headers.get('x-subject-token');
    if (!token || !res.body?.token) throw new ClientError(`${options.authUrl} answered the login without a token`);
    return new Session(options, token, res.body.token);
  }

  /** A session on a token obtained earlier, with what Keystone says of it now. */
  static resume(options: SessionOptions, token: string, auth: Token): Session {
    return new Session(options, token, auth);
  }

  get catalog(): CatalogEntry[] {
    return this.auth.catalog ?? [];
  }

  /** The URL of a service from the catalog, by type, interface and region (the session's by
   * default). */
  endpoint(type: string, opts: { interface?: string; region?: string } = {}): string {
    const wanted = opts.interface ?? this.options.interface ?? 'public';
    const iface = interfaces[wanted] ?? wanted;
    const region = opts.region ?? this.options.region;
    const found = this.catalog
      .filter((s) => s.type === type)
      .flatMap((s) => s.endpoints)
      .find((e) => e.interface === iface && (!region || e.region_id === region || e.region === region));
    if (!found) throw new ClientError(`${iface} endpoint for ${type} service${region ? ` in ${region} region` : ''} not found`);
    return found.url.replace(/\/+$/, '');
  }

  /** A JSON request with the session's token; resolves to the parsed body (undefined when empty). */
  async request<T>(method: string, url: string, opts: RequestOptions = {}): Promise<T> {
    const res = await send<T>({ method, url, token: this.token, ...opts }, this.options.log);
    return res.body;
  }
}
