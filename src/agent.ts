// `nubo agent`: one hypervisor host of a multi-host cloud. It serves no API: it registers its host
// (resources, addresses) in the shared PostgreSQL, beats for its services, and reconciles the
// servers and ports placed on it, woken by the database's notifications (docs/multi-host.md).

import { join } from 'node:path';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './lib/log.ts';
import { openStore, type Store } from './lib/store/db.ts';
import { ensurePrivateDir } from './lib/private-dir.ts';
import { startImages } from './image/index.ts';
import { startComputeNode, type ComputeNode } from './compute/node.ts';
import { createDriver } from './compute/virt/index.ts';
import { liveness } from './compute/services.ts';
import { startNetworkNode } from './network/index.ts';
import { dataplaneOf } from './main.ts';
import type { Dataplane } from './network/dataplane/driver.ts';
import { startTelemetry, type Telemetry } from './telemetry/index.ts';

export interface Agent {
  host: string;
  store: Store;
  /** Stops the agents; the guests and the wiring stay, and are adopted at the next start. */
  close(): Promise<void>;
}

export async function startAgent(config: Config, log: Logger = createLogger()): Promise<Agent> {
  if (!/^postgres(ql)?:\/\//.test(config.database)) throw new Error('nubo agent needs the controllers\' PostgreSQL: --database postgres://…');
  if (config.storage === 'ceph') throw new Error('nubo agent does not open Ceph yet: run its hosts with storage local');
  process.umask(0o077);
  ensurePrivateDir(config.dataDir, 'data directory');
  const store = await openStore(config.database, log);
  const host = config.computeHost;
  // An agent tells whether another host is up too (the destination of a live migration from here).
  liveness.downTimeS = config.serviceDownTime;
  let compute: ComputeNode | undefined;
  let dataplane: Dataplane | undefined;
  let telemetry: Telemetry | undefined;
  try {
    // Servers' images are read from the controllers' store, never repaired from here.
    const images = await startImages(store, { dataDir: config.imageDataDir ?? config.dataDir, quota: config.imageQuota, reader: true, log });
    const stateDir = join(config.dataDir, 'compute');
    const metadataSocket = join(config.dataDir, 'metadata.sock');
    const driver = createDriver(config.computeDriver, { instancesDir: join(stateDir, 'instances'), log, netns: config.networkNetns });
    compute = await startComputeNode({
      ...{ store, images, driver, host, hostIp: config.hostIp, tunnelIp: config.tunnelIp ?? config.hostIp, stateDir, netns: config.networkNetns },
      consoleRelayAddress: config.consoleRelayAddress,
      ...{ metadataSocket, vifPluggingTimeoutMs: config.vifPluggingTimeout * 1000, shelvedOffloadTimeS: config.shelvedOffloadTime, reportIntervalS: config.reportInterval, log },
    });
    dataplane = dataplaneOf(config, metadataSocket, log);
    // With several hosts, one serves DHCP and routers; the others wire only their own ports' networks.
    const networkHost = (config.networkHost ?? host) === host;
    const network = await startNetworkNode({
      ...{ store, dataplane, host, reportIntervalS: config.reportInterval, log },
      ...{ tunnelIp: config.tunnelIp ?? config.hostIp, networkHost, bindServicePorts: config.networkHost ? ('all' as const) : ('unbound' as const) },
    });
    const routerPrefix = networkHost && config.networkDataplane === 'linux' ? (config.networkNetns ?? 'nubo') : undefined;
    telemetry = await startTelemetry(store, { log, collect: { driver, host, intervalMs: config.telemetryInterval * 1000, routerPrefix } });
    log.info({ host, driver: config.computeDriver, dataplane: config.networkDataplane }, 'agent started');
    return {
      host,
      store,
      async close() {
        await telemetry!.close();
        await network.close();
        await dataplane!.close();
        await compute!.close();
        await store.close();
      },
    };
  } catch (err) {
    await telemetry?.close();
    await compute?.close();
    await dataplane?.close();
    await store.close();
    throw err;
  }
}
