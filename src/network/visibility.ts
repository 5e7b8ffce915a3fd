// Who sees and uses what: every query that decides whether a project may see or use a network,
// a subnet or a port goes through these functions, so that RBAC grants are honoured in one place.
// A project sees its own resources, the networks granted to it (or to every project, '*') by an
// RBAC policy, and those networks' subnets; it puts ports on its own networks and on those shared
// with it (access_as_shared), never on a network that is only external to it.

import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { networks, ports, rbacPolicies, subnets, type RbacAction } from './tables.ts';

/** Who acts: the project whose resources it owns, and whether it is the cloud's admin (who sees
 * and may touch every project's). */
export interface Caller {
  projectId: string;
  isAdmin: boolean;
}

/** The ids of the networks an RBAC policy grants to the project (for one action, or any). */
const granted = (projectId: string, action?: RbacAction): SQL =>
  sql`(select ${rbacPolicies.objectId} from ${rbacPolicies} where ${rbacPolicies.targetTenant} in ('*', ${projectId})${
    action ? sql` and ${rbacPolicies.action} = ${action}` : sql``
  })`;

const ownedNetworks = (projectId: string): SQL => sql`(select ${networks.id} from ${networks} where ${networks.projectId} = ${projectId})`;

/** The networks the caller sees: its own, and those shared or external to it. */
export const visibleNetworks = (caller: Caller): SQL | undefined =>
  caller.isAdmin ? undefined : or(eq(networks.projectId, caller.projectId), inArray(networks.id, granted(caller.projectId)));

/** The networks a project may put ports (and so servers) on: its own and those shared with it. */
export const usableNetworks = (projectId: string): SQL | undefined =>
  or(eq(networks.projectId, projectId), inArray(networks.id, granted(projectId, 'access_as_shared')));

/** The subnets the caller sees: its own, and every subnet of a network it owns or sees by a grant. */
export const visibleSubnets = (caller: Caller): SQL | undefined =>
  caller.isAdmin
    ? undefined
    : or(
        eq(subnets.projectId, caller.projectId),
        inArray(subnets.networkId, ownedNetworks(caller.projectId)),
        inArray(subnets.networkId, granted(caller.projectId)),
      );

/** The ports the caller sees: its project's, and every port on a network its project owns (never
 * another project's port on a network shared with it). */
export const visiblePorts = (caller: Caller): SQL | undefined =>
  caller.isAdmin ? undefined : or(eq(ports.projectId, caller.projectId), inArray(ports.networkId, ownedNetworks(caller.projectId)));

/** Whether an RBAC policy grants the network to the project for the action. */
export async function isGranted(db: Db, networkId: string, projectId: string, action: RbacAction): Promise<boolean> {
  const [row] = await db
    .select({ id: rbacPolicies.id })
    .from(rbacPolicies)
    .where(and(eq(rbacPolicies.objectId, networkId), eq(rbacPolicies.action, action), inArray(rbacPolicies.targetTenant, ['*', projectId])))
    .limit(1);
  return !!row;
}

/** Of these networks, those shared with the project: what `shared` shows to it, as in Neutron. */
export async function sharedWith(db: Db, networkIds: string[], projectId: string): Promise<Set<string>> {
  if (!networkIds.length) return new Set();
  const rows = await db
    .selectDistinct({ id: rbacPolicies.objectId })
    .from(rbacPolicies)
    .where(and(inArray(rbacPolicies.objectId, networkIds), eq(rbacPolicies.action, 'access_as_shared'), inArray(rbacPolicies.targetTenant, ['*', projectId])));
  return new Set(rows.map((r) => r.id));
}
