import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';

/** Glance v2, mounted under /image. */
export function imagePlugin() {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'glance');
    app.get('/', { config: { public: true } }, async (request, reply) =>
      reply.status(300).send({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${request.publicUrl}/image/v2/` }] }] }),
    );
  };
}
