import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { Logger } from '../lib/log.ts';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { aggregateHosts, aggregates, hosts, servers, services } from './tables.ts';
import { serialId } from '../lib/store/serial-id.ts';

export type Service = typeof services.$inferSelect;

/** The zone Nova gives hosts in no aggregate with a zone (default_availability_zone). */
export const DEFAULT_ZONE = 'nova';
/** The zone of the services that are not nova-compute. */
export const INTERNAL_ZONE = 'internal';

/**
 * Nova's service_down_time, seconds: a service whose last heartbeat is older is down. One setting
 * of the process (the controller's), read by the views and the scheduler alike.
 */
export const liveness = { downTimeS: 60 };

/** A service is up while its heartbeat is fresh, unless an admin forced it down. */
export const isUp = (s: Pick<Service, 'forcedDown' | 'heartbeatAt'>, now = Date.now()) => !s.forcedDown && now - s.heartbeatAt.getTime() < liveness.downTimeS * 1000;

/** The nova-compute service of a host, if it has one. */
export async function computeServiceOf(db: Db, host: string): Promise<Service | undefined> {
  const [s] = await db
    .select()
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, 'nova-compute')));
  return s;
}

/** Records that a service runs on a host and beats now; what an admin set (disabled, forced down) is kept. */
export async function registerService(db: Db, host: string, binary: string): Promise<void> {
  await db
    .insert(services)
    .values({ host, binary })
    .onConflictDoUpdate({ target: [services.host, services.binary], set: { updatedAt: new Date(), heartbeatAt: sql`now()` } });
}

/** Beats for a host's services every everyS seconds (Nova's report_interval) until stopped. The
 * database's clock stamps each beat, so that hosts with drifting clocks are judged alike. */
export function startServiceHeartbeat(db: Db, host: string, binaries: string[], everyS: number, log: Logger): { stop(): void } {
  const beat = () =>
    db
      .update(services)
      .set({ heartbeatAt: sql`now()` })
      .where(and(eq(services.host, host), inArray(services.binary, binaries)))
      .catch((err: unknown) => log.warn({ err, host }, 'service heartbeat failed'));
  const timer = setInterval(() => void beat(), everyS * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Nova's host_status of the servers on each compute host: UP, DOWN (its service is down) or
 * MAINTENANCE (disabled). */
export async function hostStatuses(db: Db): Promise<Map<string, 'UP' | 'DOWN' | 'MAINTENANCE'>> {
  const rows = await db.select().from(services).where(eq(services.binary, 'nova-compute'));
  return new Map(rows.map((s) => [s.host, !isUp(s) ? 'DOWN' : s.disabled ? 'MAINTENANCE' : 'UP']));
}

/** Every service, with the zone it is in: its host's aggregate's, or nova; internal for all but nova-compute. */
export async function listServices(db: Db): Promise<(Service & { zone: string })[]> {
  const [rows, zones] = await Promise.all([db.select().from(services).orderBy(services.id), hostZones(db)]);
  return rows.map((s) => ({ ...s, zone: s.binary === 'nova-compute' ? (zones.get(s.host) ?? DEFAULT_ZONE) : INTERNAL_ZONE }));
}

/** The availability zone of each host in an aggregate that names one. */
export async function hostZones(db: Db): Promise<Map<string, string>> {
  const rows = await db
    .select({ host: aggregateHosts.host, zone: aggregates.availabilityZone })
    .from(aggregateHosts)
    .innerJoin(aggregates, eq(aggregates.id, aggregateHosts.aggregateId))
    .where(isNotNull(aggregates.availabilityZone));
  return new Map(rows.map((r) => [r.host, r.zone!]));
}

/** A zone a server may ask for: one that some host is in. */
export async function checkZone(db: Db, zone: string | undefined): Promise<void> {
  if (zone === undefined) return;
  const computes = await db.select({ host: services.host }).from(services).where(eq(services.binary, 'nova-compute'));
  const zones = await hostZones(db);
  if (!computes.some((c) => (zones.get(c.host) ?? DEFAULT_ZONE) === zone)) throw badRequest('The requested availability zone is not available');
}

/** A service by its integer id (before microversion 2.53) or its UUID. */
export async function getService(db: Db, id: string, byUuid: boolean): Promise<Service> {
  const n = serialId(id);
  const where = byUuid ? eq(services.uuid, id) : n !== undefined ? eq(services.id, n) : undefined;
  const [row] = where ? await db.select().from(services).where(where) : [];
  if (!row) throw notFound(`Service ${id} could not be found.`);
  return row;
}

/** A service named by its host and binary, as the requests before 2.53 name it. */
export async function findService(db: Db, host: string, binary: string): Promise<Service> {
  const [row] = await db
    .select()
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, binary)));
  if (!row) throw notFound(`Service ${binary} on host ${host} could not be found.`);
  return row;
}

export type ServiceChange = Partial<Pick<Service, 'disabled' | 'disabledReason' | 'forcedDown'>>;

export async function updateService(db: Db, s: Service, change: ServiceChange): Promise<Service> {
  const [row] = await db
    .update(services)
    .set({ ...change, updatedAt: new Date() })
    .where(eq(services.id, s.id))
    .returning();
  return row!;
}

/** Deletes a service; a compute service takes its hypervisor with it, and may not go while servers run there. */
export async function deleteService(tx: Db, s: Service): Promise<void> {
  if (s.binary === 'nova-compute') {
    const [busy] = await tx.select({ id: servers.id }).from(servers).where(eq(servers.host, s.host)).limit(1);
    if (busy) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
    await tx.delete(hosts).where(eq(hosts.name, s.host));
    await tx.delete(aggregateHosts).where(eq(aggregateHosts.host, s.host));
  }
  await tx.delete(services).where(eq(services.id, s.id));
}
