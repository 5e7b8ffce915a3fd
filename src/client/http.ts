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
  headers: Headers;
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
  let res: Response;
  try {
    res = await fetch(url, { method: req.method, headers, body: payload });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new ClientError(`Unable to establish connection to ${url}: ${cause}`);
  }
  const text = await res.text();
  log?.(`RESP: [${res.status}] ${text}`);
  if (!res.ok) {
    const requestId = res.headers.get('x-openstack-request-id') ?? res.headers.get('x-compute-request-id') ?? undefined;
    throw new HttpError(errorDetail(text, res.statusText || 'Error'), res.status, req.method, url, requestId);
  }
  let body: unknown;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ClientError(`${req.method} ${url} answered ${res.status} with a body that is not JSON`);
    }
  }
  return { status: res.status, headers: res.headers, body: body as T };
}
