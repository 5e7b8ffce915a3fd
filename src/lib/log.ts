import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Properties of database errors that carry values: PGlite's query parameters and options, and
 * PostgreSQL's detail ("Failing row contains (…)", "Key (name)=(…) already exists"). */
const VALUED = new Set(['params', 'queryOptions', 'detail']);

/** A copy of err, and of the errors it wraps, without the values a failed query was given: a
 * password hash or a secret is one of them as often as not. The SQL text itself is kept. */
function withoutValues(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 10) return err;
  const params = (err as { params?: unknown }).params;
  // drizzle puts the parameters in its message ("Failed query: …\nparams: …"), hence in the stack.
  const listed = params === undefined ? undefined : `params: ${String(params)}`;
  const hide = (text: string | undefined) => (listed && text ? text.replace(listed, 'params: (not logged)') : text);
  const copy = Object.create(Object.getPrototypeOf(err)) as Record<string, unknown>;
  // Inherited enumerable properties too (DOMException's are getters that throw on anything but a
  // real DOMException): the copy holds them as values of its own.
  for (const key in err) {
    const value = withoutValues((err as unknown as Record<string, unknown>)[key], depth + 1);
    if (!VALUED.has(key)) Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  }
  Object.defineProperties(copy, {
    message: { value: hide(err.message), enumerable: false, writable: true },
    stack: { value: hide(err.stack), enumerable: false, writable: true },
  });
  if (err.cause !== undefined) copy.cause = withoutValues(err.cause, depth + 1);
  if (err instanceof AggregateError) copy.errors = err.errors.map((e: unknown) => withoutValues(e, depth + 1));
  return copy;
}

/** The process logger. Secrets never reach it: request bodies are not logged, the auth headers
 * are redacted, and errors lose the values of their failed queries. */
export function createLogger(level = process.env.NUBO_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: (err: unknown) => stdSerializers.err(withoutValues(err) as Error) },
      // An error logged bare (log.error(err)) also lends its message to the line's msg.
      hooks: {
        logMethod(args, method) {
          if (args[0] instanceof Error) args[0] = withoutValues(args[0]) as Error;
          return method.apply(this, args);
        },
      },
      redact: {
        paths: ['req.headers["x-auth-token"]', 'req.headers["x-subject-token"]', 'req.headers.authorization'],
        censor: '***',
      },
    },
    destination,
  );
}
