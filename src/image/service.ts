import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import type { ImageStore } from './stores/store.ts';
import type { ImageQuota } from './quota.ts';

/** What the image API works with: the database, the store of image bytes, the quotas. */
export interface ImageService {
  store: Store;
  data: ImageStore;
  quota: ImageQuota;
  log: Logger;
}
