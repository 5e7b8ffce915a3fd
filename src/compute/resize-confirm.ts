// Nova's resize_confirm_window: a resize left in VERIFY_RESIZE is confirmed on the user's behalf
// once the window has passed since it finished; woken by every server change, it waits out the
// rest of a server's window itself.

import { and, eq } from 'drizzle-orm';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import { startController, type Controller } from '../lib/reconcile/controller.ts';
import { confirmResize, latestMigration } from './resize.ts';
import { SERVERS_CHANNEL } from './servers.ts';
import { servers } from './tables.ts';

export function startResizeConfirmer(store: Store, windowS: number, log: Logger): Promise<Controller> {
  const { db } = store;
  return startController({
    name: 'compute-resize-confirmer',
    store,
    channel: SERVERS_CHANNEL,
    log,
    async listKeys() {
      const rows = await db
        .select({ id: servers.id })
        .from(servers)
        .where(and(eq(servers.vmState, 'resized'), eq(servers.resizeStep, 'resize')));
      return rows.map((r) => r.id);
    },
    async reconcile(id) {
      return store.tx(async (tx) => {
        const [s] = await tx.select().from(servers).where(eq(servers.id, id)).for('update');
        if (!s || s.resizeStep !== 'resize' || s.deleting) return;
        // Still under way on its host, whose report wakes no one: looked at again shortly.
        if (s.vmState !== 'resized' || s.generation !== s.observedGeneration) return { requeueAfter: 1000 };
        const m = await latestMigration(tx, id, ['finished']);
        if (!m) return;
        const left = m.updatedAt.getTime() + windowS * 1000 - Date.now();
        if (left > 0) return { requeueAfter: left };
        await confirmResize(tx, s);
        log.info({ server: id, windowS }, 'resize confirmed automatically');
      });
    },
  });
}
