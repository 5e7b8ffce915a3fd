import type { ReconcileResult } from '../../lib/reconcile/controller.ts';
import type { Server } from '../servers.ts';
import type { GuestSpec, PowerState, VirtDriver } from '../virt/driver.ts';
import type { ImageForDisk } from './images.ts';

// The host's side of rescue and unrescue: the guest shut down and booted from the rescue image
// with its own disk second; then back on its own disk.

export interface RescueDeps {
  driver: VirtDriver;
  /** The host's copy of an image. */
  imageFile: (imageId: string) => Promise<ImageForDisk>;
  report: (s: Server, status: Partial<Server>) => Promise<unknown>;
  powerState: (power: PowerState) => number;
  shutdownTimeoutMs: number;
  syncEveryMs: number;
}

export function rescuing(d: RescueDeps) {
  return async (s: Server, spec: GuestSpec): Promise<ReconcileResult> => {
    if (s.power === 'rescued') {
      // Shut down as Nova does before a rescue; a rescue already running is left as it is.
      if (s.vmState !== 'rescued') await d.driver.powerOff(s.id, d.shutdownTimeoutMs);
      const image = s.rescueImageId || s.imageId;
      await d.driver.rescue({ ...spec, rescue: { id: image, ...(await d.imageFile(image)) } });
    } else {
      await d.driver.unrescue(spec);
    }
    const { power } = await d.driver.info(s.id);
    await d.report(s, {
      vmState: s.power === 'rescued' ? 'rescued' : 'active',
      powerState: d.powerState(power),
      observedGeneration: s.generation,
      observedReboots: s.reboots,
      ...(s.power === 'rescued' ? {} : { rescueImageId: null }),
    });
    return { requeueAfter: d.syncEveryMs };
  };
}
