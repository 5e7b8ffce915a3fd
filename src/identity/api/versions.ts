import type { FastifyInstance } from 'fastify';

const version = (base: string) => ({
  id: 'v3.14',
  status: 'stable',
  updated: '2020-04-07T00:00:00Z',
  links: [{ rel: 'self', href: `${base}/identity/v3/` }],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
});

/** Keystone's discovery documents: the list (300 Multiple Choices, as Keystone answers) and v3. */
export function versionRoutes(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (request, reply) =>
    reply.status(300).send({ versions: { values: [version(request.publicUrl)] } }),
  );
  app.get('/v3', { config: { public: true } }, async (request) => ({ version: version(request.publicUrl) }));
}
