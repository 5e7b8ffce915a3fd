import type { Logger } from '../../../lib/log.ts';
import { DetachTimeout, type GuestSpec, type VirtDriver } from '../driver.ts';
import {
  blockdevAdd,
  blockdevDel,
  blockNodeNames,
  blockNodeSizes,
  blockResize,
  deviceAdd,
  deviceDel,
  deviceIds,
  objectDel,
  objectIds,
  secretAdd,
  withQmp,
  type Qmp,
} from './qmp.ts';
import { blockdevOf, deviceIdOf, deviceOf, nodeNameOf, secretIdOf, tlsCredsOf, tlsIdOf, volumeOfDevice } from './volumes.ts';

/** What the volume operations need of the driver that holds the guests. */
export interface GuestAccess {
  /** The pid of the guest's running qemu, if it runs. */
  pidOf(uuid: string): Promise<number | undefined>;
  qmpSocket(uuid: string): string;
  /** Rewrites the guest's saved spec (what its next start runs with); no-op for an unknown guest. */
  updateSpec(uuid: string, change: (spec: GuestSpec) => GuestSpec): Promise<void>;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type VolumeOps = Pick<VirtDriver, 'attachVolume' | 'detachVolume' | 'extendVolume' | 'attachedVolumes'>;

/**
 * Volumes of qemu guests by QMP hot-plug. Each step looks at what qemu has first (the device,
 * the node), so that a call after a crash half-way carries on from where the last one stopped.
 * The saved spec is changed only after qemu has done its part: a start never reopens a volume
 * that a detach closed, and a volume whose attach failed is not in the next start.
 */
export function volumeOps(g: GuestAccess): VolumeOps {
  const qmpOf = <T>(uuid: string, fn: (q: Qmp) => Promise<T>) => withQmp(g.qmpSocket(uuid), fn);

  return {
    async attachVolume(uuid, volume) {
      if (await g.pidOf(uuid)) {
        await qmpOf(uuid, async (q) => {
          const device = deviceOf(volume);
          if ((await deviceIds(q)).includes(String(device.id))) return;
          const node = nodeNameOf(volume.volumeId);
          const c = volume.connection;
          // An RBD volume's key goes to qemu as a secret object first, over the monitor socket;
          // an NBD volume's TLS credentials likewise.
          if (c.driver === 'rbd' && c.key && !(await objectIds(q)).includes(secretIdOf(node))) await secretAdd(q, secretIdOf(node), c.key);
          if (c.driver === 'nbd' && !(await objectIds(q)).includes(tlsIdOf(node))) await q.execute('object-add', tlsCredsOf(c, node));
          if (!(await blockNodeNames(q)).includes(node)) await blockdevAdd(q, blockdevOf(volume));
          try {
            await deviceAdd(q, device);
          } catch (err) {
            await blockdevDel(q, node).catch((e) => g.log.warn({ guest: uuid, err: e }, 'volume node left open after a failed attach'));
            for (const id of [secretIdOf(node), tlsIdOf(node)]) {
              await objectDel(q, id).catch((e) => g.log.warn({ guest: uuid, err: e }, 'volume key left in qemu after a failed attach'));
            }
            throw err;
          }
        });
        g.log.info({ guest: uuid, volume: volume.volumeId }, 'volume hot-plugged');
      }
      await g.updateSpec(uuid, (spec) => {
        const volumes = spec.volumes ?? [];
        return volumes.some((v) => v.volumeId === volume.volumeId) ? spec : { ...spec, volumes: [...volumes, volume] };
      });
    },

    async detachVolume(uuid, volumeId, timeoutMs) {
      if (await g.pidOf(uuid)) {
        const id = deviceIdOf(volumeId);
        const node = nodeNameOf(volumeId);
        // The guest has its say: qemu removes the device once the guest has ejected it.
        const released = await qmpOf(uuid, async (q) => {
          if ((await deviceIds(q)).includes(id)) {
            await deviceDel(q, id);
            const end = Date.now() + timeoutMs;
            while ((await deviceIds(q)).includes(id)) {
              if (Date.now() >= end) return false;
              await sleep(200);
            }
          }
          if ((await blockNodeNames(q)).includes(node)) await blockdevDel(q, node);
          const objects = await objectIds(q);
          for (const id of [secretIdOf(node), tlsIdOf(node)]) if (objects.includes(id)) await objectDel(q, id);
          return true;
        });
        if (!released) throw new DetachTimeout(uuid, volumeId, timeoutMs);
        g.log.info({ guest: uuid, volume: volumeId }, 'volume unplugged');
      }
      await g.updateSpec(uuid, (spec) => ({ ...spec, volumes: (spec.volumes ?? []).filter((v) => v.volumeId !== volumeId) }));
    },

    async extendVolume(uuid, volumeId, bytes) {
      if (!(await g.pidOf(uuid))) return;
      await qmpOf(uuid, (q) => blockResize(q, nodeNameOf(volumeId), bytes));
      g.log.info({ guest: uuid, volume: volumeId, bytes }, 'volume grown');
    },

    async attachedVolumes(uuid) {
      if (!(await g.pidOf(uuid))) return new Map();
      return qmpOf(uuid, async (q) => {
        const sizes = await blockNodeSizes(q);
        const volumes = (await deviceIds(q)).flatMap((id) => volumeOfDevice(id) ?? []);
        return new Map(volumes.map((v) => [v, sizes.get(nodeNameOf(v)) ?? 0]));
      });
    },
  };
}
