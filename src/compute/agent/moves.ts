import { and, desc, eq, inArray } from 'drizzle-orm';
import type { ReconcileResult } from '../../lib/reconcile/controller.ts';
import type { Db } from '../../lib/store/db.ts';
import type { Logger } from '../../lib/log.ts';
import { setMigrationStatus, type Migration } from '../resize.ts';
import type { Server } from '../servers.ts';
import { migrations } from '../tables.ts';
import type { GuestSpec, MigrationTarget, PowerState, VirtDriver } from '../virt/driver.ts';
import { migrationKey } from './keys.ts';
import { carriedConsole, hostAddress, migrationPort } from './carried.ts';

// A host's side of the moves between hosts (moves.ts records them):
// - the source of a cold migration stops the guest and serves its root disk over NBD at its own
//   address, which the migration records (disk_path); it keeps the guest until the move is
//   confirmed (destroyed then) or reverted (the server is placed back here and started again);
// - the destination copies the disk from there and starts the guest on it: the two hosts need
//   share no file system;
// - a host that finds a guest whose server is placed elsewhere and no migration from here needs
//   it destroys it, and completes the evacuations that left it, as Nova's compute does at start
//   (fencing by record): a host that comes back never runs an evacuated server a second time.

export interface MoveDeps {
  db: Db;
  driver: VirtDriver;
  host: string;
  report: (s: Server, status: Partial<Server>) => Promise<unknown>;
  powerState: (power: PowerState) => number;
  remove: (id: string, keepShared: boolean) => Promise<void>;
  shutdownTimeoutMs: number;
  syncEveryMs: number;
  log: Logger;
}

/** The statuses in which the source of a cold migration keeps the guest it had. */
const KEPT: Migration['status'][] = ['pre-migrating', 'migrating', 'post-migrating', 'finished', 'error'];

async function latestOf(db: Db, serverId: string): Promise<Migration | undefined> {
  const [m] = await db.select().from(migrations).where(eq(migrations.serverId, serverId)).orderBy(desc(migrations.id)).limit(1);
  return m;
}

/** Where a disk is served, as the migration records it (never its key), and back. */
const nbdUrl = (at: MigrationTarget) => `nbd://${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}/disk`;
const servedFrom = (url: string, key: string): MigrationTarget => {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port), key };
};

export function moves(d: MoveDeps) {
  const { db, driver, host, log } = d;

  return {
    /** A guest here whose server is gone or placed on another host. */
    async departed(id: string, s: Server | undefined): Promise<ReconcileResult | void> {
      const m = s && (await latestOf(db, id));
      if (s && m && m.migrationType === 'migration' && m.sourceCompute === host && KEPT.includes(m.status)) {
        if (m.status !== 'pre-migrating') {
          // Copied by the destination, or the move ended: the disk is no longer served.
          if (m.status !== 'migrating') await driver.stopServingDisk(id);
          return { requeueAfter: d.syncEveryMs };
        }
        await driver.powerOff(id, d.shutdownTimeoutMs);
        let diskPath: string | null = null;
        if (s.imageId) {
          const at = { host: await hostAddress(db, host), port: migrationPort(m), key: await migrationKey(db, m.id) };
          await driver.serveDisk(id, at);
          diskPath = nbdUrl(at);
        }
        const consoleLog = await carriedConsole(driver, id);
        await db.update(migrations).set({ diskPath, consoleLog, status: 'migrating', updatedAt: new Date() }).where(eq(migrations.id, m.id));
        log.info({ server: id, to: m.destCompute, disk: diskPath }, 'guest stopped and its disk served for its new host');
        return { requeueAfter: d.syncEveryMs };
      }
      if (!(await driver.list()).includes(id)) return;
      // A server that lives on elsewhere keeps the disks its new host opens (an RBD disk).
      await d.remove(id, s !== undefined);
      if (!s) return;
      const done = await db
        .update(migrations)
        .set({ status: 'completed', updatedAt: new Date() })
        .where(
          and(
            eq(migrations.serverId, id),
            eq(migrations.sourceCompute, host),
            eq(migrations.migrationType, 'evacuation'),
            inArray(migrations.status, ['accepted', 'done']),
          ),
        )
        .returning({ id: migrations.id });
      log.warn({ server: id, placedOn: s.host, evacuations: done.length }, 'guest of a server placed on another host destroyed');
    },

    /** The destination's side of a cold migration; undefined when the server's resize is not one
     * arriving here. */
    async arrive(s: Server, spec: () => Promise<GuestSpec>): Promise<ReconcileResult | undefined> {
      if (s.resizeStep !== 'resize' || s.generation === s.observedGeneration) return undefined;
      const m = await latestOf(db, s.id);
      if (!m || m.migrationType !== 'migration' || m.sourceCompute === host || !['pre-migrating', 'migrating'].includes(m.status)) return undefined;
      // The source has not stopped the guest and served its disk yet; it wakes no one here.
      if (m.status === 'pre-migrating') return { requeueAfter: 500 };
      // First, since it may wait (for a volume to be served here): the steps after run once.
      const guest = await spec();
      if (m.diskPath) await driver.fetchDisk(s.id, servedFrom(m.diskPath, await migrationKey(db, m.id)));
      if (m.consoleLog) await driver.keepConsole(s.id, m.consoleLog);
      await setMigrationStatus(db, s.id, ['migrating'], 'post-migrating');
      await driver.spawn(guest);
      if (s.power === 'shutdown') await driver.powerOff(s.id, d.shutdownTimeoutMs);
      const { power } = await driver.info(s.id);
      await d.report(s, { vmState: 'resized', powerState: d.powerState(power), observedGeneration: s.generation, observedReboots: s.reboots });
      await setMigrationStatus(db, s.id, ['post-migrating'], 'finished');
      log.info({ server: s.id, from: m.sourceCompute }, 'migrated guest started on its new host');
      return { requeueAfter: d.syncEveryMs };
    },
  };
}
