import { randomUUID } from 'node:crypto';
import { and, eq, ne } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { allocateVip } from '../network/for-loadbalancer.ts';
import { changed, FAILOVER, lbNotFound, lockForChange, markDeleted, ownedBy, type Caller, type LoadBalancerRow } from './provisioning.ts';
import { PROVIDER } from './service.ts';
import { healthMonitors, l7Policies, l7Rules, listeners, loadBalancers, members, pools } from './tables.ts';
import { withinQuota } from './quotas.ts';

export interface LoadBalancerInput {
  projectId: string;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  provider?: string;
  vipNetworkId?: string;
  vipSubnetId?: string;
  vipPortId?: string;
  vipAddress?: string;
  tags?: string[];
}

export async function findLoadBalancer(db: Db, caller: Caller, id: string): Promise<LoadBalancerRow> {
  const [lb] = await db
    .select()
    .from(loadBalancers)
    .where(and(eq(loadBalancers.id, id), ownedBy(caller, loadBalancers.projectId)));
  if (!lb) throw lbNotFound(id);
  return lb;
}

export const listLoadBalancers = (db: Db, caller: Caller) =>
  db.select().from(loadBalancers).where(ownedBy(caller, loadBalancers.projectId)).orderBy(loadBalancers.createdAt);

/** Records a load balancer and its VIP port in one transaction; the agent makes its namespace
 * and HAProxy, binds the port and sets it ACTIVE. */
export async function createLoadBalancer(store: Store, caller: Caller, host: string, input: LoadBalancerInput): Promise<LoadBalancerRow> {
  if (input.provider !== undefined && input.provider !== PROVIDER.name) throw badRequest(`Provider '${input.provider}' is not enabled.`);
  if (!caller.isAdmin && input.projectId !== caller.projectId) throw badRequest('Only admins may create load balancers in another project.');
  const id = randomUUID();
  return store.tx(async (tx) => {
    await withinQuota(tx, input.projectId, 'load_balancer');
    const vip = await allocateVip(tx, {
      projectId: input.projectId,
      caller,
      loadBalancerId: id,
      networkId: input.vipNetworkId,
      subnetId: input.vipSubnetId,
      portId: input.vipPortId,
      address: input.vipAddress,
    });
    const [lb] = await tx
      .insert(loadBalancers)
      .values({
        id,
        projectId: input.projectId,
        name: input.name ?? '',
        description: input.description ?? '',
        adminStateUp: input.adminStateUp ?? true,
        provider: PROVIDER.name,
        vipPortId: vip.portId,
        vipNetworkId: vip.networkId,
        vipSubnetId: vip.subnetId,
        vipAddress: vip.address,
        host,
        tags: input.tags ?? [],
      })
      .returning();
    await changed(tx, id, 'PENDING_CREATE');
    return lb!;
  });
}

export async function updateLoadBalancer(
  store: Store,
  caller: Caller,
  id: string,
  changes: { name?: string; description?: string; adminStateUp?: boolean; tags?: string[] },
): Promise<LoadBalancerRow> {
  return store.tx(async (tx) => {
    await lockForChange(tx, caller, id);
    await tx.update(loadBalancers).set(changes).where(eq(loadBalancers.id, id));
    await changed(tx, id);
    return (await tx.select().from(loadBalancers).where(eq(loadBalancers.id, id)))[0]!;
  });
}

/** Octavia's failover: the load balancer goes PENDING_UPDATE and its agent makes its namespace and
 * HAProxy anew before it is ACTIVE again. The request reaches the agent as a notification only: one
 * made while no agent listens leaves the load balancer as it runs, settled at the next resync. */
export async function failoverLoadBalancer(store: Store, caller: Caller, id: string): Promise<void> {
  await store.tx(async (tx) => {
    await lockForChange(tx, caller, id);
    await changed(tx, id, 'PENDING_UPDATE', `${FAILOVER}${id}`);
  });
}

/** Marks the load balancer PENDING_DELETE; without cascade, one that still has listeners or pools
 * is Octavia's 400. The agent stops its HAProxy, removes its namespace, then its rows and VIP port. */
export async function deleteLoadBalancer(store: Store, caller: Caller, id: string, cascade: boolean): Promise<void> {
  await store.tx(async (tx) => {
    await lockForChange(tx, caller, id);
    const ls = await tx.select({ id: listeners.id }).from(listeners).where(eq(listeners.loadBalancerId, id));
    const ps = await tx.select({ id: pools.id }).from(pools).where(eq(pools.loadBalancerId, id));
    if (!cascade && (ls.length || ps.length)) throw badRequest(`Cannot delete Load Balancer ${id} - it has children`);
    const ms = await tx.select({ id: members.id }).from(members).where(eq(members.loadBalancerId, id));
    const hs = await tx.select({ id: healthMonitors.id }).from(healthMonitors).where(eq(healthMonitors.loadBalancerId, id));
    const l7p = await tx.select({ id: l7Policies.id }).from(l7Policies).where(eq(l7Policies.loadBalancerId, id));
    const l7r = await tx.select({ id: l7Rules.id }).from(l7Rules).where(eq(l7Rules.loadBalancerId, id));
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    await markDeleted(tx, id, { listeners: ids(ls), pools: ids(ps), members: ids(ms), monitors: ids(hs), l7policies: ids(l7p), l7rules: ids(l7r) });
    await changed(tx, id, 'PENDING_DELETE');
  });
}

/** 409 when another listener of the load balancer already takes the port. */
export async function checkPortFree(tx: Db, lbId: string, port: number, except?: string): Promise<void> {
  const [taken] = await tx
    .select({ id: listeners.id })
    .from(listeners)
    .where(and(eq(listeners.loadBalancerId, lbId), eq(listeners.protocolPort, port), except ? ne(listeners.id, except) : undefined));
  if (taken) throw conflict(`Another Listener on this Load Balancer is already using protocol_port ${port}`, 'DuplicateListenerEntry');
}
