// The contract between the load-balancer agent and a data plane: each load balancer's HAProxy,
// plugged into its VIP's network. Every method is idempotent and safe after a crash at any point
// of an earlier call, of this process or of a previous one; calls for one load balancer never overlap.

import type { LbConfig } from '../haproxy/config.ts';
import type { StatRow } from '../haproxy/stats.ts';

export interface LbSpec {
  id: string;
  /** The VIP port: its device's MAC, its addresses with prefix, its subnet's gateway (the
   * namespace's default route) and its network's MTU. */
  vip: Leg & { gateway?: string };
  /** A port on each of the members' subnets other than the VIP's: they are reached through it. */
  legs: Leg[];
  config: Omit<LbConfig, 'statsSocket' | 'pingScript'>;
}

export interface Leg {
  portId: string;
  mac: string;
  mtu: number;
  addresses: string[];
}

export interface LbDataplane {
  /** Makes the namespace and the veths of the VIP and the legs if missing (and removes those of
   * legs no longer given), writes the configuration and starts HAProxy, or reloads it (without
   * dropping established connections) when its configuration changed. `unplugged` names the ports
   * whose host end was made anew: the network agent must plug them into their bridges again.
   * `started` is true when a new HAProxy process now serves (a start or a reload), whose counters
   * begin at zero. */
  ensure(spec: LbSpec): Promise<{ unplugged: string[]; started: boolean }>;
  /** Stops HAProxy and removes the namespace (the veth goes with it) and its files. */
  remove(id: string): Promise<void>;
  /** What HAProxy reports now, or undefined when it does not run. */
  stats(id: string): Promise<StatRow[] | undefined>;
  /** The load balancers that have a namespace here, by id. */
  inventory(): Promise<string[]>;
}
