import type { Logger } from '../../lib/log.ts';
import type { ReconcileResult } from '../../lib/reconcile/controller.ts';
import { ApiError } from '../../lib/errors.ts';
import { deleteProjectImage } from '../../image/for-compute.ts';
import type { ImageService } from '../../image/index.ts';
import type { Server } from '../servers.ts';
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
      if (s.shelvedImageId) {
        await deleteProjectImage(d.images, s.projectId, s.shelvedImageId).catch((err) => {
          // Deleted by its owner meanwhile: nothing left to do. Refused (protected, or a store that
          // keeps it while a disk is cloned from it): the image stays, the server runs on.
          if (!(err instanceof ApiError && err.kind === 'NotFound')) d.log.warn({ server: s.id, image: s.shelvedImageId, err }, 'shelved image not deleted');
        });
      }
      await d.report(s, { shelvedImageId: null, shelvedAt: null });
    },
  };
}
