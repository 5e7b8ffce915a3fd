import { randomUUID } from 'node:crypto';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Store } from '../lib/store/db.ts';
import { isInSubnet, usableSubnet } from '../network/for-loadbalancer.ts';
import { findChild, underLock, type MemberRow } from './children.ts';
import type { Caller } from './provisioning.ts';
import { members } from './tables.ts';
import { withinQuota } from './quotas.ts';

export interface MemberInput {
  projectId: string;
  poolId: string;
  address: string;
  protocolPort: number;
  subnetId?: string;
  weight?: number;
  backup?: boolean;
  name?: string;
  adminStateUp?: boolean;
  monitorAddress?: string;
  monitorPort?: number;
  tags?: string[];
}

/** A member on a subnet the project may use (Neutron's rules: its own networks and those shared
 * with it), with its address on it: reached through the load balancer's leg on that subnet (the
 * VIP's, or one the agent adds). A member without a subnet is routed through the VIP's gateway. */
export async function createMember(store: Store, caller: Caller, input: MemberInput): Promise<MemberRow> {
  const pool = await findChild(store.db, caller, 'pool', input.poolId);
  return underLock(store, caller, pool.loadBalancerId, async (tx, lb) => {
    await withinQuota(tx, lb.projectId, 'member');
    if (input.subnetId) {
      const subnet = await usableSubnet(tx, { projectId: lb.projectId, isAdmin: false }, input.subnetId);
      if (!subnet) throw badRequest(`Validation failure: Subnet ${input.subnetId} not found.`);
      if (!isInSubnet(input.address, subnet.cidr)) throw badRequest(`Validation failure: Member address ${input.address} is not on subnet ${input.subnetId}.`);
    }
    const [row] = await tx
      .insert(members)
      .values({ ...input, id: randomUUID(), projectId: lb.projectId, loadBalancerId: lb.id, subnetId: input.subnetId ?? null })
      .onConflictDoNothing()
      .returning();
    if (!row) throw conflict(`Duplicate member '${input.address}:${input.protocolPort}' in pool ${input.poolId}.`, 'DuplicateMemberEntry');
    return row;
  }, { kind: 'pool', id: pool.id });
}
