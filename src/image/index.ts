import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import { CephCli } from '../lib/ceph/index.ts';
import { openFilesystemStore } from './stores/filesystem.ts';
import { openRbdStore } from './stores/rbd.ts';
import { recover } from './recovery.ts';
import { loadCatalogue } from './metadefs/catalogue.ts';
import type { ImageQuota } from './quota.ts';
import type { ImageService, ImageSettings } from './service.ts';
import { discoveryRoutes } from './api/discovery.ts';
import { schemaRoutes } from './api/schemas.ts';
import { imageRoutes } from './api/images.ts';
import { dataRoutes } from './api/data.ts';
import { memberRoutes } from './api/members.ts';
import { importRoutes } from './api/imports.ts';
import { metadefRoutes } from './api/metadefs.ts';
import './policy.ts';

export type { ImageService } from './service.ts';

export interface ImageOptions {
  /** Image bytes are kept under <dataDir>/images, unless in Ceph; staged imports always are. */
  dataDir: string;
  /** Image bytes are kept as RBD images in this pool of this cluster, as this cephx user; with
   * storeRaw, qcow2 uploads are converted to raw on the way in (under <dataDir>/image-conversion). */
  ceph?: { conf: string; user: string; pool: string; storeRaw?: boolean };
  quota: ImageQuota;
  settings?: Partial<ImageSettings>;
  /** Metadata definitions in Glance's JSON files, loaded at the first start instead of Nubo's. */
  metadefsDir?: string;
  /** A hypervisor host's reader of the controllers' store (`nubo agent`): it repairs nothing,
   * since orphans there may be uploads under way in a controller. */
  reader?: boolean;
  log: Logger;
}

/** Opens the image store and, unless a reader, repairs what a crash may have left, before any request. */
export async function startImages(store: Store, opts: ImageOptions): Promise<ImageService> {
  const svc: ImageService = {
    store,
    data: opts.ceph
      ? await openRbdStore(new CephCli({ ...opts.ceph, log: opts.log }), opts.log, opts.ceph.storeRaw ? join(opts.dataDir, 'image-conversion') : undefined)
      : await openFilesystemStore(join(opts.dataDir, 'images')),
    staging: await openFilesystemStore(join(opts.dataDir, 'image-staging')),
    quota: opts.quota,
    settings: { formatCheckSkip: new Set(), webDownloadAllow: [], showDirectUrl: false, ...opts.settings },
    log: opts.log,
    imports: new Set(),
  };
  if (opts.reader) return svc;
  await recover(svc);
  await loadCatalogue(store, opts.metadefsDir);
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
    importRoutes(app, svc, clientIdleTimeoutMs);
    metadefRoutes(app, svc);
  };
}
