// Address scopes: a name for a set of subnet pools whose prefixes never overlap. A scope is its
// project's, or shared with every project by the admin.

import { randomUUID } from 'node:crypto';
import { and, asc, eq, or } from 'drizzle-orm';
import { conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { addressScopes, subnetPools } from './tables.ts';
import type { Caller } from './visibility.ts';

export type AddressScope = typeof addressScopes.$inferSelect;

const scopeNotFound = (id: string) => notFound(`Address scope ${id} could not be found.`, 'AddressScopeNotFound');
const visibleScopes = (caller: Caller) => (caller.isAdmin ? undefined : or(eq(addressScopes.projectId, caller.projectId), eq(addressScopes.shared, true)));

export async function getScope(db: Db, caller: Caller, id: string, lock = false): Promise<AddressScope> {
  const q = db
    .select()
    .from(addressScopes)
    .where(and(eq(addressScopes.id, id), visibleScopes(caller)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw scopeNotFound(id);
  return row;
}

export const listScopes = (db: Db, caller: Caller) => db.select().from(addressScopes).where(visibleScopes(caller)).orderBy(asc(addressScopes.id));

export async function createScope(tx: Db, input: { projectId: string; name: string; ipVersion: 4 | 6; shared: boolean }): Promise<AddressScope> {
  const [row] = await tx
    .insert(addressScopes)
    .values({ id: randomUUID(), ...input })
    .returning();
  return row!;
}

export async function updateScope(tx: Db, caller: Caller, id: string, changes: { name?: string; shared?: boolean }): Promise<AddressScope> {
  const row = await getScope(tx, caller, id, true);
  if (!caller.isAdmin && row.projectId !== caller.projectId) throw forbidden("Policy doesn't allow update_address_scope to be performed.");
  // Neutron shares a scope but never takes the sharing back.
  if (changes.shared === false && row.shared)
    throw conflict(`Unable to complete operation on address scope ${id}: Shared address scope can't be unshared.`, 'AddressScopeUpdateError');
  const [updated] = await tx
    .update(addressScopes)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(addressScopes.id, id))
    .returning();
  return updated!;
}

export async function deleteScope(tx: Db, caller: Caller, id: string): Promise<void> {
  const row = await getScope(tx, caller, id, true);
  if (!caller.isAdmin && row.projectId !== caller.projectId) throw forbidden("Policy doesn't allow delete_address_scope to be performed.");
  const [pool] = await tx.select({ id: subnetPools.id }).from(subnetPools).where(eq(subnetPools.addressScopeId, id)).limit(1);
  if (pool)
    throw conflict(`Unable to complete operation on address scope ${id}. There are one or more subnet pools in use on the address scope.`, 'AddressScopeInUse');
  await tx.delete(addressScopes).where(eq(addressScopes.id, id));
}
