import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';

/** What the load-balancer API works with. */
export interface LoadBalancing {
  store: Store;
  /** The host whose agent runs the HAProxy of the load balancers made here. */
  host: string;
  log: Logger;
}

/** The one provider: HAProxy in a namespace of its own on the VIP's network, run by the agent. */
export const PROVIDER = { name: 'nubo', description: 'HAProxy in a network namespace on the VIP network, one per load balancer' };
