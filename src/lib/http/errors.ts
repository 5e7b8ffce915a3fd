import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';

/** Each OpenStack service wraps its errors in a body of its own shape. */
export type ErrorStyle = 'keystone' | 'nova' | 'neutron' | 'glance' | 'cinder';

const novaNames: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

const neutronTypes: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  503: 'HTTPServiceUnavailable',
};

const reason = (status: number) => STATUS_CODES[status] ?? 'Error';

/** The body a client of that service expects for an error. `type` is Neutron's error type when
 * the domain gave one (NetworkNotFound, IpAddressAlreadyAllocated…). */
export function errorBody(style: ErrorStyle, status: number, message: string, type?: string): unknown {
  switch (style) {
    case 'keystone':
      return { error: { code: status, title: reason(status), message } };
    case 'nova':
    case 'cinder':
      return { [novaNames[status] ?? (status >= 500 ? 'computeFault' : 'badRequest')]: { code: status, message } };
    case 'neutron':
      return { NeutronError: { type: type ?? neutronTypes[status] ?? 'HTTPError', message, detail: '' } };
    case 'glance':
      return { code: `${status} ${reason(status)}`, title: reason(status), message };
  }
}

interface Mapped {
  status: number;
  message: string;
  type?: string;
}

function map(err: FastifyError | ApiError | Error): Mapped | undefined {
  if (err instanceof ApiError) {
    return { status: err.status, message: err.message, type: err.kind === err.type ? undefined : err.type };
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    const where = fe.validationContext ?? 'request';
    const path = first?.instancePath ? `${where}${first.instancePath.replaceAll('/', '.')}` : where;
    return { status: 400, message: `Invalid input for ${path}: ${first?.message ?? fe.message}` };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, message: fe.message };
  }
  return undefined;
}

/** Installs, in one encapsulated service plugin, the error and not-found handlers that answer
 * in that service's style. Unknown errors are logged and answered as a 500 without details. */
export function useErrorStyle(app: FastifyInstance, style: ErrorStyle): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = map(err);
    if (!mapped) {
      request.log.error({ err }, 'unhandled error');
      return reply.status(500).send(errorBody(style, 500, 'An unexpected error prevented the server from fulfilling your request.'));
    }
    if (mapped.status === 401) reply.header('www-authenticate', 'Keystone uri="' + request.publicUrl + '/identity"');
    return reply.status(mapped.status).send(errorBody(style, mapped.status, mapped.message, mapped.type));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody(style, 404, `The resource could not be found: ${request.method} ${request.url.split('?')[0]}`)),
  );
}
