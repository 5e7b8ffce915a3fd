// The lifecycle Octavia shows: a change to a load balancer or anything under it is refused (409)
// while the load balancer is PENDING_*, marks it PENDING_UPDATE (the changed child PENDING_CREATE,
// _UPDATE or _DELETE) and wakes the agent, which renders HAProxy's configuration from the records
// and sets everything ACTIVE, or removes what was PENDING_DELETE.

import { and, eq, inArray } from 'drizzle-orm';
import { conflict, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { healthMonitors, l7Policies, l7Rules, listeners, loadBalancers, members, pools } from './tables.ts';

/** The store channel that wakes the load-balancer agent; the payload is a load balancer's id. */
export const LB_CHANNEL = 'loadbalancer';

/** Who acts: admins see every project's load balancers. */
export interface Caller {
  projectId: string;
  isAdmin: boolean;
}

export type LoadBalancerRow = typeof loadBalancers.$inferSelect;

export const lbNotFound = (id: string) => notFound(`Load Balancer ${id} not found.`);

/** Only a project's own rows, unless the caller is admin. */
export const ownedBy = (caller: Caller, column: typeof loadBalancers.projectId | typeof listeners.projectId) =>
  caller.isAdmin ? undefined : eq(column, caller.projectId);

/** Locks the load balancer for a change to it or a child: 404 when the caller does not see it,
 * Octavia's 409 while it is PENDING_* (another change is still being applied). */
export async function lockForChange(tx: Db, caller: Caller, id: string): Promise<LoadBalancerRow> {
  const [lb] = await tx
    .select()
    .from(loadBalancers)
    .where(and(eq(loadBalancers.id, id), ownedBy(caller, loadBalancers.projectId)))
    .for('update');
  if (!lb) throw lbNotFound(id);
  if (lb.provisioningStatus.startsWith('PENDING_')) throw conflict(`Invalid state ${lb.provisioningStatus} of loadbalancer resource ${id}`);
  return lb;
}

/** The agent's key asking for a load balancer's failover (its namespace and HAProxy made anew). */
export const FAILOVER = 'failover:';

/** Marks the load balancer as being updated and wakes the agent once the transaction commits,
 * with the key it is to run (the load balancer's own, or a failover's). */
export async function changed(tx: Db, lbId: string, status: 'PENDING_UPDATE' | 'PENDING_DELETE' | 'PENDING_CREATE' = 'PENDING_UPDATE', key = lbId): Promise<void> {
  await tx.update(loadBalancers).set({ provisioningStatus: status, updatedAt: new Date() }).where(eq(loadBalancers.id, lbId));
  await notify(tx, LB_CHANNEL, key);
}

/** Marks children PENDING_DELETE (a cascade): the agent removes their rows once HAProxy no longer
 * serves them. */
export async function markDeleted(
  tx: Db,
  lbId: string,
  what: { listeners?: string[]; pools?: string[]; members?: string[]; monitors?: string[]; l7policies?: string[]; l7rules?: string[] },
) {
  const set = { provisioningStatus: 'PENDING_DELETE' as const, updatedAt: new Date() };
  if (what.listeners?.length) await tx.update(listeners).set(set).where(and(eq(listeners.loadBalancerId, lbId), inArray(listeners.id, what.listeners)));
  if (what.pools?.length) await tx.update(pools).set(set).where(and(eq(pools.loadBalancerId, lbId), inArray(pools.id, what.pools)));
  if (what.members?.length) await tx.update(members).set(set).where(and(eq(members.loadBalancerId, lbId), inArray(members.id, what.members)));
  if (what.monitors?.length) await tx.update(healthMonitors).set(set).where(and(eq(healthMonitors.loadBalancerId, lbId), inArray(healthMonitors.id, what.monitors)));
  if (what.l7policies?.length) await tx.update(l7Policies).set(set).where(and(eq(l7Policies.loadBalancerId, lbId), inArray(l7Policies.id, what.l7policies)));
  if (what.l7rules?.length) await tx.update(l7Rules).set(set).where(and(eq(l7Rules.loadBalancerId, lbId), inArray(l7Rules.id, what.l7rules)));
}
