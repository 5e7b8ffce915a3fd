// RBAC policies on networks: grants of access_as_shared or access_as_external to one project or
// to every project ('*'). A grant another project depends on (its ports on a shared network, its
// router gateways and floating IPs on an external one) is not taken back: 409 RbacPolicyInUse.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, ne, notInArray } from 'drizzle-orm';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { floatingIps, networks, ports, rbacPolicies, routers, type RbacAction } from './tables.ts';
import { visibleNetworks, type Caller } from './visibility.ts';

export type RbacPolicy = typeof rbacPolicies.$inferSelect;

export const RBAC_ACTIONS: RbacAction[] = ['access_as_shared', 'access_as_external'];

const policyNotFound = (id: string) => notFound(`RBAC policy of type network with ID ${id} not found`, 'RbacPolicyNotFound');
const visiblePolicies = (caller: Caller) => (caller.isAdmin ? undefined : eq(rbacPolicies.projectId, caller.projectId));

/** Locks the network against ports being made on it (they take 'key share') while its grants change. */
async function lockNetwork(tx: Db, caller: Caller, id: string) {
  const [row] = await tx
    .select()
    .from(networks)
    .where(and(eq(networks.id, id), visibleNetworks(caller)))
    .for('update');
  if (!row) throw notFound(`Network ${id} could not be found.`, 'NetworkNotFound');
  return row;
}

/** The projects other than the owner that depend on a grant of the action on the network. */
async function dependants(tx: Db, network: { id: string; projectId: string }, action: RbacAction): Promise<string[]> {
  if (action === 'access_as_shared') {
    const rows = await tx
      .selectDistinct({ projectId: ports.projectId })
      .from(ports)
      .where(and(eq(ports.networkId, network.id), notInArray(ports.projectId, ['', network.projectId]), ne(ports.deviceOwner, 'network:dhcp')));
    return rows.map((r) => r.projectId);
  }
  const gateways = await tx
    .selectDistinct({ projectId: routers.projectId })
    .from(routers)
    .innerJoin(ports, and(eq(ports.deviceId, routers.id), eq(ports.deviceOwner, 'network:router_gateway')))
    .where(and(eq(ports.networkId, network.id), ne(routers.projectId, network.projectId)));
  const fips = await tx
    .selectDistinct({ projectId: floatingIps.projectId })
    .from(floatingIps)
    .where(and(eq(floatingIps.floatingNetworkId, network.id), ne(floatingIps.projectId, network.projectId)));
  return [...new Set([...gateways, ...fips].map((r) => r.projectId))];
}

/** Refuses to take these grants back when a project that depends on them would keep no other. */
async function checkRevocable(tx: Db, network: { id: string; projectId: string }, action: RbacAction, revoked: RbacPolicy[]): Promise<void> {
  if (!revoked.length) return;
  const left = await tx
    .select({ target: rbacPolicies.targetTenant })
    .from(rbacPolicies)
    .where(
      and(
        eq(rbacPolicies.objectId, network.id),
        eq(rbacPolicies.action, action),
        notInArray(
          rbacPolicies.id,
          revoked.map((p) => p.id),
        ),
      ),
    );
  const targets = new Set(left.map((l) => l.target));
  if (targets.has('*')) return;
  const stranded = (await dependants(tx, network, action)).filter((p) => !targets.has(p));
  if (stranded.length)
    throw conflict(
      `RBAC policy on object ${network.id} cannot be removed because other objects depend on it.\nDetails: Project ${stranded[0]} still uses network ${network.id}.`,
      'RbacPolicyInUse',
    );
}

export interface GrantInput {
  projectId: string;
  networkId: string;
  action: RbacAction;
  targetTenant: string;
}

/** Adds a grant (the network already locked and its rights checked); 409 when it exists. */
export async function grant(tx: Db, input: GrantInput): Promise<RbacPolicy> {
  const [row] = await tx
    .insert(rbacPolicies)
    .values({ id: randomUUID(), projectId: input.projectId, objectId: input.networkId, action: input.action, targetTenant: input.targetTenant })
    .onConflictDoNothing()
    .returning();
  if (!row) throw conflict('An RBAC policy already exists with those values.', 'DuplicateRbacPolicy');
  // A network granted as external is an external network, as in Neutron.
  if (input.action === 'access_as_external') await tx.update(networks).set({ external: true }).where(eq(networks.id, input.networkId));
  return row;
}

/** Takes back the network's grants of the action (to these targets, or all), unless in use. */
export async function revoke(tx: Db, network: { id: string; projectId: string }, action: RbacAction, targets?: string[]): Promise<void> {
  const revoked = await tx
    .select()
    .from(rbacPolicies)
    .where(and(eq(rbacPolicies.objectId, network.id), eq(rbacPolicies.action, action), targets && inArray(rbacPolicies.targetTenant, targets)));
  await checkRevocable(tx, network, action, revoked);
  if (revoked.length)
    await tx.delete(rbacPolicies).where(
      inArray(
        rbacPolicies.id,
        revoked.map((p) => p.id),
      ),
    );
}

function mayGrant(caller: Caller, network: { projectId: string }, targetTenant: string): void {
  if (caller.isAdmin) return;
  if (network.projectId !== caller.projectId) throw forbidden("Policy doesn't allow create_rbac_policy to be performed.");
  // Only the admin shares with every project.
  if (targetTenant === '*') throw forbidden("Policy doesn't allow create_rbac_policy:target_tenant to be performed.");
}

export async function createPolicy(tx: Db, caller: Caller, input: GrantInput): Promise<RbacPolicy> {
  if (!input.targetTenant) throw badRequest("Invalid input for target_tenant. Reason: '' Blank strings are not permitted.");
  const network = await lockNetwork(tx, caller, input.networkId);
  mayGrant(caller, network, input.targetTenant);
  return grant(tx, input);
}

export async function getPolicy(db: Db, caller: Caller, id: string, lock = false): Promise<RbacPolicy> {
  const q = db
    .select()
    .from(rbacPolicies)
    .where(and(eq(rbacPolicies.id, id), visiblePolicies(caller)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw policyNotFound(id);
  return row;
}

export const listPolicies = (db: Db, caller: Caller): Promise<RbacPolicy[]> =>
  db.select().from(rbacPolicies).where(visiblePolicies(caller)).orderBy(asc(rbacPolicies.id));

/** A policy's target changes: the old target loses the grant (unless in use), the new gains it. */
export async function updatePolicy(tx: Db, caller: Caller, id: string, targetTenant: string): Promise<RbacPolicy> {
  const policy = await getPolicy(tx, caller, id);
  const network = await lockNetwork(tx, { projectId: '', isAdmin: true }, policy.objectId);
  if (targetTenant === policy.targetTenant) return policy;
  mayGrant(caller, network, targetTenant);
  await checkRevocable(tx, network, policy.action, [policy]);
  // The network is locked: no other change of its grants can slip between this check and the update.
  const [twin] = await tx
    .select({ id: rbacPolicies.id })
    .from(rbacPolicies)
    .where(and(eq(rbacPolicies.objectId, policy.objectId), eq(rbacPolicies.action, policy.action), eq(rbacPolicies.targetTenant, targetTenant)));
  if (twin) throw conflict('An RBAC policy already exists with those values.', 'DuplicateRbacPolicy');
  const [row] = await tx.update(rbacPolicies).set({ targetTenant }).where(eq(rbacPolicies.id, id)).returning();
  return row!;
}

export async function deletePolicy(tx: Db, caller: Caller, id: string): Promise<void> {
  const policy = await getPolicy(tx, caller, id);
  const network = await lockNetwork(tx, { projectId: '', isAdmin: true }, policy.objectId);
  await checkRevocable(tx, network, policy.action, [policy]);
  await tx.delete(rbacPolicies).where(eq(rbacPolicies.id, id));
}
