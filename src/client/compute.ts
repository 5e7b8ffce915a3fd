import type { flavorView } from '../compute/api/flavors.ts';
import type { ServerBody } from '../compute/api/server-view.ts';
import { ClientError, HttpError } from './errors.ts';
import { send, withQuery, type Query } from './http.ts';
import { compareVersions, negotiateCompute } from './microversion.ts';
import type { Session } from './session.ts';

// Resource shapes as the compute service writes them (its views are the one source of truth);
// what other Nova versions add is optional.
export type Flavor = ReturnType<typeof flavorView> & { extra_specs?: Record<string, string>; description?: string | null };
/** A volume attachment as Nova shows it before 2.89 (its id is the volume's). */
export interface VolumeAttachment {
  id: string;
  serverId: string;
  volumeId: string;
  device: string | null;
  tag?: string | null;
  delete_on_termination?: boolean;
}

export type Server = ServerBody & { adminPass?: string };

export interface Keypair {
  name: string;
  public_key: string;
  fingerprint: string;
  user_id?: string;
  /** Only in the answer to a create that generated the key. */
  private_key?: string;
  id?: number;
  type?: string;
  created_at?: string;
  deleted?: boolean;
}

/** Nova's quota set: a limit per resource, or with ?detail, `{limit, in_use, reserved}` each. */
export type QuotaSet = Record<string, number | { limit: number; in_use: number; reserved: number }>;

export interface Limits {
  rate: { uri: string; regex: string; limit: { verb: string; value: number; remaining: number; unit: string; 'next-available': string }[] }[];
  absolute: Record<string, number>;
}

export interface FlavorFields {
  name: string;
  id?: string;
  ram: number;
  vcpus: number;
  disk: number;
  'OS-FLV-EXT-DATA:ephemeral'?: number;
  swap?: number;
  rxtx_factor?: number;
  'os-flavor-access:is_public'?: boolean;
}

/** Which client's wording a failed lookup takes: openstacksdk's (`No Flavor found for x`) or
 * novaclient's (`No flavor with a name or ID of 'x' exists.`), as each openstack command uses one. */
export type LookupStyle = 'sdk' | 'nova';

function notFound(kind: string, ref: string, style: LookupStyle): ClientError {
  return new ClientError(style === 'sdk' ? `No ${kind} found for ${ref}` : `No ${kind.toLowerCase()} with a name or ID of '${ref}' exists.`);
}

function oneOf<T>(matches: T[], kind: string, ref: string, style: LookupStyle): T {
  if (matches.length > 1) throw new ClientError(`More than one ${style === 'sdk' ? kind : kind.toLowerCase()} exists with the name '${ref}'.`);
  if (!matches[0]) throw notFound(kind, ref, style);
  return matches[0];
}

/** A name as a regular expression that matches only itself (Nova filters names by regex). */
const exactly = (name: string) => `^${name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`;

/** A 404 (or a 400 some services answer for an ID they cannot parse): "not this ID". */
const missing = (err: unknown) => err instanceof HttpError && (err.status === 404 || err.status === 400);

/** A URL that opens a server's console, as remote-consoles answers. */
export interface RemoteConsole {
  protocol: string;
  type: string;
  url: string;
}

// One negotiation per session, whichever clients share it.
const negotiated = new WeakMap<Session, Promise<string>>();

/** Nova v2.1, reached through the catalog's compute endpoint, at the microversion the session
 * asks for or, by default, the highest that nubo and the cloud both implement. */
export class ComputeClient {
  constructor(private readonly session: Session) {}

  get url(): string {
    return this.session.endpoint('compute');
  }

  /** The microversion requests are sent at. */
  async microversion(fresh = false): Promise<string> {
    const asked = this.session.options.computeApiVersion;
    if (asked) return asked;
    let version = negotiated.get(this.session);
    if (!version || fresh) {
      const { versionCacheDir: cacheDir, log } = this.session.options;
      version = negotiateCompute(this.url, this.session.token, { cacheDir, fresh, log });
      negotiated.set(this.session, version);
    }
    return version;
  }

  /** True when requests go at microversion `v` or newer. */
  async atLeast(v: string): Promise<boolean> {
    return compareVersions(await this.microversion(), v) >= 0;
  }

  /** A request at `version`, else at the session's; a negotiated version the cloud refuses (406:
   * it was downgraded since the range was kept) is negotiated afresh, once. */
  async request<T>(method: string, url: string, opts: { query?: Query; body?: unknown; version?: string } = {}): Promise<T> {
    const at = (version: string) =>
      this.session.request<T>(method, url, { query: opts.query, body: opts.body, headers: { 'openstack-api-version': `compute ${version}` } });
    if (opts.version) return at(opts.version);
    try {
      return await at(await this.microversion());
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 406) || this.session.options.computeApiVersion) throw err;
      return at(await this.microversion(true));
    }
  }

  private async call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; version?: string } = {}): Promise<T> {
    return this.request<T>(method, `${this.url}${path}`, opts);
  }

  /** Every page of a listing: follows the `<plural>_links` next link while there is one. */
  private async pages<T>(path: string, plural: string, query: Query): Promise<T[]> {
    const out: T[] = [];
    let url: string | undefined = withQuery(`${this.url}${path}`, query);
    while (url) {
      const page: Record<string, unknown> = await this.request('GET', url);
      const items = (page[plural] ?? []) as T[];
      out.push(...items);
      const links = (page[`${plural}_links`] ?? []) as { rel: string; href: string }[];
      url = items.length ? links.find((l) => l.rel === 'next')?.href : undefined;
    }
    return out;
  }

  /** The highest microversion the service offers. */
  async maxVersion(): Promise<string> {
    const body = await this.call<{ version?: { version?: string } }>('GET', '/');
    return body.version?.version || '2.1';
  }

  // Flavors

  /** Flavors with details; every page unless a limit or marker asks for one page. */
  async flavors(query: Query = {}): Promise<Flavor[]> {
    if (query.limit !== undefined || query.marker !== undefined) return (await this.call<{ flavors: Flavor[] }>('GET', '/flavors/detail', { query })).flavors;
    return this.pages<Flavor>('/flavors/detail', 'flavors', query);
  }

  async flavor(id: string): Promise<Flavor> {
    return (await this.call<{ flavor: Flavor }>('GET', `/flavors/${encodeURIComponent(id)}`)).flavor;
  }

  /**
   * A flavor by ID, else by exact name or ID in the list: openstacksdk's way (`sdk`) lists every
   * flavor, public or not; novaclient's (`nova`) lists the default ones (public, and private ones
   * the project may use).
   */
  async findFlavor(ref: string, style: LookupStyle = 'sdk'): Promise<Flavor> {
    try {
      return await this.flavor(ref);
    } catch (err) {
      if (!missing(err)) throw err;
    }
    const all = await this.flavors(style === 'sdk' ? { is_public: 'None' } : {});
    return oneOf(
      all.filter((f) => f.id === ref || f.name === ref),
      'Flavor',
      ref,
      style,
    );
  }

  /** A description needs microversion 2.55, which brought it. */
  async createFlavor(fields: FlavorFields & { description?: string }): Promise<Flavor> {
    return (await this.call<{ flavor: Flavor }>('POST', '/flavors', { body: { flavor: fields } })).flavor;
  }

  /** Needs microversion 2.55. */
  async describeFlavor(id: string, description: string): Promise<Flavor> {
    return (await this.call<{ flavor: Flavor }>('PUT', `/flavors/${encodeURIComponent(id)}`, { body: { flavor: { description } } })).flavor;
  }

  async deleteFlavor(id: string): Promise<void> {
    await this.call('DELETE', `/flavors/${encodeURIComponent(id)}`);
  }

  async extraSpecs(id: string): Promise<Record<string, string>> {
    return (await this.call<{ extra_specs: Record<string, string> }>('GET', `/flavors/${encodeURIComponent(id)}/os-extra_specs`)).extra_specs;
  }

  /** Adds or changes these extra specs; answers them. */
  async setExtraSpecs(id: string, specs: Record<string, string>): Promise<Record<string, string>> {
    const path = `/flavors/${encodeURIComponent(id)}/os-extra_specs`;
    return (await this.call<{ extra_specs: Record<string, string> }>('POST', path, { body: { extra_specs: specs } })).extra_specs;
  }

  async deleteExtraSpec(id: string, key: string): Promise<void> {
    await this.call('DELETE', `/flavors/${encodeURIComponent(id)}/os-extra_specs/${encodeURIComponent(key)}`);
  }

  /** The projects a private flavor is shared with. */
  async flavorAccess(id: string): Promise<string[]> {
    const body = await this.call<{ flavor_access: { tenant_id: string }[] }>('GET', `/flavors/${encodeURIComponent(id)}/os-flavor-access`);
    return body.flavor_access.map((a) => a.tenant_id);
  }

  async addFlavorAccess(id: string, project: string): Promise<void> {
    await this.call('POST', `/flavors/${encodeURIComponent(id)}/action`, { body: { addTenantAccess: { tenant: project } } });
  }

  async removeFlavorAccess(id: string, project: string): Promise<void> {
    await this.call('POST', `/flavors/${encodeURIComponent(id)}/action`, { body: { removeTenantAccess: { tenant: project } } });
  }

  // Key pairs

  async keypairs(): Promise<Keypair[]> {
    return (await this.call<{ keypairs: { keypair: Keypair }[] }>('GET', '/os-keypairs')).keypairs.map((k) => k.keypair);
  }

  async keypair(name: string): Promise<Keypair> {
    return (await this.call<{ keypair: Keypair }>('GET', `/os-keypairs/${encodeURIComponent(name)}`)).keypair;
  }

  /** openstacksdk's find: by name, then in the list. */
  async findKeypair(name: string): Promise<Keypair> {
    try {
      return await this.keypair(name);
    } catch (err) {
      if (!missing(err)) throw err;
    }
    return oneOf(
      (await this.keypairs()).filter((k) => k.name === name),
      'Keypair',
      name,
      'sdk',
    );
  }

  /** Imports `publicKey`, or without it has one generated, whose private half is in the answer. */
  async createKeypair(name: string, publicKey?: string): Promise<Keypair> {
    return (await this.call<{ keypair: Keypair }>('POST', '/os-keypairs', { body: { keypair: { name, public_key: publicKey } } })).keypair;
  }

  async deleteKeypair(name: string): Promise<void> {
    await this.call('DELETE', `/os-keypairs/${encodeURIComponent(name)}`);
  }

  // Servers

  /** One page of servers with details, as novaclient lists them; `limit: -1` fetches every page. */
  async servers(query: Query = {}): Promise<Server[]> {
    if (query.limit !== -1) return (await this.call<{ servers: Server[] }>('GET', '/servers/detail', { query })).servers;
    const out: Server[] = [];
    let marker = query.marker;
    for (;;) {
      const page = (await this.call<{ servers: Server[] }>('GET', '/servers/detail', { query: { ...query, limit: undefined, marker } })).servers;
      if (!page.length) return out;
      out.push(...page);
      marker = page.at(-1)!.id;
    }
  }

  async server(id: string): Promise<Server> {
    return (await this.call<{ server: Server }>('GET', `/servers/${encodeURIComponent(id)}`)).server;
  }

  /** The admin's list of moves (os-migrations). */
  async migrations(query: Query): Promise<Record<string, unknown>[]> {
    return (await this.call<{ migrations: Record<string, unknown>[] }>('GET', '/os-migrations', { query })).migrations;
  }

  /** A server's live migrations under way (2.23). */
  async serverMigrations(serverId: string): Promise<Record<string, unknown>[]> {
    return (await this.call<{ migrations: Record<string, unknown>[] }>('GET', `/servers/${encodeURIComponent(serverId)}/migrations`)).migrations;
  }

  async serverMigration(serverId: string, id: string): Promise<Record<string, unknown>> {
    const path = `/servers/${encodeURIComponent(serverId)}/migrations/${encodeURIComponent(id)}`;
    return (await this.call<{ migration: Record<string, unknown> }>('GET', path)).migration;
  }

  /** Aborts a live migration under way (2.24). */
  async abortServerMigration(serverId: string, id: string): Promise<void> {
    await this.call('DELETE', `/servers/${encodeURIComponent(serverId)}/migrations/${encodeURIComponent(id)}`);
  }

  /** A server by ID, else by exact name (a name matching several is an error). */
  async findServer(ref: string, opts: { style?: LookupStyle; allProjects?: boolean } = {}): Promise<Server> {
    try {
      return await this.server(ref);
    } catch (err) {
      if (!missing(err)) throw err;
    }
    const found = await this.call<{ servers: Server[] }>('GET', '/servers/detail', {
      query: { name: exactly(ref), all_tenants: opts.allProjects ? 'True' : undefined },
    });
    return oneOf(
      found.servers.filter((s) => s.name === ref),
      'Server',
      ref,
      opts.style ?? 'nova',
    );
  }

  /** POST /servers: answers the new server's id, links and admin password only. */
  async createServer(server: Record<string, unknown>, version?: string): Promise<Server> {
    return (await this.call<{ server: Server }>('POST', '/servers', { body: { server }, version })).server;
  }

  async deleteServer(id: string): Promise<void> {
    await this.call('DELETE', `/servers/${encodeURIComponent(id)}`);
  }

  async renameServer(id: string, name: string): Promise<Server> {
    return (await this.call<{ server: Server }>('PUT', `/servers/${encodeURIComponent(id)}`, { body: { server: { name } } })).server;
  }

  /** One of Nova's server actions: `{ 'os-stop': null }`, `{ reboot: { type: 'HARD' } }`, … */
  async action<T = void>(id: string, body: Record<string, unknown>): Promise<T> {
    return this.call<T>('POST', `/servers/${encodeURIComponent(id)}/action`, { body });
  }

  /** Starts a snapshot of the server into a new image; answers the image's ID, which Nova gives
   * in the body from 2.45, before that in the Location header only. */
  async createImage(id: string, name: string, metadata?: Record<string, string>): Promise<string> {
    const res = await send<{ image_id?: string } | undefined>(
      {
        method: 'POST',
        url: `${this.url}/servers/${encodeURIComponent(id)}/action`,
        token: this.session.token,
        headers: { 'openstack-api-version': `compute ${await this.microversion()}` },
        body: { createImage: { name, metadata } },
      },
      this.session.options.log,
    );
    const location = res.headers.get('location');
    const imageId = res.body?.image_id ?? location?.replace(/\/+$/, '').split('/').at(-1);
    if (!imageId) throw new ClientError(`The compute service started the image of server ${id} without saying its ID`);
    return imageId;
  }

  /** The end of the server's console log: its last `lines`, or all of it. */
  async consoleOutput(id: string, lines?: number): Promise<string> {
    return (await this.action<{ output: string }>(id, { 'os-getConsoleOutput': lines === undefined ? {} : { length: lines } })).output;
  }

  /** POST remote-consoles (2.6): a URL that opens the server's console of that protocol and type. */
  async remoteConsole(id: string, protocol: string, type: string): Promise<RemoteConsole> {
    const body = { remote_console: { protocol, type } };
    const path = `/servers/${encodeURIComponent(id)}/remote-consoles`;
    return (await this.call<{ remote_console: RemoteConsole }>('POST', path, { body, version: '2.6' })).remote_console;
  }

  /** POST os-volume_attachments: the device is chosen by the cloud when not given. */
  async attachVolume(id: string, volumeId: string, device?: string): Promise<VolumeAttachment> {
    const body = { volumeAttachment: { volumeId, ...(device ? { device } : {}) } };
    return (await this.call<{ volumeAttachment: VolumeAttachment }>('POST', `/servers/${encodeURIComponent(id)}/os-volume_attachments`, { body }))
      .volumeAttachment;
  }

  async detachVolume(id: string, volumeId: string): Promise<void> {
    await this.call('DELETE', `/servers/${encodeURIComponent(id)}/os-volume_attachments/${encodeURIComponent(volumeId)}`);
  }

  /** Adds or changes these metadata items. */
  async setMetadata(id: string, metadata: Record<string, string>): Promise<void> {
    await this.call('POST', `/servers/${encodeURIComponent(id)}/metadata`, { body: { metadata } });
  }

  async deleteMetadata(id: string, key: string): Promise<void> {
    await this.call('DELETE', `/servers/${encodeURIComponent(id)}/metadata/${encodeURIComponent(key)}`);
  }

  // Quotas and limits

  async quotas(projectId: string, detail = false): Promise<QuotaSet> {
    return (await this.call<{ quota_set: QuotaSet }>('GET', `/os-quota-sets/${encodeURIComponent(projectId)}${detail ? '/detail' : ''}`)).quota_set;
  }

  async defaultQuotas(projectId: string): Promise<QuotaSet> {
    return (await this.call<{ quota_set: QuotaSet }>('GET', `/os-quota-sets/${encodeURIComponent(projectId)}/defaults`)).quota_set;
  }

  async updateQuotas(projectId: string, changes: Record<string, number | boolean>): Promise<QuotaSet> {
    return (await this.call<{ quota_set: QuotaSet }>('PUT', `/os-quota-sets/${encodeURIComponent(projectId)}`, { body: { quota_set: changes } })).quota_set;
  }

  async limits(query: { reserved?: boolean; tenant_id?: string } = {}): Promise<Limits> {
    return (await this.call<{ limits: Limits }>('GET', '/limits', { query: { reserved: query.reserved ? 1 : undefined, tenant_id: query.tenant_id } })).limits;
  }
}
