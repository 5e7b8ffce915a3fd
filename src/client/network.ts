import { ClientError, HttpError } from './errors.ts';
import type { Session } from './session.ts';

/** The network resources a server is created with, by their Neutron collection and the name
 * openstacksdk gives them in its messages. */
const KINDS = {
  network: ['networks', 'network', 'Network'],
  port: ['ports', 'port', 'Port'],
  'security-group': ['security-groups', 'security_group', 'SecurityGroup'],
} as const;

export type NetworkKind = keyof typeof KINDS;

/** Lookups in Neutron v2.0, reached through the catalog's network endpoint. */
export class NetworkClient {
  constructor(private readonly session: Session) {}

  /** The v2.0 base URL, or undefined when the catalog has no network service. */
  get url(): string | undefined {
    try {
      return `${this.session.endpoint('network').replace(/\/v2\.0$/, '')}/v2.0`;
    } catch {
      return undefined;
    }
  }

  /**
   * The ID of a network, port or security group, found as openstacksdk finds it: by ID, then by
   * exact name. Undefined when the network service has no such collection at all (a cloud whose
   * networking is not there yet), so that the compute service judges the reference itself.
   */
  async findId(kind: NetworkKind, ref: string): Promise<string | undefined> {
    const base = this.url;
    if (!base) return undefined;
    const [plural, key, name] = KINDS[kind];
    const get = <T>(url: string) => this.session.request<T>('GET', url);
    try {
      return (await get<Record<string, { id: string }>>(`${base}/${plural}/${encodeURIComponent(ref)}`))[key]!.id;
    } catch (err) {
      if (!(err instanceof HttpError) || (err.status !== 404 && err.status !== 400)) throw err;
    }
    let matches: { id: string; name: string }[];
    try {
      matches = (await get<Record<string, { id: string; name: string }[]>>(`${base}/${plural}?name=${encodeURIComponent(ref)}`))[plural] ?? [];
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return undefined;
      throw err;
    }
    matches = matches.filter((m) => m.id === ref || m.name === ref);
    if (matches.length > 1) throw new ClientError(`More than one ${name} exists with the name '${ref}'.`);
    if (!matches[0]) throw new ClientError(`No ${name} found for ${ref}`);
    return matches[0].id;
  }
}
