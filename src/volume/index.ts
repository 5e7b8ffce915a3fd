import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import { useMicroversions, type MicroversionSpec } from '../lib/http/microversion.ts';
import { authenticated, definePolicy } from '../lib/http/policy.ts';

export const VOLUME_VERSIONS: MicroversionSpec = { service: 'volume', min: '3.0', max: '3.0' };

const v3 = (base: string) => ({
  id: 'v3.0',
  status: 'CURRENT',
  version: VOLUME_VERSIONS.max,
  min_version: VOLUME_VERSIONS.min,
  updated: '2023-01-01T00:00:00Z',
  links: [{ rel: 'self', href: `${base}/volume/v3/` }],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
});

const CINDER_QUOTA_DEFAULTS = { volumes: 10, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, groups: 10, per_volume_gigabytes: -1 };

definePolicy({ 'volume:quota:show': authenticated });

/** Cinder v3, mounted under /volume. */
export function volumePlugin() {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'cinder');
    app.get('/', { config: { public: true } }, async (request, reply) => reply.status(300).send({ versions: [v3(request.publicUrl)] }));
    await app.register(async (api) => {
      useMicroversions(api, VOLUME_VERSIONS);
      api.get('/', { config: { public: true } }, async (request) => ({ version: v3(request.publicUrl) }));
      // There are no volumes yet: every project has Cinder's default limits and uses none of them,
      // which is what `openstack quota show` gathers beside compute's and network's.
      const quotaSet = (id: string) => ({ quota_set: { id, ...CINDER_QUOTA_DEFAULTS } });
      api.get<{ Params: { target: string } }>('/:project_id/os-quota-sets/:target', { config: { policy: 'volume:quota:show' } }, async (request) =>
        quotaSet(request.params.target),
      );
      api.get<{ Params: { target: string } }>('/:project_id/os-quota-sets/:target/defaults', { config: { policy: 'volume:quota:show' } }, async (request) =>
        quotaSet(request.params.target),
      );
    }, { prefix: '/v3' });
  };
}
