import { and, eq, inArray, ne } from 'drizzle-orm';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { DEFAULT_ZONE, INTERNAL_ZONE } from './services.ts';
import { aggregateHosts, aggregates, services } from './tables.ts';
import { serialId } from '../lib/store/serial-id.ts';

export type Aggregate = typeof aggregates.$inferSelect & { hosts: string[] };

/** The zone is kept in the metadata too, under availability_zone, as Nova keeps and shows it. */
const ZONE_KEY = 'availability_zone';

function checkZoneName(zone: string | null | undefined): void {
  if (zone === INTERNAL_ZONE) throw badRequest(`Aggregate's availability zone can not be set to the internal zone '${INTERNAL_ZONE}'.`);
}

async function withHosts(db: Db, rows: (typeof aggregates.$inferSelect)[]): Promise<Aggregate[]> {
  const ids = rows.map((r) => r.id);
  const links = ids.length ? await db.select().from(aggregateHosts).where(inArray(aggregateHosts.aggregateId, ids)).orderBy(aggregateHosts.host) : [];
  return rows.map((r) => ({ ...r, hosts: links.filter((l) => l.aggregateId === r.id).map((l) => l.host) }));
}

export async function listAggregates(db: Db): Promise<Aggregate[]> {
  return withHosts(db, await db.select().from(aggregates).orderBy(aggregates.id));
}

export async function getAggregate(db: Db, id: string): Promise<Aggregate> {
  const n = serialId(id);
  const [row] = n === undefined ? [] : await db.select().from(aggregates).where(eq(aggregates.id, n));
  if (!row) throw notFound(`Aggregate ${id} could not be found.`);
  return (await withHosts(db, [row]))[0]!;
}

async function checkNameFree(db: Db, name: string, except?: number): Promise<void> {
  const [other] = await db
    .select({ id: aggregates.id })
    .from(aggregates)
    .where(and(eq(aggregates.name, name), except === undefined ? undefined : ne(aggregates.id, except)));
  if (other) throw conflict(`Aggregate ${name} already exists.`);
}

export async function createAggregate(tx: Db, name: string, zone: string | null): Promise<Aggregate> {
  checkZoneName(zone);
  await checkNameFree(tx, name);
  const [row] = await tx
    .insert(aggregates)
    .values({ name, availabilityZone: zone, metadata: zone ? { [ZONE_KEY]: zone } : {} })
    .returning();
  return { ...row!, hosts: [] };
}

/** Renames an aggregate or moves it to another zone; its hosts may not then be in two zones. */
export async function updateAggregate(tx: Db, id: string, change: { name?: string; zone?: string | null }): Promise<Aggregate> {
  const a = await getAggregate(tx, id);
  if (change.name !== undefined) await checkNameFree(tx, change.name, a.id);
  if (change.zone !== undefined) {
    checkZoneName(change.zone);
    for (const host of a.hosts) await checkHostZone(tx, host, change.zone, a.id);
  }
  const metadata = { ...a.metadata };
  if (change.zone !== undefined) {
    if (change.zone === null) delete metadata[ZONE_KEY];
    else metadata[ZONE_KEY] = change.zone;
  }
  await tx
    .update(aggregates)
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.zone !== undefined ? { availabilityZone: change.zone } : {}),
      metadata,
      updatedAt: new Date(),
    })
    .where(eq(aggregates.id, a.id));
  return getAggregate(tx, id);
}

/** Nova refuses to delete an aggregate that still has hosts. */
export async function deleteAggregate(tx: Db, id: string): Promise<void> {
  const a = await getAggregate(tx, id);
  if (a.hosts.length) throw badRequest(`Invalid aggregate action delete for aggregate ${a.id}. Reason: Host aggregate is not empty.`);
  await tx.delete(aggregates).where(eq(aggregates.id, a.id));
}

/** A host is in one zone at most: another aggregate of it may not name a different one. */
async function checkHostZone(tx: Db, host: string, zone: string | null, aggregateId: number): Promise<void> {
  if (zone === null) return;
  const others = await tx
    .select({ zone: aggregates.availabilityZone })
    .from(aggregateHosts)
    .innerJoin(aggregates, eq(aggregates.id, aggregateHosts.aggregateId))
    .where(and(eq(aggregateHosts.host, host), ne(aggregates.id, aggregateId)));
  const clash = others.find((o) => o.zone !== null && o.zone !== zone);
  if (clash) {
    throw conflict(`Cannot add host to aggregate ${aggregateId}. Reason: One or more hosts already in availability zone(s) ['${clash.zone ?? DEFAULT_ZONE}'].`);
  }
}

export async function addHost(tx: Db, id: string, host: string): Promise<Aggregate> {
  const a = await getAggregate(tx, id);
  const [compute] = await tx
    .select()
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, 'nova-compute')));
  if (!compute) throw notFound(`Compute host ${host} could not be found.`);
  if (a.hosts.includes(host)) throw conflict(`Aggregate ${a.id} already has host ${host}.`);
  await checkHostZone(tx, host, a.availabilityZone, a.id);
  await tx.insert(aggregateHosts).values({ aggregateId: a.id, host });
  return getAggregate(tx, id);
}

export async function removeHost(tx: Db, id: string, host: string): Promise<Aggregate> {
  const a = await getAggregate(tx, id);
  if (!a.hosts.includes(host)) throw notFound(`Cannot remove host ${host} in aggregate ${a.id}`);
  await tx.delete(aggregateHosts).where(and(eq(aggregateHosts.aggregateId, a.id), eq(aggregateHosts.host, host)));
  return getAggregate(tx, id);
}

/** Sets keys; a null value removes its key. The availability_zone key moves the aggregate's zone. */
export async function setMetadata(tx: Db, id: string, change: Record<string, string | null>): Promise<Aggregate> {
  const a = await getAggregate(tx, id);
  if (Object.hasOwn(change, ZONE_KEY)) await updateAggregate(tx, id, { zone: change[ZONE_KEY] ?? null });
  const metadata = { ...(await getAggregate(tx, id)).metadata };
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete metadata[k];
    else metadata[k] = v;
  }
  await tx.update(aggregates).set({ metadata, updatedAt: new Date() }).where(eq(aggregates.id, a.id));
  return getAggregate(tx, id);
}
