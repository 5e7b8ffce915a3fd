import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import { openFilesystemStore } from './stores/filesystem.ts';
import { recover } from './recovery.ts';
import type { ImageQuota } from './quota.ts';
import type { ImageService } from './service.ts';
import { discoveryRoutes } from './api/discovery.ts';
import { schemaRoutes } from './api/schemas.ts';
import { imageRoutes } from './api/images.ts';
import { dataRoutes } from './api/data.ts';
import { memberRoutes } from './api/members.ts';
import './policy.ts';

export type { ImageService } from './service.ts';

export interface ImageOptions {
  /** Image bytes are kept under <dataDir>/images. */
  dataDir: string;
  quota: ImageQuota;
  log: Logger;
}

/** Opens the image store and repairs what a crash may have left, before any request. */
export async function startImages(store: Store, opts: ImageOptions): Promise<ImageService> {
  const svc: ImageService = { store, data: await openFilesystemStore(join(opts.dataDir, 'images')), quota: opts.quota, log: opts.log };
  await recover(svc);
  return svc;
}

/** Glance v2, mounted under /image. Image data transfers give up on a client silent for
 * `clientIdleTimeoutMs`. */
export function imagePlugin(svc: ImageService, { clientIdleTimeoutMs = 60_000 } = {}) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'glance');
    discoveryRoutes(app, svc);
    schemaRoutes(app);
    imageRoutes(app, svc);
    dataRoutes(app, svc, clientIdleTimeoutMs);
    memberRoutes(app, svc);
  };
}
