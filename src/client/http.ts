import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ClientError, HttpError, errorDetail } from './errors.ts';

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | undefined>;

export interface HttpRequest {
  method: string;
  url: string;
  query?: Query;
  /** Sent as X-Auth-Token. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse<T> {
  status: number;
  headers: { get(name: string): string | null };
  body: T;
}

/** Receives a line per request and per response (the --debug output). */
export type Logger = (line: string) => void;

const SECRETS = new Set(['password', 'secret', 'original_password']);

export function withQuery(url: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, String(value));
  const text = params.toString();
  return text ? `${url}${url.includes('?') ? '&' : '?'}${text}` : url;
}

/** The status, headers and text of one exchange. node:http, not fetch: loading fetch's
 * implementation costs a command more than its requests do. */
function exchange(url: string, method: string, headers: Record<string, string>, payload?: string) {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise<{ status: number; statusText: string; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode!, statusText: res.statusMessage ?? '', headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** One JSON request. An error status becomes an HttpError carrying the server's message; a
 * connection failure becomes a ClientError that names the URL. */
export async function send<T>(req: HttpRequest, log?: Logger): Promise<HttpResponse<T>> {
  const url = withQuery(req.url, req.query);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'nubo', ...req.headers };
  if (req.token) headers['x-auth-token'] = req.token;
  let payload: string | undefined;
  if (req.body !== undefined) {
    payload = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
  }
  log?.(`REQ: ${req.method} ${url}${payload ? ` ${JSON.stringify(req.body, (k, v) => (SECRETS.has(k) && typeof v === 'string' ? '***' : v))}` : ''}`);
  let res: Awaited<ReturnType<typeof exchange>>;
  try {
    res = await exchange(url, req.method, headers, payload);
  } catch (err) {
    throw new ClientError(`Unable to establish connection to ${url}: ${(err as Error).message}`);
  }
  const get = (name: string) => {
    const value = res.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  };
  log?.(`RESP: [${res.status}] ${res.text}`);
  if (res.status < 200 || res.status > 299) {
    const requestId = get('x-openstack-request-id') ?? get('x-compute-request-id') ?? undefined;
    throw new HttpError(errorDetail(res.text, res.statusText || 'Error'), res.status, req.method, url, requestId);
  }
  let body: unknown;
  if (res.text) {
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new ClientError(`${req.method} ${url} answered ${res.status} with a body that is not JSON`);
    }
  }
  return { status: res.status, headers: { get }, body: body as T };
}
