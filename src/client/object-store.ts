import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { withQuery, type Query } from './http.ts';
import { rawRequest } from './raw.ts';
import type { Session } from './session.ts';

/** A container as Swift lists it (GET on the account, format=json). */
export interface Container {
  name: string;
  bytes: number;
  count: number;
}

/** An object as Swift lists it (GET on the container, format=json); a pseudo-directory of a
 * delimited listing has `subdir` only. */
export interface ObjectEntry {
  name: string;
  bytes: number;
  hash: string;
  content_type: string;
  last_modified: string;
}

/** What Swift answers a listing at most per request: further pages are asked from the last name. */
const PAGE = 10_000;

/** Swift v1 (radosgw here), reached through the catalog's object-store endpoint, whose last path
 * segment is the account (AUTH_<project id>). Object data is streamed both ways, never held whole. */
export class ObjectStoreClient {
  constructor(private readonly session: Session) {}

  get url(): string {
    return this.session.endpoint('object-store');
  }

  /** The account, as openstackclient shows it: the endpoint's last path segment. */
  get account(): string {
    return new URL(this.url).pathname.split('/').pop() ?? '';
  }

  private path(container: string, object?: string): string {
    return `${this.url}/${encodeURIComponent(container)}${object === undefined ? '' : `/${object.split('/').map(encodeURIComponent).join('/')}`}`;
  }

  /** Listings of the account or a container: one page, or with `all` every page (as --all asks). */
  private async list<T extends { name?: string; subdir?: string }>(url: string, query: Query, all: boolean): Promise<T[]> {
    const out: T[] = [];
    let marker = query.marker;
    for (;;) {
      const res = await this.raw('GET', withQuery(url, { ...query, marker, format: 'json' }), { accept: 'application/json' });
      const page = res.status === 204 ? [] : ((await res.json()) as T[]);
      out.push(...page);
      if (!all || page.length < Number(query.limit ?? PAGE) || !page.length) return out;
      const last = page[page.length - 1]!;
      marker = last.name ?? last.subdir;
    }
  }

  containers = (query: Query = {}, all = false) => this.list<Container>(this.url, query, all);

  /** Creates a container (PUT is idempotent in Swift); the transaction ID is what it answers. */
  async createContainer(name: string, headers: Record<string, string> = {}): Promise<string | null> {
    const res = await this.raw('PUT', this.path(name), headers);
    await res.body?.cancel();
    return res.headers.get('x-trans-id');
  }

  /** The container's headers (HEAD). */
  async container(name: string): Promise<Headers> {
    return (await this.raw('HEAD', this.path(name))).headers;
  }

  async deleteContainer(name: string): Promise<void> {
    await (await this.raw('DELETE', this.path(name))).body?.cancel();
  }

  objects = (container: string, query: Query = {}, all = false) => this.list<ObjectEntry>(this.path(container), query, all);

  /** The object's headers (HEAD). */
  async object(container: string, name: string): Promise<Headers> {
    return (await this.raw('HEAD', this.path(container, name))).headers;
  }

  /** Sends the object's data as it is read; `size`, when known, goes as Content-Length (else the
   * request is chunked). Resolves to the response's headers (etag, x-trans-id). */
  async upload(container: string, name: string, data: AsyncIterable<Uint8Array>, size?: number): Promise<Headers> {
    const headers: Record<string, string> = size === undefined ? {} : { 'content-length': String(size) };
    // fetch (undici) streams any async iterable of bytes; the DOM's BodyInit type does not say so.
    const res = await this.raw('PUT', this.path(container, name), headers, data as unknown as BodyInit);
    await res.body?.cancel();
    return res.headers;
  }

  /** Streams the object's data into what `open` gives once Swift has answered with it (so that a
   * missing object leaves no file behind); `end: false` leaves it open, for stdout. */
  async download(container: string, name: string, open: () => Writable, opts: { end?: boolean } = {}): Promise<void> {
    const res = await this.raw('GET', this.path(container, name));
    const data = res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    await pipeline(data, open(), { end: opts.end ?? true });
  }

  async deleteObject(container: string, name: string): Promise<void> {
    await (await this.raw('DELETE', this.path(container, name))).body?.cancel();
  }

  /** One Swift request: its answers are headers and raw bytes, not the JSON documents that the
   * session's requests expect. */
  private raw(method: string, url: string, headers: Record<string, string> = {}, body?: BodyInit): Promise<Response> {
    return rawRequest(this.session, method, url, { headers, body, ...(body ? { duplex: 'half' as const } : {}) });
  }
}
