import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import type { Store } from '../lib/store/db.ts';
import { findChild, underLock, type PoolRow } from './children.ts';
import { checkDefaultPool } from './listeners.ts';
import type { Caller } from './provisioning.ts';
import { listeners, PERSISTENCE_TYPES, pools, type ListenerProtocol, type PoolAlgorithm, type SessionPersistence } from './tables.ts';
import { withinQuota } from './quotas.ts';

export interface PoolInput {
  projectId: string;
  loadBalancerId?: string;
  listenerId?: string;
  protocol: ListenerProtocol;
  lbAlgorithm: PoolAlgorithm;
  sessionPersistence?: SessionPersistence | null;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  tags?: string[];
}

/** Octavia's session persistence: SOURCE_IP, HTTP_COOKIE (HAProxy inserts its own cookie) or
 * APP_COOKIE (the member's cookie named by cookie_name, learnt from its answers). */
export function checkPersistence(p: unknown): SessionPersistence | null {
  if (p === null || p === undefined) return null;
  const { type, cookie_name: cookie } = p as { type?: unknown; cookie_name?: unknown };
  if (typeof type !== 'string' || !(PERSISTENCE_TYPES as readonly string[]).includes(type)) {
    throw badRequest(`Invalid input for field/attribute session_persistence. Value: '${JSON.stringify(p)}'. Value should be one of: ${PERSISTENCE_TYPES.join(', ')}`);
  }
  if (type === 'APP_COOKIE') {
    if (typeof cookie !== 'string' || !/^[\w!#$%&'*+.^`|~-]{1,255}$/.test(cookie)) throw badRequest('Validation failure: Field cookie_name must be specified (a valid cookie name) when using the APP_COOKIE session persistence type.');
    return { type, cookie_name: cookie };
  }
  if (cookie !== undefined && cookie !== null) throw badRequest('Validation failure: Field cookie_name can only be specified with session_persistence type APP_COOKIE.');
  return { type: type as SessionPersistence['type'] };
}

/** A pool of a load balancer, or of a listener (whose default pool it becomes). */
export async function createPool(store: Store, caller: Caller, input: PoolInput): Promise<PoolRow> {
  const listener = input.listenerId ? await findChild(store.db, caller, 'listener', input.listenerId) : undefined;
  const lbId = listener?.loadBalancerId ?? input.loadBalancerId;
  if (!lbId) throw badRequest('Either loadbalancer_id or listener_id must be specified.');
  if (listener && input.loadBalancerId && input.loadBalancerId !== listener.loadBalancerId) throw badRequest('Listener and pool are on different load balancers.');
  return underLock(store, caller, lbId, async (tx, lb) => {
    await withinQuota(tx, lb.projectId, 'pool');
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
