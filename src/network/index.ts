import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';

/** Neutron v2.0, mounted under /networking. */
export function networkPlugin() {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'neutron');
    app.get('/', { config: { public: true } }, async (request) => ({
      versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${request.publicUrl}/networking/v2.0/` }] }],
    }));
    app.get('/v2.0', { config: { public: true } }, async () => ({ resources: [] }));
  };
}
