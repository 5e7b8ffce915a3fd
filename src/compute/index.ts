import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import { useMicroversions, type MicroversionSpec } from '../lib/http/microversion.ts';

/** The microversions served: each feature raises the maximum only when it is really there. */
export const COMPUTE_VERSIONS: MicroversionSpec = { service: 'compute', legacyHeader: 'X-OpenStack-Nova-API-Version', min: '2.1', max: '2.1' };

const v21 = (base: string) => ({
  id: 'v2.1',
  status: 'CURRENT',
  version: COMPUTE_VERSIONS.max,
  min_version: COMPUTE_VERSIONS.min,
  updated: '2013-07-23T11:33:21Z',
  links: [{ rel: 'self', href: `${base}/compute/v2.1/` }],
});

/** Nova v2.1, mounted under /compute. */
export function computePlugin() {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'nova');
    app.get('/', { config: { public: true } }, async (request) => ({ versions: [v21(request.publicUrl)] }));
    await app.register(async (v2) => {
      useMicroversions(v2, COMPUTE_VERSIONS);
      v2.get('/', { config: { public: true } }, async (request) => ({
        version: { ...v21(request.publicUrl), 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }] },
      }));
    }, { prefix: '/v2.1' });
  };
}
