import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from '../log.ts';
import { measureLatency } from './latency.ts';
import { answerError, answerNotFound, renderError, styleOf, type ErrorStyle } from './errors.ts';
import { installAuth, type TokenValidator } from './auth.ts';
import { installInputChecks } from './input.ts';
import { RouteIndex } from './routes.ts';

export type App = FastifyInstance;

declare module 'fastify' {
  interface FastifyRequest {
    /** The cloud's public base URL (scheme://host:port), for links and the catalog. */
    publicUrl: string;
  }
}

export interface AppOptions {
  log: Logger;
  publicUrl: string;
  validate: TokenValidator;
  /** Largest JSON body accepted; larger ones get 413. Streamed uploads set their own limit. */
  bodyLimit?: number;
  /** How long a silent client is waited on; here, the time its request head may take. */
  clientIdleTimeoutMs?: number;
}

/** Bodies are validated strictly (a wrong type is a 400, never coerced); query strings and
 * path parameters arrive as text and are coerced to the schema's types. Errors carry their
 * schema (verbose), so that a failed union can be explained by its alternatives. */
function validators() {
  const strict = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false, verbose: true });
  const lenient = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false, verbose: true });
  addFormats.default(strict);
  addFormats.default(lenient);
  return { strict, lenient };
}

/**
 * A route's validator that compiles its schema on the route's first request rather than at start:
 * the cloud has hundreds of routes, most of which a run never serves, and a start compiled them all.
 * `schemaEnv` tells Fastify to hand over the request as the
 * parent, as it does for Ajv's own functions, so that a default can still replace a whole part.
 */
function compiledOnFirstUse(ajv: Ajv, schema: object) {
  let compiled: ValidateFunction | undefined;
  const validate = Object.assign(
    (data: unknown, cxt?: Parameters<ValidateFunction>[1]) => {
      compiled ??= ajv.compile(schema);
      const valid = compiled(data, cxt);
      validate.errors = compiled.errors;
      return valid;
    },
    { errors: null as ValidateFunction['errors'], schemaEnv: true },
  );
  return validate;
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time.'],
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large.'],
};

/**
 * Answers what Node's HTTP parser refuses (malformed requests, a body longer than its
 * Content-Length, timeouts) in the error style of the service the request was for: the one
 * named by the refused request line, or else by the request before it on the connection.
 */
function clientErrorHandler(styles: Map<string, ErrorStyle>, lastUrl: WeakMap<Socket, string>) {
  return (err: Error & { code?: string; rawPacket?: unknown }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // Not into a response under way (a bad request pipelined behind a download): it would corrupt it.
    const sending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (socket.writable && !sending) {
      const head = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1') : '';
      // The request line may be cut short, when it is what overflowed.
      const url = /^[A-Z]+ (\/[^\s?]*)/.exec(head)?.[1] ?? lastUrl.get(socket);
      const accept = /\r\naccept:([^\r]*)/i.exec(head)?.[1];
      const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'The request is not valid HTTP.'];
      const { contentType, payload } = renderError(styleOf(styles, url), status, message, { accept });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
      );
    }
    socket.destroy();
  };
}

/** The root HTTP app: request ids, strict validation, the input every service refuses,
 * authentication and policy, and errors in each service's style wherever they are raised.
 * Each service registers itself under its prefix. */
export function createApp(opts: AppOptions): App {
  const styles = new Map<string, ErrorStyle>();
  const lastUrl = new WeakMap<Socket, string>();
  const app = Fastify({
    loggerInstance: opts.log,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    genReqId: () => `req-${randomUUID()}`,
    requestIdHeader: false,
    // Per-request log lines only when asked: at thousands of requests a second they cost more than the work.
    logController: new LogController({ disableRequestLogging: process.env.NUBO_LOG_REQUESTS !== '1' }),
    forceCloseConnections: true,
    // A path parameter may be as long as a Keystone project tag (255 characters), percent-encoded.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 255 * 12 },
    // A request head must arrive whole in time (a client dripping headers holds a connection
    // forever otherwise), checked often enough to cut it off near that time. A body has no overall
    // limit, as a large upload is long: the routes that stream give up on silence themselves.
    requestTimeout: 0,
    http: {
      requestTimeout: 0,
      headersTimeout: opts.clientIdleTimeoutMs ?? 60_000,
      connectionsCheckingInterval: Math.min((opts.clientIdleTimeoutMs ?? 60_000) / 2, 30_000),
    },
    clientErrorHandler: clientErrorHandler(styles, lastUrl),
    // A path that cannot be decoded, or a parameter too long for the router.
    frameworkErrors: (err, request, reply) => answerError(err as Error, request, reply, styleOf(styles, request.url)),
  }) as unknown as FastifyInstance;

  const { strict, lenient } = validators();
  app.setValidatorCompiler(({ schema, httpPart }) => compiledOnFirstUse(httpPart === 'body' ? strict : lenient, schema));

  app.decorate('errorStyles', styles);
  app.decorate('routeIndex', new RouteIndex());
  app.addHook('onRoute', (route) => {
    for (const method of ([] as string[]).concat(route.method)) app.routeIndex.add(method, route.url, route.schema as never);
  });
  app.decorateRequest('publicUrl', opts.publicUrl);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-openstack-request-id', request.id);
    lastUrl.set(request.raw.socket, request.url);
  });
  measureLatency(app);
  installAuth(app, opts.validate);
  installInputChecks(app);
  app.setErrorHandler((err: Error, request, reply) => answerError(err, request, reply, styleOf(styles, request.url)));
  app.setNotFoundHandler((request, reply) => answerNotFound(request, reply, styleOf(styles, request.url)));
  return app;
}
