import type { ReconcileResult } from '../../lib/reconcile/controller.ts';
import type { Db } from '../../lib/store/db.ts';
import { setMigrationStatus } from '../resize.ts';
import type { Server } from '../servers.ts';
import type { GuestSpec, PowerState, VirtDriver } from '../virt/driver.ts';

// The host's side of a resize: the guest shut down, its root disk kept aside and grown, and
// started again on the new flavor (a stopped server stays stopped, as Nova leaves it); then, at a
// confirm, the kept disk dropped, or at a revert, put back and the guest started on the old flavor.

export interface ResizeDeps {
  db: Db;
  driver: VirtDriver;
  report: (s: Server, status: Partial<Server>) => Promise<unknown>;
  powerState: (power: PowerState) => number;
  shutdownTimeoutMs: number;
  syncEveryMs: number;
}

export function resizing(d: ResizeDeps) {
  const { driver } = d;
  return async (s: Server, spec: GuestSpec): Promise<ReconcileResult> => {
    const settled = s.generation === s.observedGeneration;
    // Resized and waiting for the user: the guest is left as it is.
    if (s.resizeStep === 'resize' && settled) return { requeueAfter: d.syncEveryMs };
    const done = { observedGeneration: s.generation, observedReboots: s.reboots };
    if (s.resizeStep === 'resize') {
      await setMigrationStatus(d.db, s.id, ['pre-migrating'], 'migrating');
      await driver.powerOff(s.id, d.shutdownTimeoutMs);
      if (!spec.rootVolume) await driver.resizeDisk(s.id, spec.rootGiB);
      await setMigrationStatus(d.db, s.id, ['migrating'], 'post-migrating');
      if (s.power === 'running') await driver.powerOn(spec);
      const { power } = await driver.info(s.id);
      await d.report(s, { ...done, vmState: 'resized', powerState: d.powerState(power) });
      await setMigrationStatus(d.db, s.id, ['post-migrating'], 'finished');
      return { requeueAfter: d.syncEveryMs };
    }
    const revert = s.resizeStep === 'revert';
    if (revert) await driver.powerOff(s.id, d.shutdownTimeoutMs);
    await driver.finishResize(s.id, revert);
    if (revert && s.power === 'running') await driver.powerOn(spec);
    const { power } = await driver.info(s.id);
    await d.report(s, { ...done, vmState: s.power === 'shutdown' ? 'stopped' : 'active', powerState: d.powerState(power), resizeStep: null });
    await setMigrationStatus(d.db, s.id, [revert ? 'reverting' : 'confirming'], revert ? 'reverted' : 'confirmed');
    return { requeueAfter: d.syncEveryMs };
  };
}
