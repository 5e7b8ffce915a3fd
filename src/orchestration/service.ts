import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import type { Engine } from './engine.ts';

/** What the orchestration API works with. */
export interface Orchestration {
  store: Store;
  engine: Engine;
  log: Logger;
}
