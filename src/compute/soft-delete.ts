// Nova's deferred delete: with a reclaim interval (reclaim_instance_interval), DELETE powers the
// guest off and keeps the server as SOFT_DELETED; `restore` brings it back, `forceDelete` deletes
// it at once, and the reclaimer deletes it when the interval has passed.

import { and, eq, isNotNull } from 'drizzle-orm';
import { conflict } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { startController, type Controller } from '../lib/reconcile/controller.ts';
import { recordAction, type ActionContext } from './instance-actions.ts';
import { checkLock, deleteServer, getServer, setSpec, SERVERS_CHANNEL } from './servers.ts';
import { servers } from './tables.ts';

/**
 * DELETE with a reclaim interval: a server that was never launched is deleted at once (Nova cannot
 * soft-delete it either); any other is powered off and kept until reclaimed or restored.
 */
export async function softDeleteServer(tx: Db, ctx: ActionContext, id: string): Promise<void> {
  const s = await getServer(tx, ctx.auth, id, true);
  checkLock(ctx.auth, s);
  if (!s.launchedAt || s.deleting) {
    await deleteServer(tx, ctx.auth, id);
    await recordAction(tx, ctx, id, { action: 'delete', event: 'compute_terminate_instance' });
    return;
  }
  if (s.softDeletedAt) return;
  await setSpec(tx, s, { softDeletedAt: new Date(), power: 'shutdown' });
  await recordAction(tx, ctx, id, { action: 'delete', event: 'compute_soft_delete_instance' });
}

/** Brings a soft-deleted server back, running, as Nova's restore does. */
export async function restoreServer(tx: Db, ctx: ActionContext, id: string): Promise<void> {
  const s = await getServer(tx, ctx.auth, id, true);
  checkLock(ctx.auth, s);
  if (!s.softDeletedAt) throw conflict(`Cannot 'restore' instance ${s.id} while it is in vm_state ${s.vmState}`);
  await setSpec(tx, s, { softDeletedAt: null, power: 'running' });
  await recordAction(tx, ctx, id, { action: 'restore', event: 'compute_restore_instance' });
}

/** Deletes a server now, soft-deleted or not (Nova's forceDelete takes any state). */
export async function forceDeleteServer(tx: Db, ctx: ActionContext, id: string): Promise<void> {
  await deleteServer(tx, ctx.auth, id);
  await recordAction(tx, ctx, id, { action: 'forceDelete', event: 'compute_terminate_instance' });
}

/** Deletes each soft-deleted server once its interval has passed; woken by every server change,
 * it waits out the rest of a server's interval itself. */
export function startReclaimer(store: Store, intervalS: number, log: Logger): Promise<Controller> {
  const { db } = store;
  return startController({
    name: 'compute-reclaimer',
    store,
    channel: SERVERS_CHANNEL,
    log,
    async listKeys() {
      const rows = await db
        .select({ id: servers.id })
        .from(servers)
        .where(and(isNotNull(servers.softDeletedAt), eq(servers.deleting, false)));
      return rows.map((r) => r.id);
    },
    async reconcile(id) {
      return store.tx(async (tx) => {
        const [s] = await tx.select().from(servers).where(eq(servers.id, id)).for('update');
        if (!s?.softDeletedAt || s.deleting) return;
        const left = s.softDeletedAt.getTime() + intervalS * 1000 - Date.now();
        if (left > 0) return { requeueAfter: left };
        await setSpec(tx, s, { deleting: true });
      });
    },
  });
}

/** DELETE /servers/{id}: a soft delete while the reclaim interval is on, as Nova's API decides. */
export async function deleteOrSoftDelete(tx: Db, ctx: ActionContext, id: string, reclaimIntervalS: number): Promise<void> {
  if (reclaimIntervalS > 0) return softDeleteServer(tx, ctx, id);
  await deleteServer(tx, ctx.auth, id);
  await recordAction(tx, ctx, id, { action: 'delete', event: 'compute_terminate_instance' });
}
