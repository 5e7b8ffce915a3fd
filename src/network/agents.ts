// The network agents of each host, as `openstack network agent list` shows them. Nubo's network
// service on a host does the work of Neutron's L2 (Linux bridges), DHCP (dnsmasq), L3 (routers in
// namespaces) and metadata agents in one process; it reports each as an agent of that host, alive
// while its heartbeat is fresh.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, notInArray, sql } from 'drizzle-orm';
import { notFound } from '../lib/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { agents } from './tables.ts';

export type AgentRow = typeof agents.$inferSelect;

/** How often a running service writes its heartbeat by default (Neutron's report_interval), and
 * how old one may be for the agent to count as alive (agent_down_time): one setting of the
 * process, the controller's, read by the views. */
export const HEARTBEAT_MS = 30_000;
export const agentLiveness = { downAfterMs: 75_000 };

const BINARY = 'nubo-network-agent';
/** The kinds of agent the service reports, by Neutron's agent_type; those serving a zone say so. */
export const AGENT_KINDS = [
  { agentType: 'Linux bridge agent', topic: 'N/A', zone: false, configurations: { bridge_mappings: {}, tunnel_types: ['vxlan'] } },
  { agentType: 'DHCP agent', topic: 'dhcp_agent', zone: true, configurations: { dhcp_driver: 'dnsmasq' } },
  { agentType: 'L3 agent', topic: 'l3_agent', zone: true, configurations: { agent_mode: 'legacy' } },
  { agentType: 'Metadata agent', topic: 'N/A', zone: false, configurations: { metadata_proxy_socket: 'in-process' } },
] as const;

export const ZONE = 'nova';
export const zoneOf = (a: AgentRow) => (AGENT_KINDS.find((k) => k.agentType === a.agentType)?.zone ? ZONE : null);
export const isAlive = (a: AgentRow, now = Date.now()) => now - a.heartbeatAt.getTime() < agentLiveness.downAfterMs;

/** Records this host's agents as started now, and beats for them until stopped. A host of a
 * multi-host cloud that is not the network host runs no DHCP, L3 or metadata agent, and forgets
 * those it ran before; a tunnel address is shown as Neutron's Linux bridge agent shows it. */
export async function startHeartbeat(
  store: Store,
  host: string,
  everyMs = HEARTBEAT_MS,
  role: { networkHost?: boolean; tunnelIp?: string } = {},
): Promise<{ stop(): void }> {
  const now = new Date();
  const kinds = AGENT_KINDS.filter((k) => role.networkHost !== false || k.agentType === 'Linux bridge agent').map((k) =>
    k.agentType === 'Linux bridge agent' && role.tunnelIp
      ? { ...k, configurations: { ...k.configurations, tunneling_ip: role.tunnelIp, l2_population: true } }
      : k,
  );
  await store.db.delete(agents).where(
    and(
      eq(agents.host, host),
      notInArray(
        agents.agentType,
        kinds.map((k) => k.agentType),
      ),
    ),
  );
  for (const kind of kinds) {
    await store.db
      .insert(agents)
      .values({
        id: randomUUID(),
        host,
        agentType: kind.agentType,
        binary: BINARY,
        topic: kind.topic,
        configurations: kind.configurations,
        startedAt: now,
        heartbeatAt: now,
      })
      .onConflictDoUpdate({ target: [agents.host, agents.agentType], set: { startedAt: now, heartbeatAt: now, configurations: kind.configurations } });
  }
  const beat = () =>
    store.db
      .update(agents)
      .set({ heartbeatAt: sql`now()` })
      .where(eq(agents.host, host));
  const timer = setInterval(() => void beat().catch(() => undefined), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

const agentNotFound = (id: string) => notFound(`Agent ${id} could not be found.`, 'AgentNotFound');

export const listAgents = (db: Db) => db.select().from(agents).orderBy(asc(agents.host), asc(agents.agentType));

export async function getAgent(db: Db, id: string): Promise<AgentRow> {
  const [row] = await db.select().from(agents).where(eq(agents.id, id));
  if (!row) throw agentNotFound(id);
  return row;
}

export async function updateAgent(tx: Db, id: string, changes: { adminStateUp?: boolean; description?: string | null }): Promise<AgentRow> {
  if (changes.adminStateUp === undefined && changes.description === undefined) return getAgent(tx, id);
  const [row] = await tx.update(agents).set(changes).where(eq(agents.id, id)).returning();
  if (!row) throw agentNotFound(id);
  return row;
}

/** Forgets an agent; a running service records it again at its next start. */
export async function deleteAgent(tx: Db, id: string): Promise<void> {
  const [row] = await tx.delete(agents).where(eq(agents.id, id)).returning({ id: agents.id });
  if (!row) throw agentNotFound(id);
}
