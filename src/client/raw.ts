import { ClientError, HttpError, errorDetail } from './errors.ts';
import type { Session } from './session.ts';

/**
 * A request with the session's token whose body or answer is not plain JSON (a JSON patch, image
 * or object data, Swift's headers), which the session's JSON requests cannot carry. Errors become
 * the same HttpError and ClientError; `logBody` is what --debug shows of the body.
 */
export async function rawRequest(
  session: Session,
  method: string,
  url: string,
  init: { headers?: Record<string, string>; body?: BodyInit; duplex?: 'half' },
  logBody?: string,
): Promise<Response> {
  const log = session.options.log;
  log?.(`REQ: ${method} ${url}${logBody ? ` ${logBody}` : ''}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, method, headers: { 'user-agent': 'nubo', 'x-auth-token': session.token, ...init.headers } });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new ClientError(`${method} ${url} failed: ${cause}`);
  }
  if (!res.ok) {
    const text = await res.text();
    log?.(`RESP: [${res.status}] ${text}`);
    // Swift names its request IDs transactions.
    const requestId = res.headers.get('x-openstack-request-id') ?? res.headers.get('x-trans-id') ?? undefined;
    throw new HttpError(errorDetail(text, res.statusText || 'Error'), res.status, method, url, requestId);
  }
  log?.(`RESP: [${res.status}]`);
  return res;
}
