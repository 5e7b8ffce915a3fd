import { ClientError, HttpError } from './errors.ts';
import type { Query } from './http.ts';
import type { Session } from './session.ts';

/** An Octavia resource as the API writes it: the commands show whatever it holds. */
export type LbResource = Record<string, unknown> & { id: string };

/** The collections under /v2/lbaas, by the word the commands use for them. Members and L7 rules
 * live under their pool and policy. */
const COLLECTIONS = {
  loadbalancer: { path: 'loadbalancers', key: 'loadbalancer', plural: 'loadbalancers' },
  listener: { path: 'listeners', key: 'listener', plural: 'listeners' },
  pool: { path: 'pools', key: 'pool', plural: 'pools' },
  healthmonitor: { path: 'healthmonitors', key: 'healthmonitor', plural: 'healthmonitors' },
  l7policy: { path: 'l7policies', key: 'l7policy', plural: 'l7policies' },
  member: { path: 'members', key: 'member', plural: 'members', parent: 'pools' },
  l7rule: { path: 'rules', key: 'rule', plural: 'rules', parent: 'l7policies' },
} as const;

export type LbKind = keyof typeof COLLECTIONS;

/** An error as octaviaclient words it: Octavia's faultstring, the status and the request's ID. */
export class OctaviaError extends ClientError {
  override name = 'OctaviaError';
  constructor(
    readonly status: number,
    faultstring: string,
    requestId?: string,
  ) {
    super(`${faultstring} (HTTP ${status}) (Request-ID: ${requestId ?? 'n/a'})`);
  }
}

// octaviaclient's words for a status whose body has no faultstring.
const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Over Limit' };

function octaviaError(err: HttpError): OctaviaError {
  let fault: string | undefined;
  try {
    const body = JSON.parse(err.detail) as { faultstring?: unknown };
    if (typeof body.faultstring === 'string') fault = body.faultstring;
  } catch {
    // Not Octavia's JSON body (a proxy's page): the status's reason.
  }
  return new OctaviaError(err.status, fault ?? REASONS[err.status] ?? 'Unknown Error', err.requestId);
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** oslo's is_uuid_like, which decides whether octaviaclient tries a reference as an ID first. */
export const uuidLike = (ref: string) => UUID.test(ref);

/** Octavia's API v2, reached through the catalog's load-balancer endpoint. */
export class LoadBalancerClient {
  constructor(private readonly session: Session) {}

  private get base(): string {
    return `${this.session.endpoint('load-balancer').replace(/\/v2(\.0)?$/, '')}/v2`;
  }

  /** A request whose failure reads as octaviaclient's. */
  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    try {
      return await this.session.request<T>(method, `${this.base}${path}`, opts);
    } catch (err) {
      // errorDetail keeps a body it does not know whole, so Octavia's faultstring is read here.
      throw err instanceof HttpError ? octaviaError(err) : err;
    }
  }

  private path(kind: LbKind, parent?: string): string {
    const c = COLLECTIONS[kind];
    if ('parent' in c) {
      if (!parent) throw new ClientError(`a ${kind} needs its parent`);
      return `/lbaas/${c.parent}/${encodeURIComponent(parent)}/${c.path}`;
    }
    return `/lbaas/${c.path}`;
  }

  async list(kind: LbKind, query: Query = {}, parent?: string): Promise<LbResource[]> {
    const body = await this.request<Record<string, LbResource[]>>('GET', this.path(kind, parent), { query });
    return body[COLLECTIONS[kind].plural] ?? [];
  }

  async get(kind: LbKind, id: string, parent?: string): Promise<LbResource> {
    const body = await this.request<Record<string, LbResource>>('GET', `${this.path(kind, parent)}/${encodeURIComponent(id)}`);
    return body[COLLECTIONS[kind].key]!;
  }

  async create(kind: LbKind, fields: Record<string, unknown>, parent?: string): Promise<LbResource> {
    const key = COLLECTIONS[kind].key;
    return (await this.request<Record<string, LbResource>>('POST', this.path(kind, parent), { body: { [key]: fields } }))[key]!;
  }

  async update(kind: LbKind, id: string, fields: Record<string, unknown>, parent?: string): Promise<LbResource> {
    const key = COLLECTIONS[kind].key;
    return (await this.request<Record<string, LbResource>>('PUT', `${this.path(kind, parent)}/${encodeURIComponent(id)}`, { body: { [key]: fields } }))[key]!;
  }

  async delete(kind: LbKind, id: string, opts: { parent?: string; cascade?: boolean } = {}): Promise<void> {
    await this.request('DELETE', `${this.path(kind, opts.parent)}/${encodeURIComponent(id)}`, { query: opts.cascade ? { cascade: 'True' } : {} });
  }

  /**
   * The resource a name or ID names, found as octaviaclient finds it: listings filtered by id and
   * by name (ID first when the reference looks like one), one match or a CommandError.
   */
  async find(kind: LbKind, ref: string, parent?: string): Promise<LbResource> {
    const plural = COLLECTIONS[kind].plural === 'rules' ? 'l7rules' : COLLECTIONS[kind].plural;
    const order = uuidLike(ref) ? (['id', 'name'] as const) : (['name', 'id'] as const);
    for (const field of order) {
      const found = await this.list(kind, { [field]: ref }, parent);
      if (found.length === 1) return found[0]!;
      if (found.length > 1 && field === 'name') throw new ClientError(`${found.length} ${plural} found with name or ID of ${ref}. Please try again with UUID`);
    }
    throw new ClientError(`Unable to locate ${ref} in ${plural}`);
  }

  stats = async (kind: 'loadbalancer' | 'listener', id: string) =>
    (await this.request<{ stats: Record<string, unknown> }>('GET', `${this.path(kind)}/${encodeURIComponent(id)}/stats`)).stats;
  status = async (id: string) => (await this.request<{ statuses?: unknown }>('GET', `/lbaas/loadbalancers/${encodeURIComponent(id)}/status`)).statuses ?? {};
  failover = async (id: string) => void (await this.request('PUT', `/lbaas/loadbalancers/${encodeURIComponent(id)}/failover`));
  providers = async () => (await this.request<{ providers: LbResource[] }>('GET', '/lbaas/providers')).providers;
}
