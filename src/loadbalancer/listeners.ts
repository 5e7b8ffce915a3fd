import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { underLock, type ListenerRow } from './children.ts';
import { checkPortFree } from './loadbalancers.ts';
import type { Caller } from './provisioning.ts';
import { listeners, pools, type ListenerProtocol } from './tables.ts';
import { withinQuota } from './quotas.ts';

export interface ListenerInput {
  projectId: string;
  loadBalancerId: string;
  protocol: ListenerProtocol;
  protocolPort: number;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  connectionLimit?: number;
  defaultPoolId?: string | null;
  timeoutClientData?: number;
  timeoutMemberConnect?: number;
  timeoutMemberData?: number;
  timeoutTcpInspect?: number;
  insertHeaders?: Record<string, string>;
  allowedCidrs?: string[] | null;
  tags?: string[];
}

/** Octavia's rule: an HTTP listener takes an HTTP pool; a TCP listener an HTTP or TCP pool. */
export const poolFits = (listener: ListenerProtocol, pool: ListenerProtocol) => listener === 'TCP' || pool === listener;

/** The pool a listener may take as its default: of the same load balancer, of a fitting protocol,
 * and nobody else's default already. */
export async function checkDefaultPool(tx: Db, lbId: string, protocol: ListenerProtocol, poolId: string, listenerId?: string): Promise<void> {
  const [pool] = await tx
    .select()
    .from(pools)
    .where(and(eq(pools.id, poolId), eq(pools.loadBalancerId, lbId)));
  if (!pool || pool.provisioningStatus === 'PENDING_DELETE') throw badRequest(`Pool ${poolId} not found on this load balancer.`);
  if (!poolFits(protocol, pool.protocol)) throw badRequest(`The pool protocol '${pool.protocol}' is invalid while the listener protocol is '${protocol}'.`);
  const [other] = await tx.select({ id: listeners.id }).from(listeners).where(eq(listeners.defaultPoolId, poolId));
  if (other && other.id !== listenerId) throw conflict(`Pool ${poolId} is already in use by listener ${other.id}.`);
}

export async function createListener(store: Store, caller: Caller, input: ListenerInput): Promise<ListenerRow> {
  return underLock(store, caller, input.loadBalancerId, async (tx, lb) => {
    await withinQuota(tx, lb.projectId, 'listener');
    await checkPortFree(tx, lb.id, input.protocolPort);
    if (input.defaultPoolId) await checkDefaultPool(tx, lb.id, input.protocol, input.defaultPoolId);
    const [row] = await tx
      .insert(listeners)
      .values({ ...input, id: randomUUID(), projectId: lb.projectId, defaultPoolId: input.defaultPoolId ?? null })
      .returning();
    return row!;
  });
}
