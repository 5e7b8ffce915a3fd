import { and, eq } from 'drizzle-orm';
import { ApiError, badRequest, conflict, notFound } from '../lib/errors.ts';
import { notify, type Db } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Logger } from '../lib/log.ts';
import { bindMigratingPorts, bindServerPorts } from '../network/for-compute.ts';
import { recordAction, type ActionContext } from './instance-actions.ts';
import { chooseHost, NO_VALID_HOST } from './scheduler.ts';
import type { WeighMode } from './host-filters.ts';
import { checkLock, checkState, getServer, SERVERS_CHANNEL, setSpec } from './servers.ts';
import { computeServiceOf, isUp } from './services.ts';
import { hosts, migrations, servers } from './tables.ts';

// Moving a server to another host, as an admin asks it: evacuation (its host is down; the server
// is rebuilt elsewhere from its image or volume), cold migration (the guest stopped, its disk
// taken to another host, then VERIFY_RESIZE until confirmed or reverted, as a resize) and live
// migration (the running guest moved with its memory). The API only picks the host and records
// the move; the agents of both hosts carry it out (agent/moves.ts, agent/live-migration.ts).

export interface MoveOptions {
  weigher: WeighMode;
  log: Logger;
}

/** The compute host an admin named, or Nova's 404. */
async function computeHost(tx: Db, name: string): Promise<void> {
  const [h] = await tx.select({ name: hosts.name }).from(hosts).where(eq(hosts.name, name));
  if (!h) throw notFound(`Compute host ${name} could not be found.`);
}

export interface EvacuateRequest {
  host?: string;
  /** 2.29–2.67: the named host is taken without the scheduler's filters. */
  force?: boolean;
}

/**
 * Nova's evacuate: refused while the server's host's compute service is up (the guest may still
 * run there); otherwise the server is placed on another host (the named one, checked) with its
 * ports bound there, and its new host's agent rebuilds it. The old host's agent destroys its copy
 * when it comes back (fencing by record). A move no host can take leaves the server where it is
 * and its migration in error, as Nova's conductor does.
 */
export async function evacuateServer(tx: Db, ctx: ActionContext, id: string, req: EvacuateRequest, opts: MoveOptions): Promise<void> {
  const s = await getServer(tx, ctx.auth, id, true);
  if (req.host !== undefined) await computeHost(tx, req.host);
  if (!s.host) throw conflict(`Cannot 'evacuate' instance ${s.id} while it is in vm_state ${s.vmState}: it has no host`);
  if (req.host === s.host) throw badRequest("The target host can't be the same one.");
  await checkState(tx, s, 'evacuate');
  const service = await computeServiceOf(tx, s.host);
  if (service && isUp(service)) throw badRequest(`Compute service of ${s.host} is still in use.`);
  const dest = req.force && req.host ? req.host : await chooseHost(tx, s, opts, { exclude: s.host, only: req.host });
  const record = { serverId: s.id, projectId: s.projectId, userId: ctx.auth.userId, migrationType: 'evacuation' as const, sourceCompute: s.host };
  const flavors = { oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id };
  if (!dest) {
    opts.log.warn({ server: id, from: s.host }, 'evacuation failed: no valid host');
    await tx.insert(migrations).values({ ...record, ...flavors, status: 'error', destCompute: null });
    await recordAction(tx, ctx, id, { action: 'evacuate', event: 'conductor_rebuild_server', done: { result: 'Error', host: null, details: NO_VALID_HOST } });
    return;
  }
  await tx.insert(migrations).values({ ...record, ...flavors, status: 'accepted', destCompute: dest });
  // A rebuild on the new host: a fresh disk from the image (or the volume it boots from), the same
  // ports, now bound there.
  await tx
    .update(servers)
    .set({ host: dest, rebuilds: s.rebuilds + 1 })
    .where(eq(servers.id, s.id));
  await bindServerPorts(tx, s, dest);
  await setSpec(tx, s, {});
  await recordAction(tx, ctx, id, { action: 'evacuate', event: 'compute_rebuild_instance' });
  opts.log.info({ server: id, from: s.host, to: dest }, 'server evacuated');
}

/**
 * Nova's cold migration: the server goes to another host (the named one, checked by the filters,
 * 2.56) with its flavor unchanged, and waits in VERIFY_RESIZE as a resize does. The server is
 * placed on its new host at once (its claim and its ports move there); the migration record names
 * the source, whose agent stops the guest and leaves its disk for the destination, and keeps the
 * guest until the move is confirmed (then destroyed) or reverted (the server placed back on it).
 */
export async function migrateServer(tx: Db, ctx: ActionContext, id: string, host: string | undefined, opts: MoveOptions): Promise<void> {
  const s = await getServer(tx, ctx.auth, id, true);
  checkLock(ctx.auth, s);
  if (host !== undefined) await computeHost(tx, host);
  await checkState(tx, s, 'migrate');
  if (!s.host) throw conflict(`Cannot 'migrate' instance ${s.id} while it is in vm_state ${s.vmState}: it has no host`);
  if (host === s.host) throw badRequest(`Unable to migrate instance (${s.id}) to current host (${s.host}).`);
  // Nova's conductor answers the API's call, so that no valid host is the caller's 400.
  const dest = await chooseHost(tx, s, opts, { exclude: s.host, only: host });
  if (!dest) throw badRequest(NO_VALID_HOST);
  await tx.insert(migrations).values({
    ...{ serverId: s.id, projectId: s.projectId, userId: ctx.auth.userId, migrationType: 'migration', status: 'pre-migrating' },
    ...{ sourceCompute: s.host, destCompute: dest, oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id },
  });
  await tx.update(servers).set({ host: dest, oldFlavor: s.flavor, resizeStep: 'resize' }).where(eq(servers.id, s.id));
  await bindServerPorts(tx, s, dest);
  await setSpec(tx, s, {});
  await recordAction(tx, ctx, id, { action: 'migrate', event: 'compute_resize_instance' });
  opts.log.info({ server: id, from: s.host, to: dest }, 'server migrating');
}

export interface LiveMigrateRequest {
  host?: string;
  /** 2.30–2.67: the named host is taken without the scheduler's filters. */
  force?: boolean;
}

/**
 * Nova's live migration: the server stays on its host, MIGRATING, while the host the scheduler
 * chose (or the named one, checked unless forced) is claimed and wires its ports too; the
 * destination's agent then starts a qemu waiting for the guest, the source's sends it, and the
 * switch-over places the server and binds its ports there. Whether the root disk is copied is the
 * hosts' to tell (a local disk is, an RBD disk or a volume is not), as Nova's block_migration
 * "auto" does.
 */
export async function liveMigrateServer(tx: Db, ctx: ActionContext, id: string, req: LiveMigrateRequest, opts: MoveOptions): Promise<void> {
  const s = await getServer(tx, ctx.auth, id, true);
  checkLock(ctx.auth, s);
  // Nova's live migration answers 400 for a host it does not know, as for one that cannot take it.
  if (req.host !== undefined)
    await computeHost(tx, req.host).catch((err) => {
      throw err instanceof ApiError && err.status === 404 ? badRequest(err.message) : err;
    });
  await checkState(tx, s, 'os-migrateLive');
  if (!s.host) throw conflict(`Cannot 'os-migrateLive' instance ${s.id} while it is in vm_state ${s.vmState}: it has no host`);
  if (req.host === s.host) throw badRequest(`Unable to migrate instance (${s.id}) to current host (${s.host}).`);
  if (req.force && req.host) {
    // Forced past the filters, the host must still be up to take the guest, as Nova's conductor checks.
    const service = await computeServiceOf(tx, req.host);
    if (!service || !isUp(service)) throw badRequest(`Compute service of ${req.host} is unavailable at this time.`);
  }
  const dest = req.force && req.host ? req.host : await chooseHost(tx, s, opts, { exclude: s.host, only: req.host });
  if (!dest) throw badRequest(NO_VALID_HOST);
  await tx.insert(migrations).values({
    ...{ serverId: s.id, projectId: s.projectId, userId: ctx.auth.userId, migrationType: 'live-migration', status: 'accepted' },
    ...{ sourceCompute: s.host, destCompute: dest, oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id },
  });
  await tx.update(servers).set({ resizeStep: 'live-migrate' }).where(eq(servers.id, s.id));
  await bindMigratingPorts(tx, s, { to: dest });
  await setSpec(tx, s, {});
  await recordAction(tx, ctx, id, { action: 'live-migration', event: 'compute_live_migration' });
  opts.log.info({ server: id, from: s.host, to: dest }, 'server live-migrating');
}

/**
 * Nova's abort of a live migration (DELETE /servers/{id}/migrations/{id}, 2.24): the migration is
 * marked cancelling, and its source gives it up (cancelling qemu's migration if it is sending) and
 * marks it cancelled. Before 2.65 only a migration that is sending can be aborted.
 */
export async function abortLiveMigration(tx: Db, auth: AuthContext, serverId: string, migrationId: string, beforeRunning: boolean): Promise<void> {
  const s = await getServer(tx, auth, serverId, true);
  const id = Number(migrationId);
  const [m] = Number.isSafeInteger(id) ? await tx.select().from(migrations).where(and(eq(migrations.id, id), eq(migrations.serverId, s.id))) : [];
  if (!m) throw notFound(`Migration ${migrationId} for instance ${s.id} could not be found.`);
  if (m.migrationType !== 'live-migration') throw badRequest(`Migration ${m.id} for instance ${s.id} is not a live-migration.`);
  const abortable = beforeRunning ? ['accepted', 'preparing', 'running'] : ['running'];
  if (!abortable.includes(m.status))
    throw badRequest(`Migration ${m.id} state of instance ${s.id} is ${m.status}. Cannot abort live migration while the migration is in this state.`);
  await tx.update(migrations).set({ status: 'cancelling', updatedAt: new Date() }).where(eq(migrations.id, m.id));
  await notify(tx, SERVERS_CHANNEL, s.id);
}
