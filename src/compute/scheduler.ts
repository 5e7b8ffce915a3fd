import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { notify, type Db, type Store } from '../lib/store/db.ts';
import { bindServerPorts } from '../network/for-compute.ts';
import { hosts, servers, services } from './tables.ts';
import { dropServer, faultOf, SERVERS_CHANNEL, type Server } from './servers.ts';
import { DEFAULT_ZONE, hostZones, registerService } from './services.ts';
import { placementOf } from './server-groups.ts';

export type Host = typeof hosts.$inferSelect;

/** What a host offers once its allocation ratios and reserved memory are applied. */
export const capacityOf = (h: Host) => ({
  vcpus: Math.floor(h.vcpus * h.cpuRatio),
  ram: Math.floor((h.memoryMiB - h.reservedMemoryMiB) * h.ramRatio),
  disk: Math.floor(h.diskGiB * h.diskRatio),
});

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
  return new Map(rows.filter((r) => r.host).map((r) => [r.host!, r]));
}

/** Records a host's resources and its nova-compute service; an agent calls it each time it starts. */
export async function registerHost(db: Db, host: Omit<Host, 'updatedAt' | 'id' | 'uuid'>): Promise<void> {
  const { name, ...rest } = host;
  await db
    .insert(hosts)
    .values(host)
    .onConflictDoUpdate({ target: hosts.name, set: { ...rest, updatedAt: new Date() } });
  await registerService(db, name, 'nova-compute');
}

/** The hosts a server may go to: an enabled compute service that is up, in the zone it asked for. */
async function eligibleHosts(tx: Db, zone: string | null): Promise<Set<string>> {
  const [computes, zones] = await Promise.all([tx.select().from(services).where(eq(services.binary, 'nova-compute')), hostZones(tx)]);
  return new Set(computes.filter((c) => !c.disabled && !c.forcedDown && (zone === null || (zones.get(c.host) ?? DEFAULT_ZONE) === zone)).map((c) => c.host));
}

/**
 * Places a server that has no host yet on a host where its flavor fits, or fails it with Nova's
 * "No valid host" fault. Only enabled compute services in the server's zone take servers; a
 * server group's hard policy filters the hosts (affinity: where the other members are;
 * anti-affinity: where fewer than max_server_per_host are), a soft one only orders them. Among
 * equals, the most free memory wins. The hosts' rows are locked, so two servers placed at once
 * see each other's allocation. A server deleted before it was placed (or one that failed before
 * it was) is removed here, since no agent will ever see it.
 */
export async function schedule(store: Store, id: string, dropped?: (s: Server) => Promise<void>): Promise<void> {
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
    const all = await tx.select().from(hosts).orderBy(hosts.name).for('update');
    const [used, eligible, placement] = await Promise.all([allocations(tx), eligibleHosts(tx, s.availabilityZone), placementOf(tx, id)]);
    const need = { vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk + s.flavor.ephemeral };
    const members = (host: string) => placement?.perHost.get(host) ?? 0;
    const policy = placement?.group.policy;
    const maxPerHost = placement?.group.rules.max_server_per_host ?? 1;
    // Soft affinity prefers the host with the most members, soft anti-affinity the one with the fewest.
    const weight = (host: string) => (policy === 'soft-affinity' ? members(host) : policy === 'soft-anti-affinity' ? -members(host) : 0);
    let best: { name: string; weight: number; freeRam: number } | undefined;
    for (const h of all) {
      if (!eligible.has(h.name)) continue;
      if (policy === 'affinity' && placement!.perHost.size && !placement!.perHost.has(h.name)) continue;
      if (policy === 'anti-affinity' && members(h.name) >= maxPerHost) continue;
      const cap = capacityOf(h);
      const u = used.get(h.name) ?? { vcpus: 0, ram: 0, disk: 0 };
      const free = { vcpus: cap.vcpus - u.vcpus, ram: cap.ram - u.ram, disk: cap.disk - u.disk };
      if (free.vcpus < need.vcpus || free.ram < need.ram || free.disk < need.disk) continue;
      const w = weight(h.name);
      if (!best || w > best.weight || (w === best.weight && free.ram > best.freeRam)) best = { name: h.name, weight: w, freeRam: free.ram };
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
  if (gone) await dropped?.(gone);
}

/** The servers waiting for a host, or, having none, for their removal. */
export const unscheduled = async (db: Db) =>
  (
    await db
      .select({ id: servers.id })
      .from(servers)
      .where(and(isNull(servers.host), or(eq(servers.vmState, 'building'), eq(servers.deleting, true))))
  ).map((r) => r.id);
