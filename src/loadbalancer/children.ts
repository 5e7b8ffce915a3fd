// What listeners, pools, members and health monitors share: each belongs to one load balancer,
// is found within the caller's projects, and is changed under that load balancer's lock.

import { and, eq } from 'drizzle-orm';
import { notFound } from '../lib/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { changed, lockForChange, markDeleted, type Caller, type LoadBalancerRow } from './provisioning.ts';
import { healthMonitors, listeners, members, pools } from './tables.ts';

export const CHILDREN = { listener: listeners, pool: pools, member: members, healthmonitor: healthMonitors } as const;
export type ChildKind = keyof typeof CHILDREN;
export type ListenerRow = typeof listeners.$inferSelect;
export type PoolRow = typeof pools.$inferSelect;
export type MemberRow = typeof members.$inferSelect;
export type MonitorRow = typeof healthMonitors.$inferSelect;
type RowOf<K extends ChildKind> = (typeof CHILDREN)[K]['$inferSelect'];

const NAMES: Record<ChildKind, string> = { listener: 'Listener', pool: 'Pool', member: 'Member', healthmonitor: 'Health Monitor' };
export const childNotFound = (kind: ChildKind, id: string) => notFound(`${NAMES[kind]} ${id} not found.`);

/** A child the caller sees (its project's, or any for admins), or Octavia's 404. */
export async function findChild<K extends ChildKind>(db: Db, caller: Caller, kind: K, id: string): Promise<RowOf<K>> {
  const t = CHILDREN[kind];
  const [row] = await db
    .select()
    .from(t as typeof listeners)
    .where(and(eq(t.id, id), caller.isAdmin ? undefined : eq(t.projectId, caller.projectId)));
  if (!row) throw childNotFound(kind, id);
  return row as RowOf<K>;
}

export const listChildren = <K extends ChildKind>(db: Db, caller: Caller, kind: K) => {
  const t = CHILDREN[kind] as typeof listeners;
  return db
    .select()
    .from(t)
    .where(caller.isAdmin ? undefined : eq(t.projectId, caller.projectId))
    .orderBy(t.createdAt) as unknown as Promise<RowOf<K>[]>;
};

/** Runs a change to a child of a load balancer: under the load balancer's lock (409 while it is
 * PENDING_*), and marking it PENDING_UPDATE for the agent. */
export async function underLock<T>(store: Store, caller: Caller, lbId: string, fn: (tx: Db, lb: LoadBalancerRow) => Promise<T>): Promise<T> {
  return store.tx(async (tx) => {
    const lb = await lockForChange(tx, caller, lbId);
    const out = await fn(tx, lb);
    await changed(tx, lbId);
    return out;
  });
}

/** Updates a child's fields and marks it PENDING_UPDATE. */
export async function updateChild<K extends ChildKind>(store: Store, caller: Caller, kind: K, id: string, fields: Partial<RowOf<K>>): Promise<RowOf<K>> {
  const t = CHILDREN[kind] as typeof listeners;
  const row = await findChild(store.db, caller, kind, id);
  return underLock(store, caller, row.loadBalancerId, async (tx) => {
    const [out] = await tx
      .update(t)
      .set({ ...(fields as object), provisioningStatus: 'PENDING_UPDATE', updatedAt: new Date() })
      .where(eq(t.id, id))
      .returning();
    return out as RowOf<K>;
  });
}

/** Marks a child (and what goes with it: a pool's members and monitor) PENDING_DELETE. */
export async function deleteChild(store: Store, caller: Caller, kind: ChildKind, id: string): Promise<void> {
  const row = await findChild(store.db, caller, kind, id);
  await underLock(store, caller, row.loadBalancerId, async (tx) => {
    if (kind === 'listener') return markDeleted(tx, row.loadBalancerId, { listeners: [id] });
    if (kind === 'member') return markDeleted(tx, row.loadBalancerId, { members: [id] });
    if (kind === 'healthmonitor') return markDeleted(tx, row.loadBalancerId, { monitors: [id] });
    const ms = await tx.select({ id: members.id }).from(members).where(eq(members.poolId, id));
    const hs = await tx.select({ id: healthMonitors.id }).from(healthMonitors).where(eq(healthMonitors.poolId, id));
    await tx.update(listeners).set({ defaultPoolId: null }).where(eq(listeners.defaultPoolId, id));
    return markDeleted(tx, row.loadBalancerId, { pools: [id], members: ms.map((m) => m.id), monitors: hs.map((h) => h.id) });
  });
}
