// What runs on every hypervisor host, whether inside the all-in-one or as `nubo agent`: the
// compute agent for this host's servers, the metadata server its network's proxies forward to,
// and the heartbeat that keeps its nova-compute service up.

import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import type { ImageService } from '../image/index.ts';
import type { VolumeService } from '../volume/service.ts';
import type { VirtDriver } from './virt/driver.ts';
import type { RbdDisks } from './virt/qemu/rbd-disks.ts';
import { answerHostCalls } from './host-calls.ts';
import { startComputeAgent } from './agent/agent.ts';
import { startMetadataServer } from './metadata/server.ts';
import { startServiceHeartbeat } from './services.ts';

export interface ComputeNodeOptions {
  store: Store;
  images: ImageService;
  driver: VirtDriver;
  /** This host's name, as the scheduler places servers on it. */
  host: string;
  /** The addresses it registers: the one the controllers know it by, and its VXLAN tunnel end. */
  hostIp?: string;
  tunnelIp?: string;
  /** Where the agent keeps image copies and config drives. */
  stateDir: string;
  netns?: string;
  metadataSocket: string;
  vifPluggingTimeoutMs: number;
  shelvedOffloadTimeS?: number;
  /** Seconds between heartbeats (Nova's report_interval). */
  reportIntervalS: number;
  volumes?: VolumeService;
  rbdDisks?: RbdDisks;
  log: Logger;
}

export interface ComputeNode {
  /** Stops the agent and its heartbeat; the guests keep running and are adopted at the next start. */
  close(): Promise<void>;
}

export async function startComputeNode(opts: ComputeNodeOptions): Promise<ComputeNode> {
  const { store, log } = opts;
  const metadata = await startMetadataServer(store.db, opts.metadataSocket, log);
  const agent = await startComputeAgent({
    store,
    images: opts.images,
    driver: opts.driver,
    host: opts.host,
    addresses: { hostIp: opts.hostIp ?? null, tunnelIp: opts.tunnelIp ?? null },
    stateDir: opts.stateDir,
    netns: opts.netns,
    vifPluggingTimeoutMs: opts.vifPluggingTimeoutMs,
    shelvedOffloadTimeS: opts.shelvedOffloadTimeS,
    connectionOf: opts.volumes && ((id) => opts.volumes!.driver.connection(id)),
    rbdSnapshotOf: opts.rbdDisks && ((id) => opts.rbdDisks!.imageSnapshot(id)),
    log,
  }).catch(async (err) => {
    await metadata.close();
    throw err;
  });
  // The API's questions about this host's guests (their consoles' output, an NMI).
  const unanswer = await answerHostCalls(store, opts.driver, opts.host, log).catch(async (err) => {
    await Promise.all([agent.stop(), metadata.close()]);
    throw err;
  });
  const heartbeat = startServiceHeartbeat(store.db, opts.host, ['nova-compute'], opts.reportIntervalS, log);
  return {
    async close() {
      heartbeat.stop();
      await Promise.all([unanswer(), agent.stop(), metadata.close()]);
    },
  };
}
