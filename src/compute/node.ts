// What runs on every hypervisor host, whether inside the all-in-one or as `nubo agent`: the
// compute agent for this host's servers, the metadata server its network's proxies forward to,
// and the heartbeat that keeps its nova-compute service up.

import { join } from 'node:path';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import type { ImageService } from '../image/index.ts';
import type { VolumeService } from '../volume/service.ts';
import type { VirtDriver } from './virt/driver.ts';
import type { RbdDisks } from './virt/qemu/rbd-disks.ts';
import { answerHostCalls } from './host-calls.ts';
import { startConsoleRelay, type ConsoleRelay } from './agent/console-relay.ts';
import { startComputeAgent } from './agent/agent.ts';
import { hostKey, volumeTlsDir } from './agent/keys.ts';
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
  /** Where the console relay listens for the controllers (default hostIp; neither: no relay). */
  consoleRelayAddress?: string;
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
  const key = await hostKey(store.db, opts.host);
  // A host without the volume service opens the volumes the controllers serve it, with its key.
  const volumeTls = opts.volumes ? undefined : await volumeTlsDir(opts.host, key, join(opts.stateDir, 'volume-tls'));
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
    volumeTls,
    rbdSnapshotOf: opts.rbdDisks && ((id) => opts.rbdDisks!.imageSnapshot(id)),
    log,
  }).catch(async (err) => {
    await metadata.close();
    throw err;
  });
  // The API's questions about this host's guests (their consoles' output, an NMI, a ticket to a
  // console through the relay, which a host the controllers reach has).
  const relayAddress = opts.consoleRelayAddress ?? opts.hostIp;
  let relay: ConsoleRelay | undefined;
  let unanswer: () => Promise<void>;
  try {
    // An address this process cannot listen at (the host's addresses are in another namespace)
    // leaves the host without one: its guests' consoles are refused, the rest works.
    relay = relayAddress
      ? await startConsoleRelay(opts.driver, relayAddress, { host: opts.host, key }, log).catch((err: Error) => {
          log.warn(
            { address: relayAddress, err: err.message },
            'no console relay: set console_relay_address to an address of this host that the controllers reach',
          );
          return undefined;
        })
      : undefined;
    unanswer = await answerHostCalls(store, opts.driver, relay, opts.host, log);
  } catch (err) {
    await Promise.all([relay?.close(), agent.stop(), metadata.close()]);
    throw err;
  }
  const stopCalls = async () => {
    await unanswer();
    await relay?.close();
  };
  const heartbeat = startServiceHeartbeat(store.db, opts.host, ['nova-compute'], opts.reportIntervalS, log);
  return {
    async close() {
      heartbeat.stop();
      await Promise.all([stopCalls(), agent.stop(), metadata.close()]);
    },
  };
}
