import { ClientError, HttpError } from './errors.ts';
import type { Session } from './session.ts';

/** A Neutron resource as the API writes it: openstackclient shows whatever it holds. */
export type Resource = Record<string, unknown> & { id: string };

/** Query parameters; an array repeats the parameter (`fields=id&fields=name`). */
export type NetworkQuery = Record<string, string | number | boolean | string[] | undefined>;

/** The Neutron collections nubo knows, by the name openstacksdk gives them in its messages and
 * whether its `find` narrows the listing by name (it does where `name` is a query parameter). */
const RESOURCES = {
  network: { path: 'networks', key: 'network', sdk: 'Network', byName: true },
  subnet: { path: 'subnets', key: 'subnet', sdk: 'Subnet', byName: true },
  port: { path: 'ports', key: 'port', sdk: 'Port', byName: true },
  router: { path: 'routers', key: 'router', sdk: 'Router', byName: true },
  'floating-ip': { path: 'floatingips', key: 'floatingip', sdk: 'FloatingIP', byName: false },
  'security-group': { path: 'security-groups', key: 'security_group', sdk: 'SecurityGroup', byName: true },
  'security-group-rule': { path: 'security-group-rules', key: 'security_group_rule', sdk: 'SecurityGroupRule', byName: false },
  'qos-policy': { path: 'qos/policies', key: 'policy', sdk: 'QoSPolicy', byName: true, plural: 'policies' },
  'qos-rule-type': { path: 'qos/rule-types', key: 'rule_type', sdk: 'QoSRuleType', byName: false, plural: 'rule_types' },
  'subnet-pool': { path: 'subnetpools', key: 'subnetpool', sdk: 'SubnetPool', byName: true },
  'address-scope': { path: 'address-scopes', key: 'address_scope', sdk: 'AddressScope', byName: true },
  'rbac-policy': { path: 'rbac-policies', key: 'rbac_policy', sdk: 'RBACPolicy', byName: false },
} as const;

/** The key of a collection in its listing: the path's, unless the API names it otherwise. */
const pluralOf = (kind: ResourceKind): string => {
  const r = RESOURCES[kind];
  return 'plural' in r ? r.plural : r.path.replaceAll('-', '_');
};

export type ResourceKind = keyof typeof RESOURCES;
export type NetworkKind = 'network' | 'port' | 'security-group';

/**
 * An error as openstacksdk words it, which the network commands of openstackclient print:
 * `BadRequestException: 400: Client Error for url: URL, DETAIL` for an error status (`http`),
 * `No Network found for x` for a failed lookup.
 */
export class SdkError extends ClientError {
  override name = 'SdkError';
  constructor(
    /** The exception's own message: `NotFoundException: 404`, `No Network found for x`. */
    readonly summary: string,
    /** True for openstacksdk's HttpException family (which a lookup that found nothing is). */
    readonly http: boolean,
    readonly status?: number,
    readonly details?: string,
    url?: string,
  ) {
    super(url ? `${summary}: ${status! < 500 ? 'Client' : 'Server'} Error for url: ${url}${details ? `, ${details}` : ''}` : summary);
  }
}

const EXCEPTIONS: Record<number, string> = {
  400: 'BadRequestException',
  404: 'NotFoundException',
  409: 'ConflictException',
  412: 'PreconditionFailedException',
};

function sdkError(err: HttpError): SdkError {
  return new SdkError(`${EXCEPTIONS[err.status] ?? 'HttpException'}: ${err.status}`, true, err.status, err.detail, err.url);
}

/** A 404, or the 400 some services answer for an ID they cannot parse: "not this ID". */
const missing = (err: unknown) => err instanceof SdkError && (err.status === 404 || err.status === 400);

function url(base: string, query: NetworkQuery = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
  }
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

/** Neutron v2.0, reached through the catalog's network endpoint. */
export class NetworkClient {
  constructor(private readonly session: Session) {}

  /** The v2.0 base URL, or undefined when the catalog has no network service. */
  get url(): string | undefined {
    try {
      return this.base;
    } catch {
      return undefined;
    }
  }

  private get base(): string {
    return `${this.session.endpoint('network').replace(/\/v2\.0$/, '')}/v2.0`;
  }

  /** A request whose failure reads as openstacksdk's. */
  async request<T>(method: string, path: string, opts: { query?: NetworkQuery; body?: unknown } = {}): Promise<T> {
    try {
      return await this.session.request<T>(method, url(`${this.base}${path}`, opts.query), { body: opts.body });
    } catch (err) {
      throw err instanceof HttpError ? sdkError(err) : err;
    }
  }

  /** Every page of a listing: follows the `<collection>_links` next link while there is one. */
  async list(kind: ResourceKind, query: NetworkQuery = {}): Promise<Resource[]> {
    const { path } = RESOURCES[kind];
    const plural = pluralOf(kind);
    const out: Resource[] = [];
    let page = await this.request<Record<string, unknown>>('GET', `/${path}`, { query });
    for (;;) {
      const items = (page[plural] ?? []) as Resource[];
      out.push(...items);
      const next = ((page[`${plural}_links`] ?? []) as { rel: string; href: string }[]).find((l) => l.rel === 'next')?.href;
      if (!items.length || !next) return out;
      try {
        page = await this.session.request('GET', next);
      } catch (err) {
        throw err instanceof HttpError ? sdkError(err) : err;
      }
    }
  }

  async get(kind: ResourceKind, id: string): Promise<Resource> {
    const { path, key } = RESOURCES[kind];
    return (await this.request<Record<string, Resource>>('GET', `/${path}/${encodeURIComponent(id)}`))[key]!;
  }

  async create(kind: ResourceKind, fields: Record<string, unknown>): Promise<Resource> {
    const { path, key } = RESOURCES[kind];
    return (await this.request<Record<string, Resource>>('POST', `/${path}`, { body: { [key]: fields } }))[key]!;
  }

  async update(kind: ResourceKind, id: string, fields: Record<string, unknown>): Promise<Resource> {
    const { path, key } = RESOURCES[kind];
    return (await this.request<Record<string, Resource>>('PUT', `/${path}/${encodeURIComponent(id)}`, { body: { [key]: fields } }))[key]!;
  }

  async delete(kind: ResourceKind, id: string): Promise<void> {
    await this.request('DELETE', `/${RESOURCES[kind].path}/${encodeURIComponent(id)}`);
  }

  /**
   * A resource found as openstacksdk finds it: GET by ID, then the listing (by name where the
   * API filters by name), in which one resource must have that ID or name. A floating IP's name
   * is its address.
   */
  async find(kind: ResourceKind, ref: string): Promise<Resource> {
    try {
      return await this.get(kind, ref);
    } catch (err) {
      if (!missing(err)) throw err;
    }
    const { byName, sdk } = RESOURCES[kind];
    const nameOf = (r: Resource) => (kind === 'floating-ip' ? r.floating_ip_address : r.name);
    const matches = (await this.list(kind, byName ? { name: ref } : {})).filter((r) => r.id === ref || nameOf(r) === ref);
    if (matches.length > 1) throw new SdkError(`More than one ${sdk} exists with the name '${ref}'.`, false);
    if (!matches[0]) throw new SdkError(`No ${sdk} found for ${ref}`, true, 404);
    return matches[0];
  }

  /** An API extension by alias, or undefined when the cloud does not have it. */
  async extension(alias: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.request<{ extension: Record<string, unknown> }>('GET', `/extensions/${encodeURIComponent(alias)}`)).extension;
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  }

  /** PUT /routers/{id}/add_router_interface or remove_router_interface, with a subnet or a port. */
  async routerInterface(routerId: string, action: 'add' | 'remove', body: { subnet_id?: string; port_id?: string }): Promise<Record<string, unknown>> {
    return this.request('PUT', `/routers/${encodeURIComponent(routerId)}/${action}_router_interface`, { body });
  }

  /** A project's network quotas; with `detail`, `{limit, used, reserved}` each. */
  async quotas(projectId: string, detail = false): Promise<Record<string, unknown>> {
    return (await this.request<{ quota: Record<string, unknown> }>('GET', `/quotas/${encodeURIComponent(projectId)}${detail ? '/details' : ''}`)).quota;
  }

  async defaultQuotas(projectId: string): Promise<Record<string, unknown>> {
    return (await this.request<{ quota: Record<string, unknown> }>('GET', `/quotas/${encodeURIComponent(projectId)}/default`)).quota;
  }

  async updateQuotas(projectId: string, changes: Record<string, number>): Promise<Record<string, unknown>> {
    return (await this.request<{ quota: Record<string, unknown> }>('PUT', `/quotas/${encodeURIComponent(projectId)}`, { body: { quota: changes } })).quota;
  }

  /**
   * The ID of a network, port or security group, found as openstacksdk finds it: by ID, then by
   * exact name. Undefined when the network service has no such collection at all (a cloud whose
   * networking is not there yet), so that the compute service judges the reference itself.
   */
  async findId(kind: NetworkKind, ref: string): Promise<string | undefined> {
    if (!this.url) return undefined;
    const { path, key, sdk } = RESOURCES[kind];
    const plural = path.replaceAll('-', '_');
    try {
      return (await this.request<Record<string, { id: string }>>('GET', `/${path}/${encodeURIComponent(ref)}`))[key]!.id;
    } catch (err) {
      if (!missing(err)) throw err;
    }
    let matches: { id: string; name: string }[];
    try {
      matches = (await this.request<Record<string, { id: string; name: string }[]>>('GET', `/${path}`, { query: { name: ref } }))[plural] ?? [];
    } catch (err) {
      if (err instanceof SdkError && err.status === 404) return undefined;
      throw err;
    }
    matches = matches.filter((m) => m.id === ref || m.name === ref);
    if (matches.length > 1) throw new ClientError(`More than one ${sdk} exists with the name '${ref}'.`);
    if (!matches[0]) throw new ClientError(`No ${sdk} found for ${ref}`);
    return matches[0].id;
  }
}
