import { and, desc, eq } from 'drizzle-orm';
import type { ReconcileResult } from '../../lib/reconcile/controller.ts';
import { notify, type Store } from '../../lib/store/db.ts';
import type { Logger } from '../../lib/log.ts';
import { bindMigratingPorts } from '../../network/for-compute.ts';
import { failActions } from '../instance-actions.ts';
import { setMigrationStatus, type Migration, type MigrationStatus } from '../resize.ts';
import { faultOf, SERVERS_CHANNEL, type Server } from '../servers.ts';
import { computeServiceOf, isUp } from '../services.ts';
import { migrations, servers } from '../tables.ts';
import type { GuestSpec, MigrationTarget, PowerState, VirtDriver } from '../virt/driver.ts';
import { migrationKey } from './keys.ts';
import { carriedConsole, hostAddress, migrationPort } from './carried.ts';

// A host's side of a live migration (moves.ts's liveMigrateServer records it). The migration's
// status hands the work from one agent to the other:
// - accepted → preparing: the destination has taken it; once its network agent has wired the
//   server's ports there too, it starts a qemu waiting for the guest (driver.prepareIncoming);
// - running: the source sends the guest (driver.migrateOut), then places the server and binds its
//   ports on the destination and ends its own qemu (post-migrating);
// - post-migrating → completed: the destination ends the disk export and reports the server as it
//   runs there;
// - error: the side that failed says so; the source keeps the guest, running on as it was, and the
//   destination's ports and qemu go; cancelling (an admin's abort): the same, ending cancelled.
// Each side looks again every POLL while the other works: the record changes outside the servers
// channel, and a side that changes it also notifies that channel.

export interface LiveMigrationDeps {
  store: Store;
  driver: VirtDriver;
  host: string;
  report: (s: Server, status: Partial<Server>) => Promise<unknown>;
  powerState: (power: PowerState) => number;
  /** Ends the guest here and removes its files, keeping the disks the other host opens. */
  remove: (id: string, keepShared: boolean) => Promise<void>;
  syncEveryMs: number;
  log: Logger;
}

const POLL: ReconcileResult = { requeueAfter: 250 };

export function liveMigrations(d: LiveMigrationDeps) {
  const { store, driver, host, log } = d;
  const { db } = store;

  async function current(serverId: string): Promise<Migration | undefined> {
    const [m] = await db
      .select()
      .from(migrations)
      .where(and(eq(migrations.serverId, serverId), eq(migrations.migrationType, 'live-migration')))
      .orderBy(desc(migrations.id))
      .limit(1);
    return m;
  }

  async function advance(s: Server, from: MigrationStatus[], to: MigrationStatus): Promise<void> {
    await setMigrationStatus(db, s.id, from, to);
    await notify(db, SERVERS_CHANNEL, s.id);
  }

  /** Where the destination listens. */
  const targetOf = async (m: Migration): Promise<MigrationTarget> => ({
    host: await hostAddress(db, m.destCompute!),
    port: migrationPort(m),
    key: await migrationKey(db, m.id),
  });

  /** The source gives up the move (failed, or cancelled by an admin): the guest runs on here, the
   * destination's ports go. */
  async function abandon(s: Server, to: string | null | undefined, reason: string, status: 'error' | 'cancelled' = 'error'): Promise<ReconcileResult> {
    await store.tx(async (tx) => {
      await bindMigratingPorts(tx, s, 'drop');
      await tx.update(servers).set({ resizeStep: null }).where(eq(servers.id, s.id));
      await setMigrationStatus(tx, s.id, ['accepted', 'preparing', 'running', 'cancelling'], status);
      await notify(tx, SERVERS_CHANNEL, s.id);
    });
    // The move's event fails before the report below would settle it as done.
    await failActions(db, s.id, host, faultOf(`Live migration to ${to ?? 'another host'} failed: ${reason}`));
    const { power } = await driver.info(s.id);
    await d.report({ ...s, resizeStep: null }, { powerState: d.powerState(power), observedGeneration: s.generation });
    log.error({ server: s.id, to, reason }, 'live migration failed; the guest runs on here');
    return { requeueAfter: d.syncEveryMs };
  }

  return {
    /** A MIGRATING server placed here: its source sends it, its destination (after the switch-over)
     * settles it. */
    async owned(s: Server): Promise<ReconcileResult> {
      const m = await current(s.id);
      if (!m || (m.sourceCompute !== host && m.destCompute !== host)) return abandon(s, m?.destCompute, 'no migration record names this host');
      if (m.sourceCompute === host) {
        if (m.status === 'error') return abandon(s, m.destCompute, 'the destination could not take the guest');
        if (m.status === 'cancelling') return abandon(s, m.destCompute, 'cancelled by an admin', 'cancelled');
        if (m.status !== 'running') {
          // A destination whose agent went away would never prepare: the move is given up.
          const service = await computeServiceOf(db, m.destCompute!);
          return service && !isUp(service) ? abandon(s, m.destCompute, 'its compute service is down') : POLL;
        }
        // An admin's abort meanwhile cancels qemu's migration.
        const abort = new AbortController();
        const watch = setInterval(() => {
          current(s.id).then(
            (now) => now?.status === 'cancelling' && abort.abort(),
            () => undefined,
          );
        }, POLL.requeueAfter);
        try {
          await driver.migrateOut(s.id, await targetOf(m), abort.signal);
        } catch (err) {
          if (abort.signal.aborted) return abandon(s, m.destCompute, 'cancelled by an admin', 'cancelled');
          return abandon(s, m.destCompute, err instanceof Error ? err.message : String(err));
        } finally {
          clearInterval(watch);
        }
        // The guest runs on the destination now: the server and its ports follow it there, and
        // what it printed here goes with the migration.
        const consoleLog = await carriedConsole(driver, s.id);
        await store.tx(async (tx) => {
          await tx.update(migrations).set({ consoleLog }).where(eq(migrations.id, m.id));
          await tx.update(servers).set({ host: m.destCompute }).where(eq(servers.id, s.id));
          await bindMigratingPorts(tx, s, 'switch');
          await setMigrationStatus(tx, s.id, ['running'], 'post-migrating');
          await notify(tx, SERVERS_CHANNEL, s.id);
        });
        await d.remove(s.id, true);
        log.info({ server: s.id, to: m.destCompute }, 'guest sent to its new host');
        return {};
      }
      if (m.status !== 'post-migrating') return POLL;
      await driver.finishIncoming(s.id);
      if (m.consoleLog) await driver.keepConsole(s.id, m.consoleLog);
      const { power } = await driver.info(s.id);
      await d.report(s, {
        ...{ vmState: power === 'paused' ? 'paused' : 'active', powerState: d.powerState(power) },
        ...{ resizeStep: null, observedGeneration: s.generation, fault: null },
      });
      await advance(s, ['post-migrating'], 'completed');
      log.info({ server: s.id, from: m.sourceCompute }, 'live-migrated guest runs here');
      return { requeueAfter: d.syncEveryMs };
    },

    /** A MIGRATING server placed on another host that comes here; undefined when it is not one. */
    async incoming(s: Server, spec: () => Promise<GuestSpec | undefined>): Promise<ReconcileResult | undefined> {
      if (s.resizeStep !== 'live-migrate') return undefined;
      const m = await current(s.id);
      if (!m || m.destCompute !== host) return undefined;
      if (m.status === 'running') return POLL;
      if (m.status !== 'accepted' && m.status !== 'preparing') return undefined;
      if (m.status === 'accepted') await setMigrationStatus(db, s.id, ['accepted'], 'preparing');
      // Its ports wired here too, as a new guest's are before it starts.
      const guest = await spec();
      if (!guest) return POLL;
      try {
        await driver.prepareIncoming(guest, await targetOf(m));
      } catch (err) {
        log.error({ server: s.id, err }, 'live migration: the guest cannot be received here');
        await d.remove(s.id, true).catch((e) => log.warn({ server: s.id, err: e }, 'cleanup after a failed prepare failed'));
        await advance(s, ['preparing'], 'error');
        return undefined;
      }
      await advance(s, ['preparing'], 'running');
      return POLL;
    },
  };
}
