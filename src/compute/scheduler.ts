import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { notify, type Db, type Store } from '../lib/store/db.ts';
import { bindServerPorts } from '../network/for-compute.ts';
import { hosts, servers } from './tables.ts';
import { dropServer, faultOf, SERVERS_CHANNEL } from './servers.ts';

export type Host = typeof hosts.$inferSelect;

/** What a host offers once its allocation ratios and reserved memory are applied. */
export const capacityOf = (h: Host) => ({
  vcpus: Math.floor(h.vcpus * h.cpuRatio),
  ram: Math.floor((h.memoryMiB - h.reservedMemoryMiB) * h.ramRatio),
  disk: Math.floor(h.diskGiB * h.diskRatio),
});

/** What the servers placed on each host hold, by host name. */
async function allocations(tx: Db): Promise<Map<string, { vcpus: number; ram: number; disk: number }>> {
  const rows = await tx
    .select({
      host: servers.host,
      vcpus: sql<number>`coalesce(sum((${servers.flavor}->>'vcpus')::int), 0)::int`,
      ram: sql<number>`coalesce(sum((${servers.flavor}->>'ram')::int), 0)::int`,
      disk: sql<number>`coalesce(sum((${servers.flavor}->>'disk')::int + (${servers.flavor}->>'ephemeral')::int), 0)::int`,
    })
    .from(servers)
    .groupBy(servers.host);
  return new Map(rows.filter((r) => r.host).map((r) => [r.host!, r]));
}

/** Records a host's resources; an agent calls it each time it starts. */
export async function registerHost(db: Db, host: Omit<Host, 'updatedAt'>): Promise<void> {
  const { name, ...rest } = host;
  await db
    .insert(hosts)
    .values(host)
    .onConflictDoUpdate({ target: hosts.name, set: { ...rest, updatedAt: new Date() } });
}

/**
 * Places a server that has no host yet on the host with the most free memory among those where
 * its flavor fits, or fails it with Nova's "No valid host" fault. The hosts' rows are locked, so
 * two servers placed at once see each other's allocation. A server deleted before it was placed
 * (or one that failed before it was) is removed here, since no agent will ever see it.
 */
export async function schedule(store: Store, id: string): Promise<void> {
  await store.tx(async (tx) => {
    const [s] = await tx
      .select()
      .from(servers)
      .where(and(eq(servers.id, id), isNull(servers.host)))
      .for('update');
    if (s?.deleting) {
      await dropServer(tx, s);
      return;
    }
    if (s?.vmState !== 'building') return;
    const all = await tx.select().from(hosts).orderBy(hosts.name).for('update');
    const used = await allocations(tx);
    const need = { vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk + s.flavor.ephemeral };
    let best: { name: string; freeRam: number } | undefined;
    for (const h of all) {
      const cap = capacityOf(h);
      const u = used.get(h.name) ?? { vcpus: 0, ram: 0, disk: 0 };
      const free = { vcpus: cap.vcpus - u.vcpus, ram: cap.ram - u.ram, disk: cap.disk - u.disk };
      if (free.vcpus >= need.vcpus && free.ram >= need.ram && free.disk >= need.disk && (!best || free.ram > best.freeRam)) {
        best = { name: h.name, freeRam: free.ram };
      }
    }
    if (!best) {
      const fault = faultOf('No valid host was found. There are not enough hosts available.');
      await tx.update(servers).set({ vmState: 'error', fault, updatedAt: new Date() }).where(eq(servers.id, id));
      return;
    }
    await tx.update(servers).set({ host: best.name, updatedAt: new Date() }).where(eq(servers.id, id));
    await bindServerPorts(tx, s, best.name);
    await notify(tx, SERVERS_CHANNEL, id);
  });
}

/** The servers waiting for a host, or, having none, for their removal. */
export const unscheduled = async (db: Db) =>
  (
    await db
      .select({ id: servers.id })
      .from(servers)
      .where(and(isNull(servers.host), or(eq(servers.vmState, 'building'), eq(servers.deleting, true))))
  ).map((r) => r.id);
