import { and, eq, gt, isNotNull, lt } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { Server } from './servers.ts';
import { servers, terminatedServers, type FlavorCopy } from './tables.ts';

/** Keeps what a deleted server used, for the usage of the periods it ran in; call it as its row goes. */
export async function recordTermination(tx: Db, s: Server): Promise<void> {
  await tx
    .insert(terminatedServers)
    .values({ id: s.id, projectId: s.projectId, name: s.name, flavor: s.flavor, createdAt: s.createdAt, launchedAt: s.launchedAt })
    .onConflictDoNothing();
}

/** A server that ran at some time in a period, live or deleted. */
export interface UsageRecord {
  id: string;
  projectId: string;
  name: string;
  flavor: FlavorCopy;
  state: string;
  launchedAt: Date;
  terminatedAt: Date | null;
}

/**
 * The servers (of one project, or all) that ran during [start, stop): launched before its end and
 * not deleted before its start, as Nova counts them. Never-launched servers used nothing.
 */
export async function serversRunIn(db: Db, start: Date, stop: Date, projectId?: string): Promise<UsageRecord[]> {
  const live = await db
    .select()
    .from(servers)
    .where(and(isNotNull(servers.launchedAt), lt(servers.launchedAt, stop), projectId === undefined ? undefined : eq(servers.projectId, projectId)));
  const gone = await db
    .select()
    .from(terminatedServers)
    .where(
      and(
        isNotNull(terminatedServers.launchedAt),
        lt(terminatedServers.launchedAt, stop),
        gt(terminatedServers.terminatedAt, start),
        projectId === undefined ? undefined : eq(terminatedServers.projectId, projectId),
      ),
    );
  const records: UsageRecord[] = [
    ...live.map((s) => ({ id: s.id, projectId: s.projectId, name: s.name, flavor: s.flavor, state: s.vmState, launchedAt: s.launchedAt!, terminatedAt: null })),
    ...gone.map((s) => ({
      id: s.id,
      projectId: s.projectId,
      name: s.name,
      flavor: s.flavor,
      state: 'terminated',
      launchedAt: s.launchedAt!,
      terminatedAt: s.terminatedAt,
    })),
  ];
  return records.sort((a, b) => a.launchedAt.getTime() - b.launchedAt.getTime() || a.id.localeCompare(b.id));
}

/** The hours a server counts in [start, stop): from its launch (or the start) to its deletion (or the stop). */
export function hoursIn(r: UsageRecord, start: Date, stop: Date): number {
  const from = Math.max(r.launchedAt.getTime(), start.getTime());
  const to = Math.min(r.terminatedAt?.getTime() ?? stop.getTime(), stop.getTime());
  return Math.max(0, to - from) / 3_600_000;
}
