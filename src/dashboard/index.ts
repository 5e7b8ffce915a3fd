import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../lib/errors.ts';
import { encodingFor, loadAssets, type Asset } from './assets.ts';

/** The page's files. From src/dashboard/ and from dist/dashboard/ alike, they are read where they
 * are written, in the sources: they are served as they are, with no build step of their own. */
const STATIC = fileURLToPath(new URL('../../src/dashboard/static/', import.meta.url));

/** The dashboard's own addresses: each one answers the same page, which shows the view the path
 * names, so that a view can be reloaded or bookmarked. */
const VIEWS = [
  ...['/', '/login', '/overview', '/topology', '/servers', '/servers/:id', '/images', '/images/:id'],
  ...['/networks', '/subnets', '/routers', '/floating-ips', '/load-balancers', '/security-groups', '/key-pairs', '/volumes'],
  ...['/flavors', '/projects', '/users', '/role-assignments', '/hypervisors'],
];

/** The page may load its own files and talk to this origin only: a script injected through a
 * resource's name could otherwise send the token kept in the session elsewhere. */
const POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** A file, compressed when the client takes it, revalidated at each load (ETag) so that an
 * upgraded cloud never runs an old page. */
function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  reply.header('content-type', asset.type).header('etag', asset.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding');
  reply.header('content-security-policy', POLICY).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  const encoding = encodingFor(request.headers['accept-encoding']);
  if (encoding) reply.header('content-encoding', encoding);
  return reply.send(encoding ? asset.encoded(encoding) : asset.raw);
}

/** The 404 of any path the cloud does not serve (the router would call it a wrong method). */
const missing = (request: FastifyRequest) => notFound(`The resource could not be found: ${request.method} ${request.url.split('?')[0]}`);

/** Whether a request for `/` is a person's browser rather than an API client: a client that asks
 * for JSON (or anything but HTML) keeps the answer it always had. */
const wantsPage = (request: FastifyRequest) => /\btext\/html\b/.test(String(request.headers.accept ?? ''));

/**
 * The web dashboard: one page and its scripts, public because they hold nothing; everything the
 * page shows it asks of the OpenStack APIs with the user's own token, like any other client.
 */
export function dashboardPlugin() {
  const assets = loadAssets(STATIC);
  const page = assets.get('index.html');
  if (!page) throw new Error(`the dashboard's page is missing from ${STATIC}`);
  return async (app: FastifyInstance) => {
    const open = { config: { public: true } } as const;
    for (const view of VIEWS) {
      app.get(view, open, async (request, reply) => {
        if (view === '/' && !wantsPage(request)) throw missing(request);
        return send(request, reply, page);
      });
    }
    app.get('/dashboard/:file', open, async (request, reply) => {
      const asset = assets.get((request.params as { file: string }).file);
      if (!asset) throw missing(request);
      return send(request, reply, asset);
    });
  };
}
