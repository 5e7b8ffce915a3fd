import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from '../log.ts';
import { useErrorStyle } from './errors.ts';
import { installAuth, type TokenValidator } from './auth.ts';

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
 * path parameters arrive as text and are coerced to the schema's types. */
function validators() {
  const strict = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
  const lenient = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });
  addFormats.default(strict);
  addFormats.default(lenient);
  return { strict, lenient };
}

/** The root HTTP app: request ids, strict validation, authentication and policy, and an error
 * style for paths that belong to no service. Each service registers itself under its prefix. */
export function createApp(opts: AppOptions): App {
  const app = Fastify({
    loggerInstance: opts.log,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    genReqId: () => `req-${randomUUID()}`,
    requestIdHeader: false,
    // Per-request log lines only when asked: at thousands of requests a second they cost more than the work.
    logController: new LogController({ disableRequestLogging: process.env.NUBO_LOG_REQUESTS !== '1' }),
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true },
    // A request head must arrive whole in time (a client dripping headers holds a connection
    // forever otherwise), checked often enough to cut it off near that time. A body has no overall
    // limit, as a large upload is long: the routes that stream give up on silence themselves.
    requestTimeout: 0,
    http: { requestTimeout: 0, headersTimeout: opts.clientIdleTimeoutMs ?? 60_000, connectionsCheckingInterval: Math.min((opts.clientIdleTimeoutMs ?? 60_000) / 2, 30_000) },
  }) as unknown as FastifyInstance;

  const { strict, lenient } = validators();
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : lenient).compile(schema));

  app.decorateRequest('publicUrl', opts.publicUrl);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-openstack-request-id', request.id);
  });
  installAuth(app, opts.validate);
  useErrorStyle(app, 'keystone');
  return app;
}
