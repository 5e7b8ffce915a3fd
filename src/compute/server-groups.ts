import { randomUUID } from 'node:crypto';
import { and, count, eq, inArray, isNotNull, ne, sql, type SQL } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { allows } from '../lib/http/policy.ts';
import { badRequest, notFound, overQuota } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { limitsOf, QUOTA_DEFAULTS, type QuotaSet } from './quotas.ts';
import { serverGroupMembers, serverGroups, servers } from './tables.ts';

export type ServerGroup = typeof serverGroups.$inferSelect;
export type Policy = ServerGroup['policy'];
export const POLICIES: Policy[] = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

const lock = (tx: Db, key: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`compute-server-groups:${key}`}))`);

const isAdmin = (auth: AuthContext) => allows('compute:context_is_admin', auth);

/** The caller's project's groups, or every project's for the admin who asks. */
const scope = (auth: AuthContext, allProjects: boolean): SQL | undefined =>
  allProjects && isAdmin(auth) ? undefined : eq(serverGroups.projectId, auth.project?.id ?? '');

/** A new group of the caller's project, within the project's server_groups quota. */
export async function createGroup(
  tx: Db,
  auth: AuthContext,
  req: { name: string; policy: Policy; rules: ServerGroup['rules'] },
  defaults: QuotaSet = QUOTA_DEFAULTS,
): Promise<ServerGroup> {
  const projectId = auth.project!.id;
  if (req.rules.max_server_per_host !== undefined && req.policy !== 'anti-affinity') {
    throw badRequest('Only anti-affinity policy supports rules.');
  }
  await lock(tx, projectId);
  const [{ limit }, used] = await Promise.all([limitsOf(tx, projectId, defaults).then((l) => ({ limit: l.server_groups })), groupsUsed(tx, projectId)]);
  if (limit >= 0 && used + 1 > limit) throw overQuota('Quota exceeded, too many server groups.');
  const [row] = await tx
    .insert(serverGroups)
    .values({ id: randomUUID(), projectId, userId: auth.userId, ...req })
    .returning();
  return row!;
}

/** How many groups a project has, for its quota and its limits. */
export async function groupsUsed(db: Db, projectId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(serverGroups).where(eq(serverGroups.projectId, projectId));
  return row?.n ?? 0;
}

export async function listGroups(db: Db, auth: AuthContext, allProjects: boolean, page: { limit?: number; offset?: number }): Promise<ServerGroup[]> {
  const q = db
    .select()
    .from(serverGroups)
    .where(scope(auth, allProjects))
    .orderBy(serverGroups.createdAt, serverGroups.id)
    .offset(page.offset ?? 0);
  return page.limit === undefined ? q : q.limit(page.limit);
}

/** A group the caller may see: its project's, or any for the admin. */
export async function getGroup(db: Db, auth: AuthContext, id: string): Promise<ServerGroup> {
  const [row] = await db
    .select()
    .from(serverGroups)
    .where(and(eq(serverGroups.id, id), scope(auth, true)));
  if (!row) throw notFound(`Instance group ${id} could not be found.`);
  return row;
}

/** Its members leave the group; the servers themselves stay. */
export async function deleteGroup(tx: Db, auth: AuthContext, id: string): Promise<void> {
  const g = await getGroup(tx, auth, id);
  await tx.delete(serverGroups).where(eq(serverGroups.id, g.id));
}

/** The members of each group, by group id. */
export async function membersOf(db: Db, groupIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupIds.map((id) => [id, []]));
  if (!groupIds.length) return out;
  const rows = await db.select().from(serverGroupMembers).where(inArray(serverGroupMembers.groupId, groupIds));
  for (const r of rows) out.get(r.groupId)!.push(r.serverId);
  return out;
}

/** The group of each server among ids that is in one. */
export async function groupsOfServers(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db.select().from(serverGroupMembers).where(inArray(serverGroupMembers.serverId, ids));
  return new Map(rows.map((r) => [r.serverId, r.groupId]));
}

/**
 * Puts new servers into the group their create request's `group` hint names, within the
 * server_group_members quota; call it in the transaction that inserts them. The scheduler then
 * places them by the group's policy.
 */
export async function joinGroup(tx: Db, auth: AuthContext, groupId: string, serverIds: string[], defaults: QuotaSet = QUOTA_DEFAULTS): Promise<void> {
  const g = await getGroup(tx, auth, groupId).catch(() => {
    throw badRequest(`Instance group ${groupId} could not be found.`);
  });
  await lock(tx, g.id);
  const [{ limit }, [row]] = await Promise.all([
    limitsOf(tx, g.projectId, defaults).then((l) => ({ limit: l.server_group_members })),
    tx.select({ n: count() }).from(serverGroupMembers).where(eq(serverGroupMembers.groupId, g.id)),
  ]);
  if (limit >= 0 && (row?.n ?? 0) + serverIds.length > limit) throw overQuota('Quota exceeded, too many servers in group');
  await tx.insert(serverGroupMembers).values(serverIds.map((serverId) => ({ serverId, groupId: g.id })));
}

/** What the scheduler needs of a server's group: its policy, and how many of its other members each host holds. */
export async function placementOf(tx: Db, serverId: string): Promise<{ group: ServerGroup; perHost: Map<string, number> } | undefined> {
  const [m] = await tx
    .select({ group: serverGroups })
    .from(serverGroupMembers)
    .innerJoin(serverGroups, eq(serverGroups.id, serverGroupMembers.groupId))
    .where(eq(serverGroupMembers.serverId, serverId));
  if (!m) return undefined;
  const rows = await tx
    .select({ host: servers.host, n: count() })
    .from(serverGroupMembers)
    .innerJoin(servers, eq(servers.id, serverGroupMembers.serverId))
    .where(and(eq(serverGroupMembers.groupId, m.group.id), ne(servers.id, serverId), isNotNull(servers.host)))
    .groupBy(servers.host);
  return { group: m.group, perHost: new Map(rows.map((r) => [r.host!, r.n])) };
}
