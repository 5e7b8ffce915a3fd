import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import { conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { lockProjectQuota, reserve } from './quotas.ts';
import { defaultSecurityGroups, portSecurityGroups, securityGroupRules, securityGroups } from './tables.ts';

export type SecurityGroupRow = typeof securityGroups.$inferSelect;
export type SecurityGroupRuleRow = typeof securityGroupRules.$inferSelect;

export interface SecurityGroup extends SecurityGroupRow {
  rules: SecurityGroupRuleRow[];
}

/** Whose groups a caller sees: one project's, or (the admin) every project's. */
export type Visibility = { projectId: string } | 'all';

const visibleTo = (v: Visibility) => (v === 'all' ? undefined : eq(securityGroups.projectId, v.projectId));

const notFoundError = (id: string) => notFound(`Security group ${id} does not exist`, 'SecurityGroupNotFound');

/** The rules Neutron gives a new group: egress anywhere for both families and, for the project's
 * default group, ingress from the group's own members. */
function initialRules(groupId: string, projectId: string, isDefault: boolean): (typeof securityGroupRules.$inferInsert)[] {
  return (['IPv4', 'IPv6'] as const).flatMap((ethertype) => [
    ...(isDefault ? [{ id: randomUUID(), securityGroupId: groupId, projectId, direction: 'ingress' as const, ethertype, remoteGroupId: groupId }] : []),
    { id: randomUUID(), securityGroupId: groupId, projectId, direction: 'egress' as const, ethertype },
  ]);
}

async function insertGroup(tx: Db, g: { projectId: string; name: string; description: string; stateful: boolean }, isDefault: boolean): Promise<string> {
  const id = randomUUID();
  await tx.insert(securityGroups).values({ id, ...g });
  await tx.insert(securityGroupRules).values(initialRules(id, g.projectId, isDefault));
  return id;
}

const findDefault = async (tx: Db, projectId: string) =>
  (await tx.select().from(defaultSecurityGroups).where(eq(defaultSecurityGroups.projectId, projectId)))[0]?.securityGroupId;

/** The project's `default` group, made (with Neutron's default rules) on first need. */
export async function defaultSecurityGroupId(tx: Db, projectId: string): Promise<string> {
  const existing = await findDefault(tx, projectId);
  if (existing) return existing;
  // The quota lock orders racing first requests (they wait here, then find the winner's group)
  // and is the lock every create already takes first, so taking it here adds no deadlock.
  await lockProjectQuota(tx, projectId);
  const winner = await findDefault(tx, projectId);
  if (winner) return winner;
  const id = await insertGroup(tx, { projectId, name: 'default', description: 'Default security group', stateful: true }, true);
  // The primary key is the last word should a writer ever skip the lock: the loser drops its copy.
  const [claimed] = await tx.insert(defaultSecurityGroups).values({ projectId, securityGroupId: id }).onConflictDoNothing().returning();
  if (claimed) return id;
  await tx.delete(securityGroups).where(eq(securityGroups.id, id));
  return (await findDefault(tx, projectId))!;
}

/** Resolves names or ids of groups the project may use to ids; 404 for an unknown one. */
export async function resolveSecurityGroups(tx: Db, projectId: string, namesOrIds: string[]): Promise<string[]> {
  const wanted = [...new Set(namesOrIds)];
  if (!wanted.length) return [];
  const rows = await tx
    .select({ id: securityGroups.id, name: securityGroups.name })
    .from(securityGroups)
    .where(and(eq(securityGroups.projectId, projectId), or(inArray(securityGroups.id, wanted), inArray(securityGroups.name, wanted))));
  const ids: string[] = [];
  for (const key of wanted) {
    const byId = rows.find((r) => r.id === key);
    const byName = rows.filter((r) => r.name === key);
    if (byId) ids.push(byId.id);
    else if (byName.length === 1) ids.push(byName[0]!.id);
    else if (byName.length > 1) throw conflict(`Multiple security groups found matching '${key}'. Use an ID to be more specific.`, 'NoUniqueMatch');
    // A new project's first server names `default` before anything made it.
    else if (key === 'default') ids.push(await defaultSecurityGroupId(tx, projectId));
    else throw notFoundError(key);
  }
  return [...new Set(ids)];
}

async function withRules(db: Db, groups: SecurityGroupRow[]): Promise<SecurityGroup[]> {
  const ids = groups.map((g) => g.id);
  const rules = ids.length
    ? await db
        .select()
        .from(securityGroupRules)
        .where(inArray(securityGroupRules.securityGroupId, ids))
        .orderBy(asc(securityGroupRules.createdAt), asc(securityGroupRules.id))
    : [];
  return groups.map((g) => ({ ...g, rules: rules.filter((r) => r.securityGroupId === g.id) }));
}

/** A group the caller sees, or Neutron's 404. */
export async function getSecurityGroupRow(db: Db, v: Visibility, id: string, lock = false): Promise<SecurityGroupRow> {
  const query = db
    .select()
    .from(securityGroups)
    .where(and(eq(securityGroups.id, id), visibleTo(v)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFoundError(id);
  return row;
}

export async function getSecurityGroup(db: Db, v: Visibility, id: string): Promise<SecurityGroup> {
  return (await withRules(db, [await getSecurityGroupRow(db, v, id)]))[0]!;
}

export async function listSecurityGroups(db: Db, v: Visibility): Promise<SecurityGroup[]> {
  const rows = await db.select().from(securityGroups).where(visibleTo(v)).orderBy(asc(securityGroups.createdAt), asc(securityGroups.id));
  return withRules(db, rows);
}

const isDefaultGroup = async (db: Db, id: string) =>
  (await db.select().from(defaultSecurityGroups).where(eq(defaultSecurityGroups.securityGroupId, id))).length > 0;

/** The name `default` belongs to the group the cloud makes; no other may take it. */
function checkName(name: string | undefined): void {
  if (name !== undefined && name.toLowerCase() === 'default') throw conflict('Default security group already exists.', 'SecurityGroupDefaultAlreadyExists');
}

export interface SecurityGroupInput {
  projectId: string;
  name: string;
  description: string;
  stateful: boolean;
}

export async function createSecurityGroup(tx: Db, input: SecurityGroupInput): Promise<SecurityGroup> {
  checkName(input.name);
  // A project's first group comes with its default one, as in Neutron; made first, it counts.
  await defaultSecurityGroupId(tx, input.projectId);
  await reserve(tx, input.projectId, 'security_group');
  // Neutron counts the new group's own egress rules too.
  await reserve(tx, input.projectId, 'security_group_rule', 2);
  const id = await insertGroup(tx, input, false);
  await dataplaneChanged(tx, 'firewall');
  return getSecurityGroup(tx, 'all', id);
}

export interface SecurityGroupChanges {
  name?: string;
  description?: string;
  stateful?: boolean;
}

export async function updateSecurityGroup(tx: Db, v: Visibility, id: string, changes: SecurityGroupChanges): Promise<SecurityGroup> {
  const row = await getSecurityGroupRow(tx, v, id, true);
  if (changes.name !== undefined && (await isDefaultGroup(tx, id)))
    throw conflict('Updating default security group not allowed.', 'SecurityGroupCannotUpdateDefault');
  checkName(changes.name);
  if (changes.stateful !== undefined && changes.stateful !== row.stateful && (await inUse(tx, id)))
    throw conflict(`Security Group ${id} in use.`, 'SecurityGroupInUse');
  await tx
    .update(securityGroups)
    .set({ ...changes, revision: sql`${securityGroups.revision} + 1`, updatedAt: new Date() })
    .where(eq(securityGroups.id, id));
  await dataplaneChanged(tx, 'firewall');
  return getSecurityGroup(tx, 'all', id);
}

export async function setSecurityGroupTags(tx: Db, v: Visibility, id: string, tags: string[]): Promise<string[]> {
  await getSecurityGroupRow(tx, v, id, true);
  const unique = [...new Set(tags)];
  await tx
    .update(securityGroups)
    .set({ tags: unique, revision: sql`${securityGroups.revision} + 1`, updatedAt: new Date() })
    .where(eq(securityGroups.id, id));
  return unique;
}

const inUse = async (db: Db, id: string) => (await db.select().from(portSecurityGroups).where(eq(portSecurityGroups.securityGroupId, id)).limit(1)).length > 0;

/** Deletes a group and its rules, and the rules of other groups that name it as their remote.
 * The default group is the admin's to delete; a group a port uses is nobody's. */
export async function deleteSecurityGroup(tx: Db, v: Visibility, id: string, isAdmin: boolean): Promise<void> {
  await getSecurityGroupRow(tx, v, id, true);
  if (await inUse(tx, id)) throw conflict(`Security Group ${id} in use.`, 'SecurityGroupInUse');
  if (!isAdmin && (await isDefaultGroup(tx, id)))
    throw conflict('Insufficient rights for removing default security group.', 'SecurityGroupCannotRemoveDefault');
  await tx.delete(securityGroups).where(eq(securityGroups.id, id));
  await dataplaneChanged(tx, 'firewall');
}
