import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ImageService } from '../image/index.ts';
import { useErrorStyle } from '../lib/http/errors.ts';
import { useMicroversions, type MicroversionSpec } from '../lib/http/microversion.ts';
import type { Logger } from '../lib/log.ts';
import type { Controller } from '../lib/reconcile/controller.ts';
import type { Store } from '../lib/store/db.ts';
import { startVolumeWorker } from './agent/worker.ts';
import { startVolumeExports } from './exports.ts';
import { attachmentRoutes } from './api/attachments.ts';
import { volumeExtended } from './attachments.ts';
import { quotaRoutes } from './api/quotas.ts';
import { snapshotRoutes } from './api/snapshots.ts';
import { typeRoutes } from './api/types.ts';
import { volumeRoutes } from './api/volumes.ts';
import { openFileDriver } from './drivers/file.ts';
import { openRbdDriver } from './drivers/rbd.ts';
import { openFileBackupStore } from './backup-stores/file.ts';
import { openRbdBackupStore } from './backup-stores/rbd.ts';
import { backupRoutes } from './api/backups.ts';
import { CephCli } from '../lib/ceph/index.ts';
import { clientAuth } from '../lib/ceph/auth.ts';
import type { VolumeService } from './service.ts';
import { ensureDefaultType } from './types.ts';
import { onInUseExtend } from './volumes.ts';
import './policy.ts';

export type { VolumeService } from './service.ts';

// 3.42: os-extend of an in-use volume.
export const VOLUME_VERSIONS: MicroversionSpec = { service: 'volume', min: '3.0', max: '3.44' };

const v3 = (base: string) => ({
  id: 'v3.0',
  status: 'CURRENT',
  version: VOLUME_VERSIONS.max,
  min_version: VOLUME_VERSIONS.min,
  updated: '2023-01-01T00:00:00Z',
  links: [{ rel: 'self', href: `${base}/volume/v3/` }],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
});

export interface VolumeOptions {
  /** Volumes are kept under <dataDir>/volumes, and their backups under <dataDir>/backups (storage local). */
  dataDir: string;
  images: ImageService;
  /** This host's name, in each volume's os-vol-host-attr:host. */
  host: string;
  /** Volumes as RBD images in this pool of this cluster, as this cephx user (storage ceph);
   * imagePool: where the image service keeps raw images that volumes are cloned from. */
  ceph?: { conf: string; user: string; pool: string; imagePool?: string; backup?: { user: string; pool: string } };
  /** Where volumes are served over NBD to guests on other hosts (storage local). */
  exportAddress?: string;
  log: Logger;
}

export interface Volumes extends VolumeService {
  worker: Controller;
  /** Serves the volumes guests on other hosts open (storage local; none with Ceph, which every host reaches). */
  exports?: Controller;
  close(): Promise<void>;
}

/** Opens the file backend, makes the default volume type, and starts the worker, which finishes
 * or removes whatever a crash left half done. */
export async function startVolumes(store: Store, opts: VolumeOptions): Promise<Volumes> {
  const { driver, backups } = opts.ceph ? await openCeph(opts.ceph, opts.log) : await openFiles(opts.dataDir, opts.log);
  const svc: VolumeService = {
    store,
    driver,
    backups,
    images: opts.images,
    zone: 'nova',
    host: opts.host,
    spoolDir: join(opts.dataDir, 'volume-spool'),
    log: opts.log,
  };
  await ensureDefaultType(store.db);
  // An in-use volume that grows is grown in its guests by their compute agents.
  onInUseExtend(volumeExtended);
  const worker = await startVolumeWorker(svc);
  const exports = opts.ceph
    ? undefined
    : await startVolumeExports({ store, driver, host: opts.host, address: opts.exportAddress, dir: join(opts.dataDir, 'volume-exports'), log: opts.log });
  return {
    ...svc,
    worker,
    exports,
    async close() {
      await exports?.stop();
      await worker.stop();
    },
  };
}

/** The rbd backend and backups in the backup pool; the key qemu is given is read from the keyring
 * the ceph.conf names, without reaching the cluster, so that a Ceph that is down fails volume
 * operations, not the start. */
async function openCeph(o: NonNullable<VolumeOptions['ceph']>, log: Logger) {
  const cli = new CephCli({ conf: o.conf, user: o.user, pool: o.pool, log });
  const driver = openRbdDriver({ cli, auth: await clientAuth(o.conf, o.user, log), imagePool: o.imagePool, log });
  const backups = o.backup ? openRbdBackupStore({ volumes: cli, backups: new CephCli({ conf: o.conf, ...o.backup, log }), log }) : undefined;
  return { driver, backups };
}

/** Volumes under <dataDir>/volumes, backups under <dataDir>/backups. */
async function openFiles(dataDir: string, log: Logger) {
  const driver = await openFileDriver(join(dataDir, 'volumes'), log);
  return { driver, backups: await openFileBackupStore(join(dataDir, 'backups'), (id) => driver.location(id), log) };
}

/** Cinder v3, mounted under /volume. */
export function volumePlugin(svc: VolumeService) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'cinder');
    app.get('/', { config: { public: true } }, async (request, reply) => reply.status(300).send({ versions: [v3(request.publicUrl)] }));
    await app.register(
      async (api) => {
        useMicroversions(api, VOLUME_VERSIONS);
        api.get('/', { config: { public: true } }, async (request) => ({ version: v3(request.publicUrl) }));
        volumeRoutes(api, svc);
        snapshotRoutes(api, svc);
        backupRoutes(api, svc);
        typeRoutes(api, svc);
        quotaRoutes(api, svc);
        attachmentRoutes(api, svc);
        // cinderclient asks for the extensions at start; there are none beyond the core API.
        api.get('/:project_id/extensions', { config: { policy: 'volume:availability_zone' } }, async () => ({ extensions: [] }));
      },
      { prefix: '/v3' },
    );
  };
}
