import { createHash, getHashes, type Hash } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { imageView, memberView } from '../image/api/views.ts';
import { ClientError, HttpError } from './errors.ts';
import { rawRequest } from './raw.ts';
import type { Session } from './session.ts';

// Resource shapes as the image service writes them (its views are the one source of truth).
export type Image = ReturnType<typeof imageView>;
export type ImageMember = ReturnType<typeof memberView>;
export type MemberStatus = ImageMember['status'];

/** What a new image may be given: core attributes, and free string properties beside them. */
export interface ImageFields {
  name?: string;
  id?: string;
  disk_format?: string;
  container_format?: string;
  visibility?: string;
  protected?: boolean;
  min_ram?: number;
  min_disk?: number;
  tags?: string[];
  owner?: string;
  [property: string]: unknown;
}

/** The server-side filters of GET /v2/images. */
export interface ImageFilters {
  name?: string;
  status?: string;
  visibility?: string;
  member_status?: string;
  owner?: string;
  /** Images carrying every one of these tags. */
  tag?: string[];
  os_hidden?: boolean;
  /** One page of at most this many images; without it, every page is fetched. */
  limit?: number;
  /** The ID of the last image of the previous page. */
  marker?: string;
}

/** The body of POST /v2/images/{id}/import. */
export interface ImportRequest {
  method: { name: string; uri?: string };
  stores?: string[];
  all_stores?: boolean;
  all_stores_must_succeed?: boolean;
}

/** One step of a JSON patch: set an attribute (`add` also replaces, as in RFC 6902) or remove it. */
export type ImageChange = { op: 'add'; name: string; value: unknown } | { op: 'remove'; name: string };

/** Told the running total of bytes sent or received. */
export type OnProgress = (bytes: number) => void;

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

// A JSON pointer to one attribute: "~" and "/" in its name are escaped (RFC 6901).
const pointer = (name: string) => `/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/** Passes the chunks on, telling `onProgress` the running total and feeding `hash` on the way. */
async function* counted(source: AsyncIterable<Uint8Array>, onProgress?: OnProgress, hash?: Hash): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.length;
    hash?.update(chunk);
    onProgress?.(bytes);
    yield chunk;
  }
}

/** Glance v2, reached through the catalog's image endpoint. */
export class ImageClient {
  constructor(private readonly session: Session) {}

  /** The endpoint without a version: Glance's `next` links start with /v2. */
  private get root(): string {
    return this.session.endpoint('image').replace(/\/v2(\.\d+)?$/, '');
  }

  /** The v2 base URL. */
  get url(): string {
    return `${this.root}/v2`;
  }

  private image(id: string): string {
    return `${this.url}/images/${encodeURIComponent(id)}`;
  }

  async create(fields: ImageFields): Promise<Image> {
    return this.session.request<Image>('POST', `${this.url}/images`, { body: fields });
  }

  async get(id: string): Promise<Image> {
    return this.session.request<Image>('GET', this.image(id));
  }

  /** The images the filters select, sorted by the server (newest first). Follows `next` to the
   * last page unless a limit asks for one page, as openstackclient does. */
  async list(filters: ImageFilters = {}): Promise<Image[]> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) {
      for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) params.append(key, String(v));
    }
    const query = params.toString();
    let url: string | undefined = `${this.url}/images${query ? `?${query}` : ''}`;
    const images: Image[] = [];
    while (url) {
      const page: { images: Image[]; next?: string } = await this.session.request('GET', url);
      images.push(...page.images);
      const next = filters.limit === undefined && page.images.length ? page.next : undefined;
      url = next && (/^https?:/.test(next) ? next : `${this.root}${next}`);
    }
    return images;
  }

  /**
   * The image named `ref`, found as openstacksdk finds it: GET by ID first, then the list filtered
   * by name, which must hold exactly one image of that name or ID.
   */
  async find(ref: string): Promise<Image> {
    try {
      return await this.get(ref);
    } catch (err) {
      // Not an ID, or not one the caller may read: try it as a name.
      if (!(err instanceof HttpError) || ![400, 403, 404].includes(err.status)) throw err;
    }
    const matches = (await this.list({ name: ref })).filter((i) => i.id === ref || i.name === ref);
    if (matches.length > 1) throw new ClientError(`More than one Image exists with the name '${ref}'.`);
    if (!matches[0]) throw new ClientError(`No Image found for ${ref}`);
    return matches[0];
  }

  /** Applies the changes in one JSON patch and returns the image as it now is. */
  async update(id: string, changes: ImageChange[]): Promise<Image> {
    const ops = changes.map((c) => (c.op === 'add' ? { op: c.op, path: pointer(c.name), value: c.value } : { op: c.op, path: pointer(c.name) }));
    const body = JSON.stringify(ops);
    const res = await this.raw('PATCH', this.image(id), { headers: { 'content-type': PATCH_TYPE, accept: 'application/json' }, body }, body);
    return (await res.json()) as Image;
  }

  async delete(id: string): Promise<void> {
    await this.session.request('DELETE', this.image(id));
  }

  async addTag(id: string, tag: string): Promise<void> {
    await this.session.request('PUT', `${this.image(id)}/tags/${encodeURIComponent(tag)}`);
  }

  async removeTag(id: string, tag: string): Promise<void> {
    await this.session.request('DELETE', `${this.image(id)}/tags/${encodeURIComponent(tag)}`);
  }

  async deactivate(id: string): Promise<void> {
    await this.session.request('POST', `${this.image(id)}/actions/deactivate`);
  }

  async reactivate(id: string): Promise<void> {
    await this.session.request('POST', `${this.image(id)}/actions/reactivate`);
  }

  /**
   * Sends the image's data as it is read, never holding it whole. `size`, when known, is sent as
   * Content-Length so that the server can refuse what would pass its quota before any byte.
   */
  async upload(id: string, data: AsyncIterable<Uint8Array>, opts: { size?: number; onProgress?: OnProgress } = {}): Promise<void> {
    await this.send(`${this.image(id)}/file`, data, opts);
  }

  /** Sends the image's data to the staging area, for a glance-direct import; as upload() sends it. */
  async stage(id: string, data: AsyncIterable<Uint8Array>, opts: { size?: number; onProgress?: OnProgress } = {}): Promise<void> {
    await this.send(`${this.image(id)}/stage`, data, opts);
  }

  /** The import methods the cloud offers (GET /v2/info/import). */
  async importMethods(): Promise<string[]> {
    return (await this.session.request<{ 'import-methods': { value: string[] } }>('GET', `${this.url}/info/import`))['import-methods'].value;
  }

  /** Starts an interoperable import; the cloud carries it on after answering. */
  async import(id: string, request: ImportRequest): Promise<void> {
    await this.session.request('POST', `${this.image(id)}/import`, { body: request });
  }

  private async send(url: string, data: AsyncIterable<Uint8Array>, opts: { size?: number; onProgress?: OnProgress }): Promise<void> {
    // Glance answers errors in JSON only to a client that asks for JSON, an HTML page otherwise.
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', accept: 'application/json' };
    if (opts.size !== undefined) headers['content-length'] = String(opts.size);
    // fetch (undici) streams any async iterable of bytes; the DOM's BodyInit type does not say so.
    const body = counted(data, opts.onProgress) as unknown as BodyInit;
    const res = await this.raw('PUT', url, { headers, body, duplex: 'half' });
    await res.body?.cancel();
  }

  /**
   * Streams the image's data into `out`, and checks it against the image's digest (os_hash_value,
   * else the MD5 checksum) as openstacksdk does; a mismatch is an error. `end: false` leaves `out`
   * open, for stdout.
   */
  async download(image: Image, out: Writable, opts: { end?: boolean; onProgress?: OnProgress } = {}): Promise<void> {
    const res = await this.raw('GET', `${this.image(image.id)}/file`, { headers: { accept: 'application/octet-stream, application/json' } });
    if (res.status === 204 || !res.body) throw new ClientError(`Image ${image.id} has no data (status ${image.status}).`);
    const [algo, expected] =
      image.os_hash_algo && image.os_hash_value && getHashes().includes(image.os_hash_algo)
        ? [image.os_hash_algo, image.os_hash_value]
        : ['md5', res.headers.get('content-md5') ?? image.checksum];
    const hash = createHash(algo);
    const data = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    await pipeline(counted(data, opts.onProgress, hash), out, { end: opts.end ?? true });
    const digest = hash.digest('hex');
    if (expected && digest !== expected) throw new ClientError(`checksum mismatch: ${expected} != ${digest}`);
  }

  async members(imageId: string): Promise<ImageMember[]> {
    return (await this.session.request<{ members: ImageMember[] }>('GET', `${this.image(imageId)}/members`)).members;
  }

  async addMember(imageId: string, projectId: string): Promise<ImageMember> {
    return this.session.request<ImageMember>('POST', `${this.image(imageId)}/members`, { body: { member: projectId } });
  }

  async removeMember(imageId: string, projectId: string): Promise<void> {
    await this.session.request('DELETE', `${this.image(imageId)}/members/${encodeURIComponent(projectId)}`);
  }

  /** A member project accepts, rejects, or puts back to pending an image shared with it. */
  async updateMember(imageId: string, projectId: string, status: MemberStatus): Promise<ImageMember> {
    return this.session.request<ImageMember>('PUT', `${this.image(imageId)}/members/${encodeURIComponent(projectId)}`, { body: { status } });
  }

  private raw(method: string, url: string, init: { headers?: Record<string, string>; body?: BodyInit; duplex?: 'half' }, logBody?: string): Promise<Response> {
    return rawRequest(this.session, method, url, init, logBody);
  }
}
