import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../lib/http/auth.ts';
import { callerOf } from '../access.ts';
import { usage } from '../quota.ts';
import type { ImageService } from '../service.ts';

/** Glance's minor versions up to Zed's; of the optional features some of them brought, the cache
 * API and locations are, as Glance lets operators choose, off. */
const CURRENT = 16;

const versions = (request: FastifyRequest) =>
  Array.from({ length: CURRENT + 1 }, (_, i) => CURRENT - i).map((minor) => ({
    id: `v2.${minor}`,
    status: minor === CURRENT ? 'CURRENT' : 'SUPPORTED',
    links: [{ rel: 'self', href: `${request.publicUrl}/image/v2/` }],
  }));

const MiB = 1024 * 1024;

/** Version discovery at the service root (300, as Glance answers) and at /v2, and the project's
 * use of its quotas, in Glance's units. */
export function discoveryRoutes(app: FastifyInstance, svc: ImageService): void {
  app.get('/', { config: { public: true } }, async (request, reply) => reply.status(300).send({ versions: versions(request) }));
  app.get('/versions', { config: { public: true } }, async (request) => ({ versions: versions(request) }));
  app.get('/v2', { config: { public: true } }, async (request) => ({ versions: versions(request) }));

  app.get('/v2/info/usage', { config: { policy: 'image:get_usage' } }, async (request) => {
    const { projectId } = callerOf(authOf(request));
    const used = await usage(svc.store.db, projectId);
    return {
      usage: {
        image_size_total: { limit: Math.floor(svc.quota.bytes / MiB), usage: Math.ceil(used.bytes / MiB) },
        image_count_total: { limit: svc.quota.images, usage: used.images },
      },
    };
  });
}
