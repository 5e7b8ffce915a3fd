import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { notify, type Db, type Store } from '../lib/store/db.ts';
import type { Logger } from '../lib/log.ts';
import { bindServerPorts } from '../network/for-compute.ts';
import { imageRecord } from '../image/for-compute.ts';
import { aggregateHosts, aggregates, hosts, migrations, servers, services } from './tables.ts';
import { dropServer, faultOf, SERVERS_CHANNEL, type Server } from './servers.ts';
import { DEFAULT_ZONE, hostZones, isUp, registerService } from './services.ts';
import { placementOf } from './server-groups.ts';
import { filterHosts, weigh, type Candidate, type Request, type WeighMode } from './host-filters.ts';

export type Host = typeof hosts.$inferSelect;

/** What a host offers once its allocation ratios and reserved memory are applied. */
export const capacityOf = (h: Host) => ({
  vcpus: Math.floor(h.vcpus * h.cpuRatio),
  ram: Math.floor((h.memoryMiB - h.reservedMemoryMiB) * h.ramRatio),
  disk: Math.floor(h.diskGiB * h.diskRatio),
});

/** The statuses of a live migration before its switch-over: the server is still on its source
 * (cancelling: an admin aborted it, and its source has not given it up yet). */
export const LIVE_MIGRATION_UNDER_WAY = ['accepted', 'preparing', 'running', 'cancelling'];

/** What the servers placed on each host hold, by host name. */
export async function allocations(tx: Db): Promise<Map<string, { vcpus: number; ram: number; disk: number }>> {
  const rows = await tx
    .select({
      host: servers.host,
      vcpus: sql<number>`coalesce(sum((${servers.flavor}->>'vcpus')::int), 0)::int`,
      ram: sql<number>`coalesce(sum((${servers.flavor}->>'ram')::int), 0)::int`,
      disk: sql<number>`coalesce(sum((${servers.flavor}->>'disk')::int + (${servers.flavor}->>'ephemeral')::int), 0)::int`,
    })
    .from(servers)
    .groupBy(servers.host);
  const out = new Map(rows.filter((r) => r.host).map((r) => [r.host!, r]));
  // A cold migration holds its source too until it is confirmed or reverted: the guest kept there
  // may start again.
  const kept = await tx
    .select({ host: migrations.sourceCompute, flavor: servers.oldFlavor })
    .from(migrations)
    .innerJoin(servers, eq(servers.id, migrations.serverId))
    .where(and(eq(migrations.migrationType, 'migration'), inArray(migrations.status, ['pre-migrating', 'migrating', 'post-migrating', 'finished'])));
  // A live migration under way holds its destination too: the guest arrives there with its flavor.
  const arriving = await tx
    .select({ host: migrations.destCompute, flavor: servers.flavor })
    .from(migrations)
    .innerJoin(servers, eq(servers.id, migrations.serverId))
    .where(and(eq(migrations.migrationType, 'live-migration'), inArray(migrations.status, LIVE_MIGRATION_UNDER_WAY)));
  for (const { host, flavor } of [...kept, ...arriving]) {
    if (!host || !flavor) continue;
    const u = out.get(host) ?? { host, vcpus: 0, ram: 0, disk: 0 };
    out.set(host, { ...u, vcpus: u.vcpus + flavor.vcpus, ram: u.ram + flavor.ram, disk: u.disk + flavor.disk + flavor.ephemeral });
  }
  return out;
}

/** What an agent registers of its host at each start. */
export type HostRecord = Omit<typeof hosts.$inferInsert, 'updatedAt' | 'id' | 'uuid'>;

/** Records a host's resources and its nova-compute service; an agent calls it each time it starts. */
export async function registerHost(db: Db, host: HostRecord): Promise<void> {
  const { name, ...rest } = host;
  await db
    .insert(hosts)
    .values(host)
    .onConflictDoUpdate({ target: hosts.name, set: { ...rest, updatedAt: new Date() } });
  await registerService(db, name, 'nova-compute');
}

/** Every aggregate's metadata, merged per host: key → the values the host's aggregates give it. */
async function aggregateMetadataOf(tx: Db): Promise<Map<string, Map<string, Set<string>>>> {
  const rows = await tx
    .select({ host: aggregateHosts.host, metadata: aggregates.metadata })
    .from(aggregateHosts)
    .innerJoin(aggregates, eq(aggregates.id, aggregateHosts.aggregateId));
  const out = new Map<string, Map<string, Set<string>>>();
  for (const { host, metadata } of rows) {
    const keys = out.get(host) ?? out.set(host, new Map()).get(host)!;
    for (const [k, v] of Object.entries(metadata)) for (const x of v.split(',')) (keys.get(k) ?? keys.set(k, new Set()).get(k)!).add(x.trim());
  }
  return out;
}

export interface SchedulerOptions {
  weigher: WeighMode;
  log: Logger;
  /** Called with a server deleted before it was placed, once it is gone. */
  dropped?: (s: Server) => Promise<void>;
}

/**
 * Places a server that has no host yet, or fails it with Nova's "No valid host" fault: the
 * filters (host-filters.ts) drop the hosts that cannot take it, the weighers order the rest. The
 * hosts' rows are locked for the transaction that reads the allocations and writes the choice, so
 * servers placed at once, by any controller, see each other's claims and never overcommit a host.
 * The choice and what each filter refused are logged. A server deleted before it was placed (or
 * one that failed before it was) is removed here, since no agent will ever see it.
 */
export async function schedule(store: Store, id: string, opts: SchedulerOptions): Promise<void> {
  let gone: Server | undefined;
  await store.tx(async (tx) => {
    const [s] = await tx
      .select()
      .from(servers)
      .where(and(eq(servers.id, id), isNull(servers.host)))
      .for('update');
    if (s?.deleting) {
      await dropServer(tx, s);
      gone = s;
      return;
    }
    if (s?.vmState !== 'building') return;
    const choice = await chooseHost(tx, s, opts);
    if (!choice) {
      const fault = faultOf(NO_VALID_HOST);
      await tx.update(servers).set({ vmState: 'error', fault, updatedAt: new Date() }).where(eq(servers.id, id));
      return;
    }
    await tx.update(servers).set({ host: choice, updatedAt: new Date() }).where(eq(servers.id, id));
    await bindServerPorts(tx, s, choice);
    await notify(tx, SERVERS_CHANNEL, id);
  });
  if (gone) await opts.dropped?.(gone);
}

/** The servers waiting for a host, or, having none, for their removal. */
export const unscheduled = async (db: Db) =>
  (
    await db
      .select({ id: servers.id })
      .from(servers)
      .where(and(isNull(servers.host), or(eq(servers.vmState, 'building'), eq(servers.deleting, true))))
  ).map((r) => r.id);

export const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

/** What a move asks of the scheduler beyond the server itself: the host it leaves, and the one
 * an admin named (checked by the filters, as Nova checks a requested destination). */
export interface MoveRequest {
  exclude?: string;
  only?: string;
}

/**
 * The host the filters pass and the weighers put first for the server, or undefined (logged, with
 * what each filter refused); the caller's transaction holds every host row locked until it has
 * written the choice, so that concurrent placements see each other's claims.
 */
export async function chooseHost(tx: Db, s: Server, opts: Pick<SchedulerOptions, 'weigher' | 'log'>, move: MoveRequest = {}): Promise<string | undefined> {
  const id = s.id;
  const locked = await tx.select().from(hosts).orderBy(hosts.name).for('update');
  const all = locked.filter((h) => h.name !== move.exclude && (move.only === undefined || h.name === move.only));
  const [used, computes, zones, metadata, placement, image] = await Promise.all([
    allocations(tx),
    tx.select().from(services).where(eq(services.binary, 'nova-compute')),
    hostZones(tx),
    aggregateMetadataOf(tx),
    placementOf(tx, id),
    s.imageId ? imageRecord(tx, s.imageId) : undefined,
  ]);
  const candidates: Candidate[] = all.map((h) => {
    const service = computes.find((c) => c.host === h.name);
    const cap = capacityOf(h);
    const u = used.get(h.name) ?? { vcpus: 0, ram: 0, disk: 0 };
    return {
      name: h.name,
      enabled: service !== undefined && !service.disabled,
      up: service !== undefined && isUp(service),
      zone: zones.get(h.name) ?? DEFAULT_ZONE,
      arch: h.arch,
      free: { vcpus: cap.vcpus - u.vcpus, ram: cap.ram - u.ram, disk: cap.disk - u.disk },
      aggregateMetadata: metadata.get(h.name) ?? new Map(),
      members: placement?.perHost.get(h.name) ?? 0,
    };
  });
  const props = image?.properties as Record<string, unknown> | undefined;
  const arch = props?.hw_architecture ?? props?.architecture;
  const request: Request = {
    zone: s.availabilityZone,
    flavor: s.flavor,
    arch: typeof arch === 'string' ? arch : undefined,
    group: placement && {
      policy: placement.group.policy,
      maxPerHost: placement.group.rules.max_server_per_host ?? 1,
      placed: [...placement.perHost.values()].reduce((a, b) => a + b, 0),
    },
  };
  const { passed, refused } = filterHosts(candidates, request);
  const [best, ...others] = weigh(passed, request, opts.weigher);
  if (!best) {
    opts.log.warn({ server: id, hosts: all.length, refused, ...move }, 'no valid host');
    return undefined;
  }
  opts.log.info({ server: id, host: best.name, weight: best.weight, weigher: opts.weigher, runnersUp: others.slice(0, 3), refused, ...move }, 'server placed');
  return best.name;
}
