import type { Logger } from '../../lib/log.ts';
import type { ReconcileResult } from '../../lib/reconcile/controller.ts';
import type { ImageService } from '../../image/index.ts';
import type { Server } from '../servers.ts';
import { deleteShelvedImage } from '../shelve.ts';
import type { VirtDriver } from '../virt/driver.ts';

// The host's side of shelving: the guest shut down, its disk written into the shelved image, and
// once the offload is due everything of it removed from this host, which the server leaves. After
// an unshelve the image is deleted, as Nova deletes it.

export interface ShelvingDeps {
  driver: VirtDriver;
  images: ImageService;
  /** Writes what the agent observed into the server's record. */
  report: (s: Server, status: Partial<Server>) => Promise<unknown>;
  /** Removes the guest and its files from this host. */
  remove: (id: string) => Promise<void>;
  /** Writes the snapshots asked of the server into their images. */
  takeSnapshots: (s: Server) => Promise<void>;
  shutdownTimeoutMs: number;
  /** Nova's shelved_offload_time: seconds a shelved server keeps its host; 0 at once, -1 never. */
  offloadAfterS: number;
  syncEveryMs: number;
  log: Logger;
}

/** Nova's power state of a guest that is off, and of one that is nowhere. */
const SHUTDOWN = 4;
const NOSTATE = 0;

export function shelving(d: ShelvingDeps) {
  return {
    async shelve(s: Server): Promise<ReconcileResult | void> {
      const { power } = await d.driver.info(s.id);
      if (power === 'running' || power === 'paused') await d.driver.powerOff(s.id, d.shutdownTimeoutMs);
      await d.takeSnapshots(s);
      const shelvedAt = s.shelvedAt ?? new Date();
      const after = s.power === 'offloaded' ? 0 : d.offloadAfterS;
      const wait = shelvedAt.getTime() + after * 1000 - Date.now();
      const done = { observedGeneration: s.generation, observedReboots: s.reboots, shelvedAt };
      if (after >= 0 && wait <= 0) {
        await d.remove(s.id);
        await d.report(s, { ...done, vmState: 'shelved_offloaded', powerState: NOSTATE, host: null });
        d.log.info({ server: s.id }, 'shelved server offloaded');
        return;
      }
      await d.report(s, { ...done, vmState: 'shelved', powerState: SHUTDOWN });
      return { requeueAfter: after < 0 ? d.syncEveryMs : Math.min(wait, d.syncEveryMs) };
    },

    /** Once the unshelved server runs: its shelved image is deleted and the shelve forgotten. */
    async unshelved(s: Server): Promise<void> {
      await deleteShelvedImage(d.images, s, d.log);
      await d.report(s, { shelvedImageId: null, shelvedAt: null });
    },
  };
}
