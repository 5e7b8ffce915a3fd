import { notify, type Db } from '../lib/store/db.ts';

/** The store channel that wakes the network agent. */
export const DATAPLANE_CHANNEL = 'network_dataplane';

/**
 * What the agent reconciles, as one key each:
 * - `network:<id>`: the network's bridge and its DHCP (every port's static lease);
 * - `port:<id>`: the port's device on its bridge;
 * - `router:<id>`: the router's namespace, legs, routes and NAT (floating IPs included);
 * - `firewall`: every port's security rules at once.
 */
export type DataplaneKey = `network:${string}` | `port:${string}` | `router:${string}` | 'firewall';

/** Tells the agent, once the surrounding transaction commits, which parts of the data plane may
 * have to change. Over-telling costs a no-op reconcile; under-telling leaves the host stale until
 * the next resync. */
export async function dataplaneChanged(db: Db, ...keys: DataplaneKey[]): Promise<void> {
  for (const key of new Set(keys)) await notify(db, DATAPLANE_CHANNEL, key);
}
