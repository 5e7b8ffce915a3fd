import type { ImageService } from '../image/index.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import type { BackupStore } from './backup-stores/store.ts';
import type { VolumeDriver } from './drivers/driver.ts';

/** The store channel whose notifications name a volume (`v:<id>`), snapshot (`s:<id>`) or backup
 * (`b:<id>`) for the worker. */
export const VOLUME_CHANNEL = 'volume';

/** Notifications on this channel name a volume whose NBD export should be looked at again
 * (./exports.ts): an agent that needs one it lacks asks here, as Nova asks Cinder for a
 * connection, and a detach that ends an attachment says so here. */
export const EXPORTS_CHANNEL = 'volume_exports';

/** What the volume API and its worker work with. */
export interface VolumeService {
  store: Store;
  driver: VolumeDriver;
  /** Where volume backups go; the API refuses backups without one. */
  backups?: BackupStore;
  images: ImageService;
  /** The availability zone every volume is in, as Cinder's default storage_availability_zone. */
  zone: string;
  /** This host's name, shown as `host@backend#pool`. */
  host: string;
  /** Where image bytes are spooled for conversion. */
  spoolDir: string;
  log: Logger;
}

/** Cinder's host string for a volume on this backend. */
export const hostOf = (svc: VolumeService) => `${svc.host}@${svc.driver.name}#${svc.driver.name}`;
