// What listeners, pools, members, health monitors, L7 policies and rules share: each belongs to one load balancer,
// is found within the caller's projects, and is changed under that load balancer's lock.

import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import { conflict, notFound } from '../lib/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { changed, lockForChange, markDeleted, type Caller, type LoadBalancerRow } from './provisioning.ts';
import { healthMonitors, l7Policies, l7Rules, listeners, members, pools } from './tables.ts';

export const CHILDREN = { listener: listeners, pool: pools, member: members, healthmonitor: healthMonitors, l7policy: l7Policies, l7rule: l7Rules } as const;
export type ChildKind = keyof typeof CHILDREN;
export type ListenerRow = typeof listeners.$inferSelect;
export type PoolRow = typeof pools.$inferSelect;
export type MemberRow = typeof members.$inferSelect;
export type MonitorRow = typeof healthMonitors.$inferSelect;
export type L7PolicyRow = typeof l7Policies.$inferSelect;
export type L7RuleRow = typeof l7Rules.$inferSelect;
type RowOf<K extends ChildKind> = (typeof CHILDREN)[K]['$inferSelect'];

const NAMES: Record<ChildKind, string> = { listener: 'Listener', pool: 'Pool', member: 'Member', healthmonitor: 'Health Monitor', l7policy: 'L7 Policy', l7rule: 'L7 Rule' };
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

/** The record a child hangs under (a member's pool, a rule's policy), which Octavia shows
 * PENDING_UPDATE while the child's change is applied: octaviaclient's --wait watches it. */
export type Parent = { kind: 'pool' | 'l7policy' | 'listener'; id: string };

export function parentOf(kind: ChildKind, row: Record<string, unknown>): Parent | undefined {
  if (kind === 'member') return { kind: 'pool', id: row.poolId as string };
  if (kind === 'l7rule') return { kind: 'l7policy', id: row.l7PolicyId as string };
  if (kind === 'l7policy') return { kind: 'listener', id: row.listenerId as string };
  return undefined;
}

/** Runs a change to a child of a load balancer: under the load balancer's lock (409 while it is
 * PENDING_*), and marking it (and the child's parent, if given) PENDING_UPDATE for the agent. */
export async function underLock<T>(store: Store, caller: Caller, lbId: string, fn: (tx: Db, lb: LoadBalancerRow) => Promise<T>, parent?: Parent): Promise<T> {
  return store.tx(async (tx) => {
    const lb = await lockForChange(tx, caller, lbId);
    const out = await fn(tx, lb);
    if (parent) {
      const t = CHILDREN[parent.kind] as typeof listeners;
      await tx
        .update(t)
        .set({ provisioningStatus: 'PENDING_UPDATE' })
        .where(and(eq(t.id, parent.id), eq(t.provisioningStatus, 'ACTIVE')));
    }
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
  }, parentOf(kind, row));
}

/** Marks a child (and what goes with it: a pool's members and monitor, a listener's or policy's
 * L7 policies and rules) PENDING_DELETE. A pool an L7 policy sends to is Octavia's 409. */
export async function deleteChild(store: Store, caller: Caller, kind: ChildKind, id: string): Promise<void> {
  const row = await findChild(store.db, caller, kind, id);
  await underLock(
    store,
    caller,
    row.loadBalancerId,
    async (tx) => {
      const lb = row.loadBalancerId;
      if (kind === 'member') return markDeleted(tx, lb, { members: [id] });
      if (kind === 'healthmonitor') return markDeleted(tx, lb, { monitors: [id] });
      if (kind === 'l7rule') return markDeleted(tx, lb, { l7rules: [id] });
      if (kind === 'l7policy') {
        await closeGap(tx, row as L7PolicyRow);
        const rs = await tx.select({ id: l7Rules.id }).from(l7Rules).where(eq(l7Rules.l7PolicyId, id));
        return markDeleted(tx, lb, { l7policies: [id], l7rules: rs.map((r) => r.id) });
      }
      if (kind === 'listener') {
        const ps = await tx.select({ id: l7Policies.id }).from(l7Policies).where(eq(l7Policies.listenerId, id));
        const rs = ps.length ? await tx.select({ id: l7Rules.id }).from(l7Rules).where(inArray(l7Rules.l7PolicyId, ps.map((p) => p.id))) : [];
        return markDeleted(tx, lb, { listeners: [id], l7policies: ps.map((p) => p.id), l7rules: rs.map((r) => r.id) });
      }
      const [user] = await tx
        .select({ id: l7Policies.id })
        .from(l7Policies)
        .where(and(eq(l7Policies.redirectPoolId, id), inArray(l7Policies.provisioningStatus, ['ACTIVE', 'PENDING_CREATE', 'PENDING_UPDATE', 'ERROR'])));
      if (user) throw conflict(`Pool ${id} is in use by L7 policy ${user.id}`, 'PoolInUseByL7Policy');
      const ms = await tx.select({ id: members.id }).from(members).where(eq(members.poolId, id));
      const hs = await tx.select({ id: healthMonitors.id }).from(healthMonitors).where(eq(healthMonitors.poolId, id));
      await tx.update(listeners).set({ defaultPoolId: null }).where(eq(listeners.defaultPoolId, id));
      return markDeleted(tx, lb, { pools: [id], members: ms.map((m) => m.id), monitors: hs.map((h) => h.id) });
    },
    parentOf(kind, row),
  );
}

/** Octavia keeps a listener's policies numbered 1..n: the ones after a policy that goes move up. */
export async function closeGap(tx: Db, p: L7PolicyRow): Promise<void> {
  await tx
    .update(l7Policies)
    .set({ position: sql`${l7Policies.position} - 1` })
    .where(and(eq(l7Policies.listenerId, p.listenerId), gt(l7Policies.position, p.position)));
}
