import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import type { Store } from '../lib/store/db.ts';
import { findChild, underLock, type PoolRow } from './children.ts';
import { checkDefaultPool } from './listeners.ts';
import type { Caller } from './provisioning.ts';
import { listeners, pools, type ListenerProtocol, type PoolAlgorithm } from './tables.ts';

export interface PoolInput {
  projectId: string;
  loadBalancerId?: string;
  listenerId?: string;
  protocol: ListenerProtocol;
  lbAlgorithm: PoolAlgorithm;
  sessionPersistence?: { type: string } | null;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  tags?: string[];
}

/** Session persistence as HAProxy renders it here: by source address only. */
export function checkPersistence(p: unknown): { type: string } | null {
  if (p === null || p === undefined) return null;
  const type = (p as { type?: unknown }).type;
  if (type !== 'SOURCE_IP') throw badRequest(`Invalid input for field/attribute session_persistence. Value: '${JSON.stringify(p)}'. Value should be one of: SOURCE_IP`);
  return { type };
}

/** A pool of a load balancer, or of a listener (whose default pool it becomes). */
export async function createPool(store: Store, caller: Caller, input: PoolInput): Promise<PoolRow> {
  const listener = input.listenerId ? await findChild(store.db, caller, 'listener', input.listenerId) : undefined;
  const lbId = listener?.loadBalancerId ?? input.loadBalancerId;
  if (!lbId) throw badRequest('Either loadbalancer_id or listener_id must be specified.');
  if (listener && input.loadBalancerId && input.loadBalancerId !== listener.loadBalancerId) throw badRequest('Listener and pool are on different load balancers.');
  return underLock(store, caller, lbId, async (tx, lb) => {
    const id = randomUUID();
    const [row] = await tx
      .insert(pools)
      .values({ ...input, id, projectId: lb.projectId, loadBalancerId: lb.id, sessionPersistence: input.sessionPersistence ?? null })
      .returning();
    if (listener) {
      await checkDefaultPool(tx, lb.id, listener.protocol, id, listener.id);
      if (listener.defaultPoolId) throw badRequest(`Listener ${listener.id} already has a default pool.`);
      await tx.update(listeners).set({ defaultPoolId: id }).where(eq(listeners.id, listener.id));
    }
    return row!;
  });
}
