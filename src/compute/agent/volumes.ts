import { monitorAddress } from '../../lib/ceph/auth.ts';
import type { Logger } from '../../lib/log.ts';
import { notify, type Store } from '../../lib/store/db.ts';
import { EXPORTS_CHANNEL } from '../../volume/service.ts';
import {
  completeAttach,
  extendDone,
  failAttach,
  finishDetach,
  keepAttached,
  serverAttachments,
  volumesById,
  type Attachment,
} from '../../volume/attachments.ts';
import type { VolumeConnection as BackendConnection } from '../../volume/drivers/driver.ts';
import type { volumes } from '../../volume/tables.ts';
import { DetachTimeout, type GuestVolume, type VirtDriver } from '../virt/driver.ts';
import type { VolumeTls } from './keys.ts';

const GiB = 2 ** 30;

/** How the volume service says a volume is opened, for this host; undefined when it has none. */
export type ConnectionOf = (volumeId: string) => BackendConnection;

type Volume = typeof volumes.$inferSelect;

/** A volume of another host's volume service that is not served to this host yet: the service is
 * asked, and the guest waits for it as for its ports. */
export class VolumeNotServed extends Error {
  constructor(readonly volumeId: string) {
    super(`volume ${volumeId} is not served to this host yet`);
  }
}

export interface GuestVolumes {
  /** What the guest starts with: its root volume, if it boots from one, and its data volumes. */
  specOf(serverId: string): Promise<{ rootVolume?: GuestVolume; volumes: GuestVolume[] }>;
  /** Makes the guest's volumes what the server's attachments ask for, and reports back. */
  sync(serverId: string): Promise<void>;
  /** Whether the volumes a new server starts with are made: 'pending' while one is still being
   * created, an error message when one failed. */
  ready(serverId: string): Promise<true | 'pending' | string>;
}

/** The volume service's description of a local connection, as the virt driver takes it. */
function guestConnection(c: BackendConnection): GuestVolume['connection'] {
  if (c.driver === 'file') return { driver: c.format, path: c.filename };
  return { driver: 'rbd', pool: c.pool, image: c.image, monitors: c.monitors, user: c.user, key: c.key };
}

/** The attachment's connection_info as Cinder records it: for RBD, where the image is and who
 * opens it, never the key (Nova keeps that in a libvirt secret; here only the host has it). */
function connectionInfo(c: GuestVolume['connection']): Record<string, unknown> {
  if (c.driver === 'nbd') return { driver_volume_type: 'nbd', data: { host: c.host, port: c.port, name: c.export, tls: true } };
  if (c.driver !== 'rbd') return { driver_volume_type: 'file', data: c };
  const monitors = (c.monitors ?? []).map(monitorAddress);
  const hosts = monitors.map((m) => m.host);
  const ports = monitors.map((m) => m.port);
  return { driver_volume_type: 'rbd', data: { name: `${c.pool}/${c.image}`, hosts, ports, auth_enabled: true, auth_username: c.user } };
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 255);

export function guestVolumes(opts: {
  store: Store;
  driver: VirtDriver;
  host: string;
  /** Local volumes, from this host's own volume service. */
  connectionOf?: ConnectionOf;
  /** Without a volume service here: volumes the controllers serve over NBD, opened with this key. */
  tls?: VolumeTls;
  detachTimeoutMs: number;
  log: Logger;
}): GuestVolumes {
  const { store, driver, log } = opts;
  const { db } = store;

  function connectionOf(volumeId: string, vol: Volume | undefined): GuestVolume['connection'] {
    if (opts.connectionOf) return guestConnection(opts.connectionOf(volumeId));
    if (!opts.tls) throw new Error('this host has no volume service to open volumes with');
    const e = vol?.nbdExport;
    if (!e?.hosts.includes(opts.host)) throw new VolumeNotServed(volumeId);
    return { driver: 'nbd', host: e.address, port: e.port, export: volumeId, tls: opts.tls };
  }

  const guestVolume = (a: Attachment, vol: Volume | undefined): GuestVolume => ({
    volumeId: a.volumeId,
    connection: connectionOf(a.volumeId, vol),
    readOnly: a.attachMode === 'ro',
    ...(vol?.multiattach ? { shareable: true } : {}),
  });

  /** Asks the volume service to serve the volume here (Nova's initialize_connection). */
  const ask = (volumeId: string) => notify(db, EXPORTS_CHANNEL, volumeId);

  /** Attachments a started guest opens: attached ones, and those being attached. */
  const opened = (a: Attachment) => a.status === 'attached' || a.status === 'attaching';

  async function attach(serverId: string, a: Attachment, vol: Volume | undefined): Promise<void> {
    try {
      const volume = guestVolume(a, vol);
      // A root volume was opened by the guest's start: it is never hot-plugged.
      if (a.bootIndex !== 0) await driver.attachVolume(serverId, volume);
      await store.tx((tx) => completeAttach(tx, a.id, connectionInfo(volume.connection)));
    } catch (err) {
      // Attached once served; the service's answer wakes this server again.
      if (err instanceof VolumeNotServed) return ask(a.volumeId);
      log.error({ server: serverId, volume: a.volumeId, err }, 'attach failed');
      await store.tx((tx) => failAttach(tx, a.id, firstLine(err)));
    }
  }

  async function detach(serverId: string, a: Attachment): Promise<void> {
    try {
      await driver.detachVolume(serverId, a.volumeId, opts.detachTimeoutMs);
    } catch (err) {
      if (!(err instanceof DetachTimeout)) throw err;
      log.warn({ server: serverId, volume: a.volumeId }, err.message);
      await store.tx((tx) => keepAttached(tx, a.id, err.message));
      return;
    }
    await store.tx((tx) => finishDetach(tx, a.id));
  }

  return {
    async specOf(serverId) {
      const rows = (await serverAttachments(db, serverId)).filter(opened);
      const root = rows.find((a) => a.bootIndex === 0);
      const vols = await volumesById(
        db,
        rows.map((a) => a.volumeId),
      );
      const of = (a: Attachment) => {
        try {
          return guestVolume(a, vols.get(a.volumeId));
        } catch (err) {
          if (err instanceof VolumeNotServed) void ask(a.volumeId).catch(() => {});
          throw err;
        }
      };
      return { rootVolume: root && of(root), volumes: rows.filter((a) => a !== root).map(of) };
    },

    async ready(serverId) {
      const rows = await serverAttachments(db, serverId);
      const vols = await volumesById(
        db,
        rows.map((a) => a.volumeId),
      );
      for (const a of rows) {
        const v = vols.get(a.volumeId);
        if (!v) return `Volume ${a.volumeId} is gone`;
        if (v.status === 'creating' || v.status === 'downloading') return 'pending';
        if (v.status === 'error') return `Volume ${v.id} did not finish being created${v.fault ? `: ${v.fault}` : ''}`;
        if (!opened(a)) continue;
        try {
          connectionOf(a.volumeId, v);
        } catch (err) {
          if (!(err instanceof VolumeNotServed)) throw err;
          await ask(a.volumeId);
          return 'pending';
        }
      }
      return true;
    },

    async sync(serverId) {
      const rows = await serverAttachments(db, serverId);
      const actual = await driver.attachedVolumes(serverId);
      const sizes = await volumesById(
        db,
        rows.map((a) => a.volumeId),
      );
      const { power } = await driver.info(serverId);
      const running = power === 'running' || power === 'paused';
      for (const a of rows) {
        if (a.status === 'attaching') await attach(serverId, a, sizes.get(a.volumeId));
        else if (a.status === 'detaching') await detach(serverId, a);
        else if (a.status === 'error_detaching' && running && !actual.has(a.volumeId)) {
          // The guest let the device go after its detach had timed out: the detach is done now.
          await store.tx((tx) => finishDetach(tx, a.id));
        } else if (a.status === 'attached' && running) {
          const seen = actual.get(a.volumeId);
          if (seen === undefined) {
            // The records say the guest has it and the guest does not: it gets it back.
            if (a.bootIndex !== 0) await attach(serverId, a, sizes.get(a.volumeId));
            continue;
          }
          // Level-based growth: a guest that sees less than the volume's size is told the new size.
          const vol = sizes.get(a.volumeId);
          if (vol && seen < vol.size * GiB) {
            await driver.extendVolume(serverId, a.volumeId, vol.size * GiB);
            await store.tx((tx) => extendDone(tx, a.volumeId, vol.size));
          }
        }
      }
      // A device no attachment asks for (detached through the API while this agent was away).
      for (const volumeId of actual.keys()) {
        if (rows.some((a) => a.volumeId === volumeId && a.status !== 'reserved' && a.status !== 'error_attaching')) continue;
        if (!running) continue;
        log.warn({ server: serverId, volume: volumeId }, 'the guest holds a volume no attachment asks for; unplugging it');
        await driver
          .detachVolume(serverId, volumeId, opts.detachTimeoutMs)
          .catch((err) => log.warn({ server: serverId, volume: volumeId, err }, 'unplugging failed'));
      }
    },
  };
}
