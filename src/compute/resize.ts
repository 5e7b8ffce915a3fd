import { and, desc, eq, inArray } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { bindServerPorts } from '../network/for-compute.ts';
import { extraSpecsOf, getFlavor } from './flavors.ts';
import { recordAction, type ActionContext } from './instance-actions.ts';
import type { Quotas } from './quotas.ts';
import { checkLock, checkState, getServer, refId, SERVERS_CHANNEL, setSpec, type Server } from './servers.ts';
import { migrations, servers, type FlavorCopy } from './tables.ts';

// Nova's cold resize on one host (a cold migration to another host, moves.ts, shares its confirm
// and revert): the server moves onto another flavor (its guest stopped, its
// root disk kept aside and grown, started again with the new vCPUs and RAM), then waits in
// VERIFY_RESIZE until the user confirms (the kept disk and the old flavor are dropped) or reverts
// (the kept disk and the old flavor come back). Each resize leaves a migration record.

export type Migration = typeof migrations.$inferSelect;

/** The statuses of a migration, as Nova names them. */
export type MigrationStatus =
  | 'pre-migrating'
  | 'migrating'
  | 'post-migrating'
  | 'finished'
  | 'confirming'
  | 'confirmed'
  | 'reverting'
  | 'reverted'
  | 'error'
  // An evacuation's.
  | 'accepted'
  | 'done'
  | 'completed'
  // A live migration's, between accepted and completed, or aborted.
  | 'preparing'
  | 'running'
  | 'cancelling'
  | 'cancelled';

/** The statuses in which a migration is over, whichever way it went. */
export const MOVE_ENDED: MigrationStatus[] = ['confirmed', 'reverted', 'error', 'done', 'completed', 'cancelled'];

/** Nova's volume-backed servers have no image and no root disk of the flavor's size. */
const volumeBacked = (s: Server) => !s.imageId;

export async function resizeServer(tx: Db, ctx: ActionContext, id: string, flavorRef: string, quotas: Quotas): Promise<void> {
  const { auth } = ctx;
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'resize');
  const flavor = await getFlavor(tx, auth, refId(flavorRef)).catch(() => {
    throw badRequest('Unable to locate requested flavor.');
  });
  if (flavor.id === s.flavor.id) throw badRequest('When resizing, instances must change flavor!');
  if (!volumeBacked(s)) {
    // Nova's CannotResizeDisk: a file system cannot be shrunk under the guest's feet.
    if (flavor.disk === 0 && s.flavor.disk !== 0) throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.');
    if (flavor.disk < s.flavor.disk) throw badRequest('Server disk was unable to be resized because: Resizing to a smaller disk flavor is not allowed.');
  }
  await quotas.reserveGrowth(tx, s.projectId, { vcpus: flavor.vcpus - s.flavor.vcpus, ram: flavor.ram - s.flavor.ram });
  const copy: FlavorCopy = {
    ...{ id: flavor.id, name: flavor.name, ram: flavor.ram, vcpus: flavor.vcpus, disk: flavor.disk, ephemeral: flavor.ephemeral, swap: flavor.swap },
    extraSpecs: await extraSpecsOf(tx, flavor.id),
  };
  await tx.update(servers).set({ flavor: copy, oldFlavor: s.flavor, resizeStep: 'resize' }).where(eq(servers.id, s.id));
  await tx.insert(migrations).values({
    ...{ serverId: s.id, projectId: s.projectId, userId: auth.userId, migrationType: 'resize', status: 'pre-migrating' },
    ...{ sourceCompute: s.host, destCompute: s.host, oldFlavorId: s.flavor.id, newFlavorId: flavor.id },
  });
  await setSpec(tx, s, {});
  await recordAction(tx, ctx, id, { action: 'resize', event: 'compute_resize_instance' });
}

/** The server's latest migration in one of these statuses. */
export async function latestMigration(db: Db, serverId: string, statuses: MigrationStatus[]): Promise<Migration | undefined> {
  const [m] = await db
    .select()
    .from(migrations)
    .where(and(eq(migrations.serverId, serverId), inArray(migrations.status, statuses)))
    .orderBy(desc(migrations.id))
    .limit(1);
  return m;
}

/** The server's resize that waits for a confirm or a revert; Nova's 400 when there is none. */
async function finishedResize(tx: Db, s: Server): Promise<Migration> {
  const m = await latestMigration(tx, s.id, ['finished']);
  if (!m) throw badRequest('Instance has not been resized.');
  return m;
}

async function moveMigration(db: Db, m: Migration, to: MigrationStatus): Promise<Migration | undefined> {
  const [row] = await db.update(migrations).set({ status: to, updatedAt: new Date() }).where(eq(migrations.id, m.id)).returning();
  // Who watches the server sees its move end (the volume service lets the other host go).
  if (row && MOVE_ENDED.includes(to)) await notify(db, SERVERS_CHANNEL, m.serverId);
  return row;
}

/** Confirms a resize: by the user, or by the auto-confirm once resize_confirm_window has passed. */
export async function confirmResize(tx: Db, s: Server): Promise<void> {
  await moveMigration(tx, await finishedResize(tx, s), 'confirming');
  await tx.update(servers).set({ oldFlavor: null, resizeStep: 'confirm' }).where(eq(servers.id, s.id));
  await setSpec(tx, s, {});
}

export async function confirmResizeServer(tx: Db, ctx: ActionContext, id: string): Promise<void> {
  const { auth } = ctx;
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  // A server that is not resized has no resize to confirm: Nova's 400 before its state's 409.
  if (s.vmState === 'resized' && s.resizeStep !== 'resize') throw badRequest('Instance has not been resized.');
  await checkState(tx, s, 'confirmResize');
  await confirmResize(tx, s);
  await recordAction(tx, ctx, id, { action: 'confirmResize', event: 'compute_confirm_resize' });
}

export async function revertResizeServer(tx: Db, ctx: ActionContext, id: string): Promise<void> {
  const { auth } = ctx;
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  if (s.vmState === 'resized' && s.resizeStep !== 'resize') throw badRequest('Instance has not been resized.');
  await checkState(tx, s, 'revertResize');
  const m = await finishedResize(tx, s);
  if (!s.oldFlavor) throw badRequest('Instance has not been resized.');
  await moveMigration(tx, m, 'reverting');
  // A cold migration goes back to the host it came from, where the guest was kept.
  const back = m.sourceCompute !== null && m.sourceCompute !== s.host ? m.sourceCompute : undefined;
  await tx
    .update(servers)
    .set({ flavor: s.oldFlavor, oldFlavor: null, resizeStep: 'revert', ...(back ? { host: back } : {}) })
    .where(eq(servers.id, s.id));
  if (back) await bindServerPorts(tx, s, back);
  await setSpec(tx, s, {});
  await recordAction(tx, ctx, id, { action: 'revertResize', event: 'compute_revert_resize' });
}

/** Moves the server's latest migration on, from one of `from`; the agent and the API both call it. */
export async function setMigrationStatus(db: Db, serverId: string, from: MigrationStatus[], to: MigrationStatus): Promise<Migration | undefined> {
  const m = await latestMigration(db, serverId, from);
  return m && moveMigration(db, m, to);
}
