import { ClientError, HttpError } from './errors.ts';
import type { Query } from './http.ts';
import type { Session } from './session.ts';

/** Where a collection lives and what its bodies are called, e.g. projects / project. */
export interface CollectionSpec {
  /** The collection's URL, computed per call so that it follows the session's endpoint. */
  url: () => string;
  /** Key of one resource in a body: `project`. */
  key: string;
  /** Key of a list in a body: `projects`. */
  plural: string;
  /** How errors name the resource: `project`, `application credential`. */
  kind: string;
}

/** The usual REST verbs over one OpenStack collection, and lookup by name or ID. */
export class Collection<T, Create = Partial<T>, Update = Partial<Create>> {
  constructor(
    private readonly session: Session,
    readonly spec: CollectionSpec,
  ) {}

  private item(id: string): string {
    return `${this.spec.url()}/${encodeURIComponent(id)}`;
  }

  async list(query?: Query): Promise<T[]> {
    const body = await this.session.request<Record<string, T[]>>('GET', this.spec.url(), { query });
    return body[this.spec.plural] ?? [];
  }

  async get(id: string): Promise<T> {
    return (await this.session.request<Record<string, T>>('GET', this.item(id)))[this.spec.key]!;
  }

  async create(fields: Create): Promise<T> {
    return (await this.session.request<Record<string, T>>('POST', this.spec.url(), { body: { [this.spec.key]: fields } }))[this.spec.key]!;
  }

  async update(id: string, fields: Update): Promise<T> {
    return (await this.session.request<Record<string, T>>('PATCH', this.item(id), { body: { [this.spec.key]: fields } }))[this.spec.key]!;
  }

  async delete(id: string): Promise<void> {
    await this.session.request('DELETE', this.item(id));
  }

  /**
   * The resource named `ref`, found as openstackclient finds it: GET by ID first, then a list
   * filtered by name (and by `filters`, such as a domain), which must match exactly one.
   */
  async find(ref: string, filters: Query = {}): Promise<T> {
    try {
      return await this.get(ref);
    } catch (err) {
      // Not an ID, or not one the caller may read directly: try it as a name.
      if (!(err instanceof HttpError) || (err.status !== 404 && err.status !== 403)) throw err;
    }
    const matches = await this.list({ ...filters, name: ref });
    if (matches.length > 1) throw new ClientError(`More than one ${this.spec.kind} exists with the name '${ref}'.`);
    if (!matches[0]) throw new ClientError(`No ${this.spec.kind} with a name or ID of '${ref}' exists.`);
    return matches[0];
  }
}
