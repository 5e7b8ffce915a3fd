import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import { storageFailure } from '../store/errors.ts';
import { validationMessage } from './validation.ts';

/** Each OpenStack service wraps its errors in a body of its own shape. */
export type ErrorStyle = 'keystone' | 'nova' | 'neutron' | 'glance' | 'cinder' | 'heat' | 'octavia' | 'gnocchi' | 'aodh';

declare module 'fastify' {
  interface FastifyInstance {
    /** The error style of each service, by its URL prefix, for errors raised before routing. */
    errorStyles: Map<string, ErrorStyle>;
  }
}

/** Nova's and Cinder's fault names; any other status (406 too) is a computeFault. */
const novaNames: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

const neutronTypes: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  503: 'HTTPServiceUnavailable',
};

const reason = (status: number) => STATUS_CODES[status] ?? 'Error';

/** The body a client of that service expects for an error. `type` is Neutron's error type when
 * the domain gave one (NetworkNotFound, IpAddressAlreadyAllocated…). Glance's is its JSON form. */
export function errorBody(style: ErrorStyle, status: number, message: string, type?: string): unknown {
  switch (style) {
    case 'keystone':
      return { error: { code: status, title: reason(status), message } };
    case 'nova':
    case 'cinder':
      return { [novaNames[status] ?? 'computeFault']: { code: status, message } };
    case 'neutron':
      return { NeutronError: { type: type ?? neutronTypes[status] ?? 'HTTPError', message, detail: '' } };
    case 'glance':
      return { code: `${status} ${reason(status)}`, title: reason(status), message };
    // heatclient prints error.message; type is the engine's exception name (StackValidationFailed…).
    case 'heat':
      return { code: status, title: reason(status), explanation: message, error: { message, type: type ?? reason(status).replace(/ /g, ''), traceback: null } };
    // octaviaclient prints faultstring (wsme's fault body).
    case 'octavia':
      return { faultcode: status < 500 ? 'Client' : 'Server', faultstring: message, debuginfo: null };
    // gnocchiclient prints description.
    case 'gnocchi':
      return { code: status, title: reason(status), description: message };
    // aodhclient prints error_message.faultstring (wsme's fault body, wrapped by Aodh).
    case 'aodh':
      return { error_message: { faultcode: status < 500 ? 'Client' : 'Server', faultstring: message, debuginfo: null } };
  }
}

/** The quality a media-range list gives an offered type: its most specific matching range wins. */
function quality(accept: string, offer: string): number {
  const [type] = offer.split('/');
  let best = -1;
  let q = 0;
  for (const range of accept.split(',')) {
    const [media = '', ...params] = range.trim().toLowerCase().split(';');
    const specificity = media === offer ? 2 : media === `${type}/*` ? 1 : media === '*/*' ? 0 : -1;
    if (specificity <= best) continue;
    best = specificity;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q = qParam ? Number(qParam.slice(2)) || 0 : 1;
  }
  return best < 0 ? 0 : q;
}

// Text content needs only these; quotes stay as they are, for the clients that print the lines.
const escapeHtml = (text: string) => text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An error as bytes to send. Glance's errors come from webob, which answers JSON only to a
 * client that prefers it and an HTML page otherwise; python-glanceclient (which accepts
 * any type) reads the lines of that page and would fail on the JSON form.
 */
export function renderError(
  style: ErrorStyle,
  status: number,
  message: string,
  opts: { type?: string; accept?: string } = {},
): { contentType: string; payload: string } {
  if (style === 'glance') {
    const accept = opts.accept?.trim() || '*/*';
    if (quality(accept, 'text/html') >= quality(accept, 'application/json') && quality(accept, 'text/html') > 0) {
      const title = `${status} ${reason(status)}`;
      const page = `<html>\n <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n  ${escapeHtml(message)}<br /><br />\n </body>\n</html>`;
      return { contentType: 'text/html; charset=UTF-8', payload: page };
    }
  }
  return { contentType: 'application/json; charset=utf-8', payload: JSON.stringify(errorBody(style, status, message, opts.type)) };
}

/** The style of the service whose prefix the URL falls under; Keystone's for the rest. */
export function styleOf(styles: ReadonlyMap<string, ErrorStyle>, url: string | undefined): ErrorStyle {
  const path = url?.split('?')[0] ?? '';
  let found: ErrorStyle = 'keystone';
  let length = -1;
  for (const [prefix, style] of styles) {
    if ((path === prefix || path.startsWith(`${prefix}/`)) && prefix.length > length) [found, length] = [style, prefix.length];
  }
  return found;
}

/** Answers an error in the style given, with the request's Accept honoured where the style cares. */
export function sendError(reply: FastifyReply, style: ErrorStyle, status: number, message: string, type?: string): FastifyReply {
  const { contentType, payload } = renderError(style, status, message, { type, accept: reply.request.headers.accept });
  if (status === 401) reply.header('www-authenticate', `Keystone uri="${reply.request.publicUrl}/identity"`);
  return reply.status(status).header('content-type', contentType).send(payload);
}

interface Mapped {
  status: number;
  message: string;
  type?: string;
  retryAfter?: number;
  /** The storage failed, not the request: its error code, for one line in the log. */
  storage?: string;
}

const STORAGE_MESSAGE = {
  full: 'The storage of this cloud is full; try again once space has been freed.',
  unavailable: 'The storage of this cloud cannot serve the request at the moment; try again later.',
};

function map(err: FastifyError | ApiError | Error, style: ErrorStyle): Mapped | undefined {
  if (err instanceof ApiError) {
    return { status: err.status, message: err.message, type: err.kind === err.type ? undefined : err.type, retryAfter: err.retryAfter };
  }
  const fe = err as FastifyError;
  if (fe.validation) return { status: 400, message: validationMessage(fe.validation as never, fe.validationContext ?? 'request') };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return { status: fe.statusCode, message: fe.message };
  const storage = storageFailure(err);
  // Glance says a full store with 413, as it does for an upload that does not fit.
  if (storage?.failure === 'full' && style === 'glance') return { status: 413, message: 'Image storage media is full.', storage: storage.code };
  if (storage) return { status: 503, message: STORAGE_MESSAGE[storage.failure], storage: storage.code };
  return undefined;
}

/** Answers any error in the style given: tagged errors, validation, Fastify's own 4xx, storage
 * failures as 503; anything else is logged and becomes a 500 without details. */
export function answerError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply, style: ErrorStyle): FastifyReply {
  const mapped = map(err, style);
  if (!mapped) {
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, style, 500, 'An unexpected error prevented the server from fulfilling your request.');
  }
  // One line, no stack (nor the failed query's parameters): the cause is the host's.
  if (mapped.storage) request.log.warn({ code: mapped.storage }, 'storage failure');
  if (mapped.retryAfter !== undefined) reply.header('retry-after', mapped.retryAfter);
  return sendError(reply, style, mapped.status, mapped.message, mapped.type);
}

/** The 404 of a path that no route serves, or the 405 of one served for other methods only. */
export function answerNotFound(request: FastifyRequest, reply: FastifyReply, style: ErrorStyle): FastifyReply {
  const path = request.url.split('?')[0]!;
  const allowed = request.server.hasDecorator('routeIndex') ? request.server.routeIndex.allowed(path) : [];
  if (allowed.length) {
    reply.header('allow', allowed.join(', '));
    return sendError(reply, style, 405, `The method ${request.method} is not allowed for this resource.`);
  }
  return sendError(reply, style, 404, `The resource could not be found: ${request.method} ${path}`);
}

/** Installs, in one encapsulated service plugin, the error and not-found handlers that answer
 * in that service's style, and records the style for errors raised before routing. */
export function useErrorStyle(app: FastifyInstance, style: ErrorStyle): void {
  if (app.hasDecorator('errorStyles') && app.prefix) app.errorStyles.set(app.prefix, style);
  app.setErrorHandler((err: FastifyError, request, reply) => answerError(err, request, reply, style));
  app.setNotFoundHandler((request, reply) => answerNotFound(request, reply, style));
}
