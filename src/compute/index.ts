import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import { useMicroversions, type MicroversionSpec } from '../lib/http/microversion.ts';
import { MAX_VERSION, MIN_VERSION } from './api/microversion.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import { startController, type Controller } from '../lib/reconcile/controller.ts';
import type { ImageService } from '../image/index.ts';
import type { VolumeService } from '../volume/service.ts';
import { createQuotas, QUOTA_DEFAULTS, type Quotas } from './quotas.ts';
import { SERVERS_CHANNEL, type Server } from './servers.ts';
import { startHostCaller, type HostCaller } from './host-calls.ts';
import { schedule, unscheduled } from './scheduler.ts';
import { startComputeNode } from './node.ts';
import { createDriver, type DriverName } from './virt/index.ts';
import type { VirtDriver } from './virt/driver.ts';
import { createRbdDisks, type RbdDisks } from './virt/qemu/rbd-disks.ts';
import { CephCli } from '../lib/ceph/index.ts';
import { clientAuth } from '../lib/ceph/auth.ts';
import { flavorRoutes } from './api/flavors.ts';
import { flavorExtraRoutes } from './api/flavor-extras.ts';
import { keypairRoutes } from './api/keypairs.ts';
import { quotaRoutes } from './api/quotas.ts';
import { serverRoutes } from './api/servers.ts';
import { serverActionRoutes, type ConsoleReader } from './api/server-actions.ts';
import { serverTagRoutes } from './api/server-tags.ts';
import { volumeAttachmentRoutes } from './api/volume-attachments.ts';
import { interfaceRoutes } from './api/interfaces.ts';
import { serverIpRoutes } from './api/server-ips.ts';
import { imageProxyRoutes } from './api/proxy-images.ts';
import { securityGroupProxyRoutes } from './api/proxy-security-groups.ts';
import { networkProxyRoutes } from './api/proxy-networks.ts';
import { serverGroupRoutes } from './api/server-groups.ts';
import { serviceRoutes } from './api/services.ts';
import { hypervisorRoutes } from './api/hypervisors.ts';
import { hostRoutes } from './api/hosts.ts';
import { availabilityZoneRoutes } from './api/availability-zones.ts';
import { aggregateRoutes } from './api/aggregates.ts';
import { usageRoutes } from './api/usage.ts';
import { quotaClassRoutes } from './api/quota-classes.ts';
import { migrationRoutes } from './api/migrations.ts';
import { externalEventRoutes } from './api/external-events.ts';
import { liveness, registerService, startServiceHeartbeat } from './services.ts';
import type { WeighMode } from './host-filters.ts';
import { adminActions } from './api/admin-actions.ts';
import { instanceActionRoutes } from './api/instance-actions.ts';
import { serverPasswordRoutes } from './api/server-password.ts';
import type { NmiSender } from './admin-actions.ts';
import { startReclaimer } from './soft-delete.ts';
import { startResizeConfirmer } from './resize-confirm.ts';
import { deleteShelvedImage } from './shelve.ts';
import { resizeActions } from './api/resize-actions.ts';
import { moveActions } from './api/move-actions.ts';
import { remoteConsoleRoutes } from './api/remote-consoles.ts';
import { createConsoleTokens, type ConsoleTokens } from './consoles/tokens.ts';
import { serveConsoles } from './consoles/serve.ts';
import './policy.ts';

/** The microversions served; features Nubo lacks answer at every version as Nova does when off. */
export const COMPUTE_VERSIONS: MicroversionSpec = { service: 'compute', legacyHeader: 'X-OpenStack-Nova-API-Version', min: MIN_VERSION, max: MAX_VERSION };

const v21 = (base: string) => ({
  id: 'v2.1',
  status: 'CURRENT',
  version: COMPUTE_VERSIONS.max,
  min_version: COMPUTE_VERSIONS.min,
  updated: '2013-07-23T11:33:21Z',
  links: [{ rel: 'self', href: `${base}/compute/v2.1/` }],
});

export interface ComputeOptions {
  store: Store;
  images: ImageService;
  /** Guests and the host's image copies live under <dataDir>/compute. */
  dataDir: string;
  driver: DriverName;
  /** This host's name for the scheduler. */
  host: string;
  /** The network namespace that holds this host's taps, when not the host's own. */
  netns?: string;
  /** The unix socket the network's metadata proxies forward guests' requests to. */
  metadataSocket: string;
  /** How long a new server waits for its ports to be wired before it fails. */
  vifPluggingTimeoutMs: number;
  /** Seconds a console URL's token stays valid. */
  consoleTokenTtl: number;
  /** The volume service, for attaching volumes and booting from them; without it, neither. */
  volumes?: VolumeService;
  /** Seconds a deleted server stays SOFT_DELETED before it is reclaimed; 0 (default): none. */
  reclaimInstanceIntervalS?: number;
  /** Seconds a shelved server keeps its host; 0 (default): offloaded at once; -1: never. */
  shelvedOffloadTimeS?: number;
  /** Seconds a resized server waits in VERIFY_RESIZE before it is confirmed for its user (Nova's
   * resize_confirm_window); 0 (default): until the user confirms or reverts. */
  resizeConfirmWindowS?: number;
  /** Root disks as RBD clones in `pool` of the images in `imagePool` (computeImagesType rbd). */
  rbdDisks?: { conf: string; user: string; pool: string; imagePool: string };
  /** Run this host's compute agent (the all-in-one, default) or not (a multi-host controller). */
  agent?: boolean;
  /** Seconds between services' heartbeats (report_interval, default 10), and the age past which
   * a service is down (service_down_time, default 60). */
  reportIntervalS?: number;
  serviceDownTimeS?: number;
  /** How the scheduler orders the hosts that fit: spread (default) or stack. */
  weigher?: WeighMode;
  log: Logger;
}

export interface Compute {
  store: Store;
  images: ImageService;
  quotas: Quotas;
  driver: VirtDriver;
  consoleOf: ConsoleReader;
  /** The tokens of the console URLs handed out, until spent or expired. */
  consoleTokens: ConsoleTokens;
  /** Sends a running guest an NMI (trigger_crash_dump) on the host that runs it. */
  sendNmi: NmiSender;
  /** Whether the server's guest is this process's own (its driver's); the others' hosts are asked. */
  local: (server: Server) => boolean;
  calls: HostCaller;
  /** Seconds a deleted server stays SOFT_DELETED; 0: DELETE deletes. */
  reclaimIntervalS: number;
  volumes?: VolumeService;
  /** How the scheduler orders hosts, for the moves the API places itself (evacuate, migrate). */
  weigher: WeighMode;
  log: Logger;
  /** Stops the scheduler and the agent, if it runs here; the guests keep running and are adopted at the next start. */
  close(): Promise<void>;
}

/** The compute service: its scheduler and controller-side reconcilers, and, unless `agent` is
 * false (a controller of a multi-host cloud), this host's node (agent, metadata, heartbeat). */
export async function startCompute(opts: ComputeOptions): Promise<Compute> {
  const { store, log } = opts;
  const stateDir = join(opts.dataDir, 'compute');
  const rbdDisks = opts.rbdDisks && (await openRbdDisks(opts.rbdDisks, log));
  const driver = createDriver(opts.driver, { instancesDir: join(stateDir, 'instances'), log, rbdDisks, netns: opts.netns });
  liveness.downTimeS = opts.serviceDownTimeS ?? 60;
  const reportIntervalS = opts.reportIntervalS ?? 10;
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = () => Promise.all(stops.map((stop) => stop())).then(() => undefined);
  try {
    await registerService(store.db, opts.host, 'nova-scheduler');
    const heartbeat = startServiceHeartbeat(store.db, opts.host, ['nova-scheduler'], reportIntervalS, log);
    stops.push(() => heartbeat.stop());
    const scheduler: Controller = await startController({
      name: 'compute-scheduler',
      store,
      channel: SERVERS_CHANNEL,
      log,
      listKeys: () => unscheduled(store.db),
      // A server deleted while offloaded takes its shelved image with it, as Nova's delete does.
      reconcile: (id) => schedule(store, id, { weigher: opts.weigher ?? 'spread', log, dropped: (s) => deleteShelvedImage(opts.images, s, log) }),
    });
    stops.push(() => scheduler.stop());
    if (opts.agent !== false) {
      const node = await startComputeNode({
        ...{ store, images: opts.images, driver, host: opts.host, stateDir, netns: opts.netns, metadataSocket: opts.metadataSocket },
        ...{
          vifPluggingTimeoutMs: opts.vifPluggingTimeoutMs,
          shelvedOffloadTimeS: opts.shelvedOffloadTimeS,
          reportIntervalS,
          volumes: opts.volumes,
          rbdDisks,
          log,
        },
      });
      stops.push(() => node.close());
    }
    const calls = await startHostCaller(store);
    stops.push(() => calls.close());
    const local = (server: Server) => opts.agent !== false && server.host === opts.host;
    const reclaimIntervalS = opts.reclaimInstanceIntervalS ?? 0;
    if (reclaimIntervalS > 0) {
      const reclaimer = await startReclaimer(store, reclaimIntervalS, log);
      stops.push(() => reclaimer.stop());
    }
    const confirmWindowS = opts.resizeConfirmWindowS ?? 0;
    if (confirmWindowS > 0) {
      const confirmer = await startResizeConfirmer(store, confirmWindowS, log);
      stops.push(() => confirmer.stop());
    }
    return {
      store,
      images: opts.images,
      quotas: createQuotas(QUOTA_DEFAULTS),
      driver,
      volumes: opts.volumes,
      // This process's own guests through its driver; the others' through their hosts' agents.
      consoleOf: (server, lines) => (local(server) ? driver.consoleLog(server.id, lines) : calls.consoleLog(server, lines)),
      consoleTokens: createConsoleTokens(opts.consoleTokenTtl),
      sendNmi: (server) => (local(server) ? driver.injectNmi(server.id) : calls.injectNmi(server)),
      local,
      calls,
      reclaimIntervalS,
      weigher: opts.weigher ?? 'spread',
      log,
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The compute user's RBD disks; its key is read from the keyring its ceph.conf names, without
 * reaching the cluster, so that a Ceph that is down fails builds, not the start. */
async function openRbdDisks(o: NonNullable<ComputeOptions['rbdDisks']>, log: Logger): Promise<RbdDisks> {
  const cli = new CephCli({ conf: o.conf, user: o.user, pool: o.pool, log });
  const images = new CephCli({ conf: o.conf, user: o.user, pool: o.imagePool, log });
  return createRbdDisks({ cli, images, auth: await clientAuth(o.conf, o.user, log), log });
}

/** Nova v2.1, mounted under /compute. */
export function computePlugin(c: Compute) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'nova');
    const consoles = serveConsoles(app, { store: c.store, tokens: c.consoleTokens, driver: c.driver, local: c.local, calls: c.calls });
    // Nova's own name for the request id, which older clients read.
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-compute-request-id', request.id);
    });
    app.get('/', { config: { public: true } }, async (request) => ({ versions: [v21(request.publicUrl)] }));
    await app.register(
      async (v2) => {
        useMicroversions(v2, COMPUTE_VERSIONS);
        v2.get('/', { config: { public: true } }, async (request) => ({
          version: { ...v21(request.publicUrl), 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }] },
        }));
        flavorRoutes(v2, c.store);
        flavorExtraRoutes(v2, c.store);
        keypairRoutes(v2, c.store, c.quotas);
        quotaRoutes(v2, c.store, QUOTA_DEFAULTS);
        serverRoutes(v2, c.store, c.quotas, c.volumes, c.reclaimIntervalS);
        serverActionRoutes(v2, c.store, c.quotas, c.images, c.consoleOf, consoles, {
          ...adminActions(c.store, c.images, c.sendNmi),
          ...resizeActions(c.store, c.quotas),
          ...moveActions(c.store, { weigher: c.weigher, log: c.log }),
        });
        remoteConsoleRoutes(v2, consoles);
        instanceActionRoutes(v2, c.store);
        serverPasswordRoutes(v2, c.store);
        serverTagRoutes(v2, c.store);
        volumeAttachmentRoutes(v2, c.store);
        interfaceRoutes(v2, c.store);
        serverIpRoutes(v2, c.store);
        imageProxyRoutes(v2, c.store, c.images);
        securityGroupProxyRoutes(v2, c.store);
        networkProxyRoutes(v2, c.store);
        serverGroupRoutes(v2, c.store, QUOTA_DEFAULTS);
        serviceRoutes(v2, c.store);
        hypervisorRoutes(v2, c.store, c.driver.name);
        hostRoutes(v2, c.store);
        availabilityZoneRoutes(v2, c.store);
        aggregateRoutes(v2, c.store);
        usageRoutes(v2, c.store);
        quotaClassRoutes(v2, c.store, QUOTA_DEFAULTS);
        migrationRoutes(v2, c.store);
        externalEventRoutes(v2, c.store);
      },
      { prefix: '/v2.1' },
    );
  };
}
