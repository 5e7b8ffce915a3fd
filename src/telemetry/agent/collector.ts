// The meters of one host: every interval, each running guest's counters (CPU, memory, disks, NICs)
// become measures of Gnocchi-typed resources, named and united as Ceilometer's compute agent names
// them, and the resources of servers gone from the host get their ended_at. The routers whose
// namespaces are on the host are metered too, and one collector per cloud meters the images and
// volumes the services record.

import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { serversOnHost, type MeteredServer } from '../../compute/for-telemetry.ts';
import type { GuestStats, VirtDriver } from '../../compute/virt/driver.ts';
import { serverNics } from '../../network/for-compute.ts';
import type { Logger } from '../../lib/log.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { addMeasures } from '../measures.ts';
import { resourceId } from '../resources.ts';
import type { Point } from '../rollup.ts';
import { metrics, resources } from '../tables.ts';
import { endGoneImages, imageSamples } from './images.ts';
import { COLLECTOR, CUMULATIVE, GAUGE, endMissing, writeSamples, type Sample as ResourceSample } from './meter-store.ts';
import { routerSamples } from './routers.ts';
import { endGoneVolumes, volumeSamples } from './volumes.ts';


/** Ceilometer's meters: name → unit and whether it counts up. */
const METERS = {
  instance: { cpu: ['ns', true], vcpus: ['vcpu', false], memory: ['MB', false], 'memory.resident': ['MB', false], 'memory.usage': ['MB', false] },
  instance_disk: {
    'disk.device.read.bytes': ['B', true],
    'disk.device.write.bytes': ['B', true],
    'disk.device.read.requests': ['request', true],
    'disk.device.write.requests': ['request', true],
  },
  instance_network_interface: {
    'network.incoming.bytes': ['B', true],
    'network.outgoing.bytes': ['B', true],
    'network.incoming.packets': ['packet', true],
    'network.outgoing.packets': ['packet', true],
    'network.incoming.packets.drop': ['packet', true],
    'network.outgoing.packets.drop': ['packet', true],
  },
} as const satisfies Record<string, Record<string, readonly [string, boolean]>>;
type Kind = keyof typeof METERS;

interface Sample {
  kind: Kind;
  original: string;
  server: MeteredServer;
  attributes: Record<string, unknown>;
  values: Record<string, number>;
}

/** A disk's counters under Ceilometer's instance_disk meter names. */
const diskCounters = (d: GuestStats['disks'][number]): Record<keyof (typeof METERS)['instance_disk'], number> => ({
  'disk.device.read.bytes': d.readBytes,
  'disk.device.write.bytes': d.writeBytes,
  'disk.device.read.requests': d.readRequests,
  'disk.device.write.requests': d.writeRequests,
});

/** One guest's samples: the instance, each disk, each port's tap. */
function samplesOf(server: MeteredServer, host: string, stats: GuestStats, ports: { portId: string; tap: string }[]): Sample[] {
  const instance: Sample = {
    kind: 'instance',
    original: server.id,
    server,
    attributes: { host, display_name: server.name, flavor_id: server.flavor.id, flavor_name: server.flavor.name, image_ref: server.imageId },
    values: {
      cpu: stats.cpuNs,
      vcpus: server.flavor.vcpus,
      memory: server.flavor.ram,
      'memory.resident': stats.residentMiB,
      // The guest has no balloon device to report what it uses: what its process holds, up to what
      // it was given (qemu's own overhead aside), stands for it.
      'memory.usage': Math.min(stats.residentMiB, server.flavor.ram),
    },
  };
  const disks = stats.disks.map((d) => ({
    kind: 'instance_disk' as const,
    original: `${server.id}-${d.name}`,
    server,
    attributes: { name: d.name, instance_id: server.id },
    values: diskCounters(d),
  }));
  const nics = ports.flatMap(({ portId, tap }) => {
    const n = stats.nics[tap];
    if (!n) return [];
    // The tap receives what the guest sends: the guest's outgoing traffic is the tap's rx.
    return [
      {
        kind: 'instance_network_interface' as const,
        original: `${server.id}-${tap}`,
        server,
        attributes: { name: tap, instance_id: server.id, port_id: portId },
        values: {
          'network.incoming.bytes': n.txBytes,
          'network.outgoing.bytes': n.rxBytes,
          'network.incoming.packets': n.txPackets,
          'network.outgoing.packets': n.rxPackets,
          'network.incoming.packets.drop': n.txDrop,
          'network.outgoing.packets.drop': n.rxDrop,
        },
      },
    ];
  });
  return [instance, ...disks, ...nics];
}

/** What the guest's volumes read and wrote, added to each volume's own resource, whose attributes
 * are the cloud-wide collector's: the counters start again from zero when it is attached anew. */
function volumeIoOf(server: MeteredServer, stats: GuestStats): ResourceSample[] {
  return stats.disks.flatMap((d) =>
    d.volumeId === undefined
      ? []
      : [
          {
            original: d.volumeId,
            type: 'volume',
            projectId: server.projectId,
            meters: Object.fromEntries(
              Object.entries(diskCounters(d)).map(([name, value]) => {
                const [unit, cumulative] = METERS.instance_disk[name as keyof (typeof METERS)['instance_disk']];
                return [name, { unit, cumulative, value }];
              }),
            ),
          },
        ],
  );
}

/** Makes the sample's resource and its metrics when missing, or brings its attributes up to date;
 * returns its metrics by name. */
async function ensureResource(tx: Db, s: Sample): Promise<Map<string, string>> {
  const id = resourceId(s.original);
  await tx
    .insert(resources)
    .values({
      id,
      originalResourceId: s.original,
      type: s.kind,
      projectId: s.server.projectId,
      userId: s.server.userId,
      createdByUserId: COLLECTOR,
      createdByProjectId: s.server.projectId,
      attributes: s.attributes,
    })
    .onConflictDoUpdate({ target: resources.id, set: { attributes: s.attributes, endedAt: null, revisionStart: new Date() } });
  const have = new Map((await tx.select({ id: metrics.id, name: metrics.name }).from(metrics).where(eq(metrics.resourceId, id))).map((m) => [m.name!, m.id]));
  for (const [name, [unit, cumulative]] of Object.entries(METERS[s.kind]) as [string, readonly [string, boolean]][]) {
    if (have.has(name)) continue;
    const metricId = randomUUID();
    await tx.insert(metrics).values({
      id: metricId,
      name,
      unit,
      resourceId: id,
      archivePolicyName: cumulative ? CUMULATIVE : GAUGE,
      createdByUserId: COLLECTOR,
      createdByProjectId: s.server.projectId,
    });
    have.set(name, metricId);
  }
  return have;
}

export interface CollectorOptions {
  store: Store;
  host: string;
  intervalMs: number;
  log: Logger;
  /** On a host with guests, its hypervisor: its guests are metered. */
  driver?: VirtDriver;
  /** The network data plane's prefix on a host that serves routers with Linux: they are metered. */
  routerPrefix?: string;
  /** Whether this collector also meters the images and volumes (one collector per cloud). */
  catalog?: boolean;
}

export interface Collector {
  /** One poll of every guest on the host, now. */
  poll(): Promise<void>;
  close(): Promise<void>;
}

export function startCollector(opts: CollectorOptions): Collector {
  const { store, driver, host, log } = opts;
  // Resources already made, with the attributes they were last given: a poll writes only measures
  // unless a server changed (renamed, resized).
  const known = new Map<string, { attributes: string; metrics: Map<string, string> }>();
  const knownOthers = new Map<string, { attributes: string; metrics: Map<string, string> }>();
  const knownVolumeIo = new Map<string, { attributes: string; metrics: Map<string, string> }>();

  async function poll(): Promise<void> {
    const t = Date.now();
    const servers = driver ? await serversOnHost(store.db, host) : [];
    const samples: Sample[] = [];
    const volumeIo: ResourceSample[] = [];
    for (const server of servers) {
      const stats = await driver!.stats(server.id).catch((err) => void log.warn({ server: server.id, err }, 'guest stats unreadable'));
      if (!stats) continue;
      samples.push(...samplesOf(server, host, stats, await serverNics(store.db, server)));
      volumeIo.push(...volumeIoOf(server, stats));
    }
    const routed = opts.routerPrefix === undefined ? undefined : await routerSamples(store.db, opts.routerPrefix, host, log);
    const cataloged = opts.catalog ? { images: await imageSamples(store.db), volumes: await volumeSamples(store.db) } : undefined;
    await store.tx(async (tx) => {
      const batch = new Map<string, Point[]>();
      for (const s of samples) {
        const attributes = JSON.stringify(s.attributes);
        let entry = known.get(s.original);
        if (!entry || entry.attributes !== attributes) {
          entry = { attributes, metrics: await ensureResource(tx, s) };
          known.set(s.original, entry);
        }
        for (const [name, v] of Object.entries(s.values)) batch.set(entry.metrics.get(name)!, [{ t, v }]);
      }
      await addMeasures(tx, batch);
      if (driver) await endGone(tx, servers.map((s) => s.id));
      await writeSamples(tx, volumeIo, t, knownVolumeIo);
      if (routed) {
        await writeSamples(tx, routed, t, knownOthers);
        // Only this host's: the routers of another network host are its collector's.
        for (const kind of ['router', 'floating_ip'])
          await endMissing(tx, 'network', { kind, host }, routed.filter((s) => s.attributes!.kind === kind).map((s) => s.original));
      }
      if (cataloged) {
        await writeSamples(tx, [...cataloged.images, ...cataloged.volumes], t, knownOthers);
        await endGoneImages(tx, cataloged.images);
        await endGoneVolumes(tx, cataloged.volumes);
      }
    });
  }

  /** Ends the resources of this host's servers that are no longer on it, and their disks' and NICs'. */
  async function endGone(tx: Db, present: string[]): Promise<void> {
    const live = await tx
      .select({ id: resources.id, original: resources.originalResourceId })
      .from(resources)
      .where(and(eq(resources.type, 'instance'), isNull(resources.endedAt), sql`${resources.attributes}->>'host' = ${host}`));
    const gone = live.filter((r) => !present.includes(r.original));
    if (gone.length === 0) return;
    const ids = gone.map((r) => r.original);
    const now = new Date();
    await tx.update(resources).set({ endedAt: now }).where(inArray(resources.id, gone.map((r) => r.id)));
    await tx
      .update(resources)
      .set({ endedAt: now })
      .where(and(isNull(resources.endedAt), inArray(sql<string>`${resources.attributes}->>'instance_id'`, ids)));
    for (const [original] of known) if (ids.some((id) => original.startsWith(id))) known.delete(original);
    log.info({ servers: ids }, 'telemetry resources ended');
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  const tick = () => {
    running = poll()
      .catch((err) => log.warn({ err }, 'telemetry poll failed'))
      .finally(() => {
        running = undefined;
        if (!closed) timer = setTimeout(tick, opts.intervalMs);
      });
  };
  timer = setTimeout(tick, opts.intervalMs);
  return {
    poll,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
