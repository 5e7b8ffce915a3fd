import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors.ts';

/** Deeper than any OpenStack body goes; deeper ones would only exhaust the stack of whoever
 * walks them next (validation, the JSON columns of the database). */
const MAX_DEPTH = 64;

/** NUL, which PostgreSQL cannot keep in text or JSON, and unpaired UTF-16 surrogates, which no
 * UTF-8 encoder can write and which would reach the database as U+FFFD. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Parsed JSON and the router's and query parser's maps (objects over a null-prototype object);
 * not streams or buffers, which hold the data of uploads. */
const isPlain = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
};

/** Why a parsed request part cannot be taken as it is, with where; undefined if it can. Walks
 * without recursion, so that no nesting can overflow the stack. */
export function unstorable(root: unknown, context: string): string | undefined {
  const stack: [unknown, string, number][] = [[root, context, 0]];
  while (stack.length) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return `Invalid input for ${path}: NUL characters and unpaired surrogates are not allowed.`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return `Invalid input for ${context}: nested deeper than ${MAX_DEPTH} levels.`;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value[i], `${path}.${i}`, depth + 1]);
    } else if (isPlain(value)) {
      for (const [key, v] of Object.entries(value)) {
        if (UNSTORABLE.test(key)) return `Invalid input for ${path}: NUL characters and unpaired surrogates are not allowed in keys.`;
        stack.push([v, `${path}.${key}`, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * What every service takes alike, before any route runs: a JSON body may be empty (clients send
 * the content type on requests without a body, and routes that need one say so by their schema);
 * bodies must be UTF-8; and no string of the body, the path or the query may hold what the
 * database cannot store.
 */
export function installInputChecks(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'ignore');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(badRequest('The request body is not valid UTF-8.'), undefined);
    }
    json(request, text, done);
  });
  app.addHook('preValidation', async (request) => {
    const why = unstorable(request.params, 'params') ?? unstorable(request.query, 'querystring') ?? unstorable(request.body, 'body');
    if (why) throw badRequest(why);
  });
}
