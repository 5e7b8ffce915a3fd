import { join } from 'node:path';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './lib/log.ts';
import { openStore, type Store } from './lib/store/db.ts';
import { ensurePrivateDir } from './lib/private-dir.ts';
import { createApp, type App } from './lib/http/app.ts';
import { declareServices } from './lib/http/auth.ts';
import { bootstrap, createIdentity, identityPlugin, type CatalogService, type Identity } from './identity/index.ts';
import { imagePlugin, startImages } from './image/index.ts';
import { computePlugin, startCompute, type Compute } from './compute/index.ts';
import { networkPlugin, startNetwork, NETWORK_DEFAULTS, type Network } from './network/index.ts';
import { createDataplane } from './network/dataplane/index.ts';
import { startVolumes, volumePlugin, type Volumes } from './volume/index.ts';
import { orchestrationPlugin, startOrchestration, type Orchestrator } from './orchestration/index.ts';
import { createFakeLbDataplane, createLinuxLbDataplane, loadBalancerPlugin, startLoadBalancers, type LoadBalancers } from './loadbalancer/index.ts';
import { readCredentials, writeCredentials, type AdminCredentials } from './credentials.ts';
import { dashboardPlugin } from './dashboard/index.ts';
import { prometheusPlugin, startTelemetry, telemetryPlugin, type Telemetry } from './telemetry/index.ts';
import { alarmingPlugin, startAlarming, type Alarming } from './alarming/index.ts';

/** Where each service lives below the public URL, DevStack's layout. */
const SERVICES: (CatalogService & { prefix: string })[] = [
  { type: 'identity', name: 'keystone', prefix: '/identity', path: '/identity' },
  { type: 'image', name: 'glance', prefix: '/image', path: '/image' },
  { type: 'compute', name: 'nova', prefix: '/compute', path: '/compute/v2.1' },
  { type: 'network', name: 'neutron', prefix: '/networking', path: '/networking' },
  { type: 'block-storage', name: 'cinder', prefix: '/volume', path: '/volume/v3/$(project_id)s' },
  // The same endpoint under Cinder's older type, which the openstack CLI looks for (limits show).
  { type: 'volumev3', name: 'cinderv3', prefix: '/volume', path: '/volume/v3/$(project_id)s' },
  { type: 'orchestration', name: 'heat', prefix: '/orchestration', path: '/orchestration/v1/$(project_id)s' },
  { type: 'load-balancer', name: 'octavia', prefix: '/load-balancer', path: '/load-balancer' },
  { type: 'metric', name: 'gnocchi', prefix: '/metric', path: '/metric' },
  { type: 'alarming', name: 'aodh', prefix: '/alarming', path: '/alarming' },
];

/** radosgw's Swift and S3 APIs, when one serves this cloud (Swift's account is the project). */
const objectStore = ({ objectStoreUrl: base }: Config): CatalogService[] =>
  base
    ? [
        { type: 'object-store', name: 'swift', base, path: '/swift/v1/AUTH_$(project_id)s' },
        { type: 's3', name: 's3', base, path: '' },
      ]
    : [];

export interface Cloud {
  config: Config;
  app: App;
  store: Store;
  identity: Identity;
  compute: Compute;
  network: Network;
  volumes: Volumes;
  log: Logger;
  /** The admin's credentials, when this data directory knows them. */
  credentials?: AdminCredentials;
  /** Whether this start made the admin, whose password is then new. */
  bootstrapped: boolean;
  files?: { credentials: string; openrc: string; cloudsYaml: string };
  close(): Promise<void>;
}

/** The network data plane the configuration asks for. Its namespaces, chains and tables are named
 * after the host namespace, so that clouds in namespaces of their own never touch each other's. */
export function dataplaneOf(config: Config, metadataSocket: string, log: Logger) {
  if (config.networkDataplane === 'fake') return createDataplane({ driver: 'fake' });
  return createDataplane({
    driver: 'linux',
    hostNetns: config.networkNetns,
    prefix: config.networkNetns ?? 'nubo',
    // Runtime state, rebuilt from the store: dnsmasq reads its files as nobody, which the data
    // directory (often under a 0700 home) may not let it.
    stateDir: join('/run/nubo', config.networkNetns ?? 'nubo'),
    physicalNetworks: Object.fromEntries(config.physicalNetworks.map((p) => [p.name, { bridge: p.bridge, address: p.address }])),
    metadataSocket,
    log,
  });
}

/** The all-in-one cloud: the store, every service's API on one port, and every agent (unless
 * config.agents is false: a controller of a multi-host cloud, see src/agent.ts). */
export async function startCloud(config: Config, log: Logger = createLogger()): Promise<Cloud> {
  // What Nubo and its children (qemu, dnsmasq) write is their owner's alone unless given a mode.
  process.umask(0o077);
  ensurePrivateDir(config.dataDir, 'data directory');
  const store = await openStore(config.database, log);
  let compute: Compute | undefined;
  let network: Network | undefined;
  let volumes: Volumes | undefined;
  let orchestration: Orchestrator | undefined;
  let telemetry: Telemetry | undefined;
  let alarming: Alarming | undefined;
  let loadBalancers: LoadBalancers | undefined;
  try {
    const identity = await createIdentity(store, { tokenTtl: config.tokenTtl, security: config.securityCompliance, dataDir: config.dataDir, kdf: config.kdf }, log);
    const { adminPassword } = await bootstrap(identity, {
      publicUrl: config.publicUrl,
      region: config.region,
      services: [...SERVICES, ...objectStore(config)],
      adminPassword: config.adminPassword,
      serviceUsers: config.objectStorePassword ? [{ name: 'radosgw', password: config.objectStorePassword }] : [],
    });

    const images = await startImages(store, {
      dataDir: config.dataDir,
      quota: config.imageQuota,
      settings: { formatCheckSkip: new Set(config.imageFormatCheckSkip), webDownloadAllow: config.imageWebDownloadAllow, showDirectUrl: config.imageShowDirectUrl },
      ceph: config.storage === 'ceph' ? { conf: config.cephConf, ...config.ceph.image, storeRaw: config.imageConversionOutputFormat === 'raw' } : undefined,
      metadefsDir: config.imageMetadefsDir,
      log,
    });
    const metadataSocket = join(config.dataDir, 'metadata.sock');
    // Before compute, whose guests open volumes.
    const ceph = config.storage === 'ceph';
    volumes = await startVolumes(store, {
      ...{ dataDir: config.dataDir, images, host: config.computeHost, exportAddress: config.volumeExportAddress, log },
      ceph: ceph ? { conf: config.cephConf, ...config.ceph.volume, imagePool: config.ceph.image.pool, backup: config.ceph.backup } : undefined,
    });
    compute = await startCompute({
      ...{ store, images, dataDir: config.dataDir, driver: config.computeDriver, host: config.computeHost, netns: config.networkNetns, metadataSocket },
      ...{ vifPluggingTimeoutMs: config.vifPluggingTimeout * 1000, consoleTokenTtl: config.consoleTokenTtl, volumes, log },
      reclaimInstanceIntervalS: config.reclaimInstanceInterval,
      shelvedOffloadTimeS: config.shelvedOffloadTime,
      resizeConfirmWindowS: config.resizeConfirmWindow,
      ...{ agent: config.agents, reportIntervalS: config.reportInterval, serviceDownTimeS: config.serviceDownTime, weigher: config.schedulerWeigher },
      rbdDisks: config.computeImagesType === 'rbd' ? { conf: config.cephConf, ...config.ceph.compute, imagePool: config.ceph.image.pool } : undefined,
    });

    network = await startNetwork({
      store,
      settings: { ...NETWORK_DEFAULTS, physicalNetworks: config.physicalNetworks.map((p) => p.name), vniRanges: config.vniRanges },
      // A controller wires nothing: each host's `nubo agent` does.
      dataplane: dataplaneOf(config.agents ? config : { ...config, networkDataplane: 'fake' }, metadataSocket, log),
      host: config.computeHost,
      agent: config.agents,
      // Nova's and Neutron's heartbeats are one pair of settings here.
      ...{ reportIntervalS: config.reportInterval, agentDownTimeS: config.serviceDownTime },
      log,
    });

    // Its resources reach the other services through the public URL, as a client does.
    // Each load balancer's HAProxy in a namespace beside the network's, named after the same prefix.
    const lbDataplane =
      config.networkDataplane === 'fake'
        ? createFakeLbDataplane()
        : createLinuxLbDataplane({ hostNetns: config.networkNetns, prefix: config.networkNetns ?? 'nubo', stateDir: join('/run/nubo', config.networkNetns ?? 'nubo', 'lb'), log });
    loadBalancers = await startLoadBalancers({ store, dataplane: lbDataplane, host: config.computeHost, log });

    orchestration = await startOrchestration(store, { identityUrl: `${config.publicUrl}/identity`, log });
    // Guests are metered where their agents run, routers where their namespaces are; images and
    // volumes once per cloud, by the controller's collector.
    const hosted = config.agents ? { driver: compute.driver, routerPrefix: config.networkDataplane === 'linux' ? (config.networkNetns ?? 'nubo') : undefined } : {};
    telemetry = await startTelemetry(store, { log, collect: { host: config.computeHost, intervalMs: config.telemetryInterval * 1000, catalog: true, ...hosted } });
    alarming = await startAlarming(store, { intervalMs: config.alarmEvaluationInterval * 1000, log });

    const clientIdleTimeoutMs = config.clientIdleTimeout * 1000;
    const app = createApp({ log, publicUrl: config.publicUrl, validate: identity.validate, clientIdleTimeoutMs });
    declareServices(app, SERVICES);
    await app.register(identityPlugin(identity, config.loginLimits), { prefix: '/identity' });
    await app.register(imagePlugin(images, { clientIdleTimeoutMs }), { prefix: '/image' });
    await app.register(computePlugin(compute), { prefix: '/compute' });
    await app.register(networkPlugin(network), { prefix: '/networking' });
    await app.register(volumePlugin(volumes), { prefix: '/volume' });
    await app.register(orchestrationPlugin(orchestration), { prefix: '/orchestration' });
    await app.register(loadBalancerPlugin(loadBalancers), { prefix: '/load-balancer' });
    await app.register(telemetryPlugin(telemetry), { prefix: '/metric' });
    await app.register(prometheusPlugin(telemetry));
    await app.register(alarmingPlugin(alarming), { prefix: '/alarming' });
    await app.register(dashboardPlugin());
    await app.listen({ host: config.host, port: config.port });

    const known = readCredentials(config.dataDir);
    const password = adminPassword ?? known?.password;
    let credentials: AdminCredentials | undefined;
    let files;
    if (password) {
      credentials = {
        authUrl: `${config.publicUrl}/identity`,
        username: 'admin',
        password,
        projectName: 'admin',
        userDomainName: 'Default',
        projectDomainName: 'Default',
        regionName: config.region,
      };
      files = writeCredentials(config.dataDir, credentials);
    }
    return {
      config,
      app,
      store,
      identity,
      compute,
      network,
      volumes,
      log,
      credentials,
      bootstrapped: adminPassword !== undefined,
      files,
      async close() {
        // First: its running actions still reach the other services through the API.
        await orchestration!.close();
        await app.close();
        await alarming!.close();
        await telemetry!.close();
        await compute!.close();
        await loadBalancers!.close();
        await network!.close();
        await volumes!.close();
        await store.close();
      },
    };
  } catch (err) {
    await compute?.close();
    await loadBalancers?.close();
    await network?.close();
    await volumes?.close();
    await orchestration?.close();
    await alarming?.close();
    await telemetry?.close();
    await store.close();
    throw err;
  }
}
