/** A failure the client can explain in one line: missing options, a name that matches nothing,
 * a server that cannot be reached. */
export class ClientError extends Error {
  override name = 'ClientError';
}

/** An OpenStack API answered with an error status. The message reads like keystoneauth's:
 * `Could not find project: x. (HTTP 404) (Request-ID: req-…)`. */
export class HttpError extends ClientError {
  override name = 'HttpError';
  constructor(
    /** The server's own message, without the status. */
    readonly detail: string,
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly requestId?: string,
  ) {
    super(`${detail} (HTTP ${status})${requestId ? ` (Request-ID: ${requestId})` : ''}`);
  }
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
// Some services (Glance, proxies) answer errors with an HTML page.
const pageText = (text: string) => oneLine(text.replace(/<[^>]*>/g, ' '));

const messageOf = (value: unknown): string | undefined =>
  value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string' ? (value as { message: string }).message : undefined;

/**
 * The message of an error body, whichever service's shape it has: Keystone `{error: {message}}`,
 * Neutron `{NeutronError: {message}}`, Nova and Cinder `{itemNotFound: {message}}`, Glance
 * `{message}`; otherwise the text itself, and the status's reason when there is no body.
 */
export function errorDetail(text: string, reason: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return pageText(text) || reason;
  }
  const direct = messageOf(body);
  if (direct) return oneLine(direct);
  if (body && typeof body === 'object') {
    for (const value of Object.values(body)) {
      const nested = messageOf(value);
      if (nested) return oneLine(nested);
    }
  }
  return oneLine(text) || reason;
}
