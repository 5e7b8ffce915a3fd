import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import type { ImageStore } from './stores/store.ts';
import type { ImageQuota } from './quota.ts';

/** What an operator decides about the image service beyond quotas. */
export interface ImageSettings {
  /** Disk formats whose uploaded data is not checked against the declared format (data that is
   * never acceptable, such as a qcow2 with a backing file, is refused all the same). */
  formatCheckSkip: ReadonlySet<string>;
  /** URL prefixes the web-download import method may fetch from; empty: the method is off. */
  webDownloadAllow: readonly string[];
  /** Glance's show_image_direct_url: admins see where an image's bytes are in the store. */
  showDirectUrl: boolean;
}

/** What the image API works with: the database, the store of image bytes and the staging area
 * of interoperable imports, the quotas and settings, and the imports running in this process. */
export interface ImageService {
  store: Store;
  data: ImageStore;
  staging: ImageStore;
  quota: ImageQuota;
  settings: ImageSettings;
  log: Logger;
  imports: Set<Promise<void>>;
}
