// The compute agent of one host: makes the guests on this host what the servers placed on it ask
// for, and writes back what it observes. Level-based: each run re-reads the server and the guest,
// so a run after a crash at any point simply carries on.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { arch } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Logger } from '../../lib/log.ts';
import type { Store } from '../../lib/store/db.ts';
import { alsoListen, startController, type Controller, type ReconcileResult } from '../../lib/reconcile/controller.ts';
import { uploadSnapshot } from '../../image/for-compute.ts';
import type { ImageService } from '../../image/index.ts';
import { ApiError } from '../../lib/errors.ts';
import { dropServer, faultOf, SERVERS_CHANNEL, type Server } from '../servers.ts';
import { registerHost } from '../scheduler.ts';
import { servers, snapshots } from '../tables.ts';
import type { GuestSpec, PowerState, RbdSnapshot, VirtDriver } from '../virt/driver.ts';
import { writeConfigDrive } from '../metadata/config-drive.ts';
import { serverNics } from '../../network/for-compute.ts';
import { serverNetworkData } from '../../network/network-data.ts';
import { imageCache } from './images.ts';
import { shelving } from './shelve.ts';
import { deleteShelvedImage } from '../shelve.ts';
import { rescuing } from './rescue.ts';
import { resizing } from './resize.ts';
import { moves } from './moves.ts';
import { liveMigrations } from './live-migration.ts';
import { setMigrationStatus } from '../resize.ts';
import { imageHardware } from './hardware.ts';
import { guestVolumes, VolumeNotServed, type ConnectionOf } from './volumes.ts';
import type { VolumeTls } from './keys.ts';
import { guestNics } from './nics.ts';
import { ATTACHMENTS_CHANNEL } from '../../volume/attachments.ts';
import { settleActions } from '../instance-actions.ts';

export interface AgentOptions {
  store: Store;
  images: ImageService;
  driver: VirtDriver;
  /** This host's name, as the scheduler places servers on it. */
  host: string;
  /** The addresses it registers with its resources (multi-host: how the controllers and the other hosts reach it). */
  addresses?: { hostIp: string | null; tunnelIp: string | null };
  /** Where the agent keeps image copies and config drives. */
  stateDir: string;
  /** The network namespace that holds this host's taps, when it is not the host's own. */
  netns?: string;
  log: Logger;
  /** How long a guest is given to shut down before it is stopped hard. */
  shutdownTimeoutMs?: number;
  /** Nova's shelved_offload_time: seconds a shelved server keeps its host (0, the default: it
   * leaves at once; -1: until shelveOffload). */
  shelvedOffloadTimeS?: number;
  /** How often a settled server is looked at again, to notice a guest that stopped on its own. */
  syncEveryMs?: number;
  /** How long a new server waits for its ports to be wired before it fails (default 300 s). */
  vifPluggingTimeoutMs?: number;
  allocation?: { cpuRatio: number; ramRatio: number; diskRatio: number; reservedMemoryMiB: number };
  /** How this host opens volumes, from the volume service here. */
  connectionOf?: ConnectionOf;
  /** Without a volume service here: the key this host opens the controllers' NBD exports with. */
  volumeTls?: VolumeTls;
  /** How long a guest is given to let a volume go before the detach fails (default 30 s). */
  detachTimeoutMs?: number;
  /** Where the image service keeps a raw image in RBD, for a host whose disks are clones of it. */
  rbdSnapshotOf?: (imageId: string) => Promise<RbdSnapshot | undefined>;
}

/** The host's architecture as Nova and image properties name it. */
const hostArch = () => ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' })[arch() as string] ?? arch();

const POWER_STATE: Record<PowerState, number> = { nostate: 0, running: 1, paused: 3, shutdown: 4, crashed: 6 };
/** The vm_state a server settles in once its guest is as asked. */
const VM_STATE = { shutdown: 'stopped', paused: 'paused', suspended: 'suspended', running: 'active' } as const;

/** The fault of a failed build: the error's first line for the user, its stack for the admin. */
const failure = (err: unknown) => (err instanceof Error ? faultOf(err.message.split('\n')[0]!.slice(0, 255), err.stack) : faultOf(String(err)));

export async function startComputeAgent(opts: AgentOptions): Promise<Controller> {
  const { store, driver, host, log } = opts;
  const { db } = store;
  const cache = imageCache(join(opts.stateDir, 'images'), opts.images, opts.rbdSnapshotOf);
  const drives = join(opts.stateDir, 'config-drives');
  const timeout = opts.shutdownTimeoutMs ?? 60_000;
  const ratios = opts.allocation ?? { cpuRatio: 4, ramRatio: 1, diskRatio: 1, reservedMemoryMiB: 512 };
  await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  await registerHost(db, { name: host, ...(await driver.resources()), ...ratios, ...opts.addresses, arch: hostArch() });

  const volumesOf = guestVolumes({
    ...{ store, driver, host, connectionOf: opts.connectionOf, tls: opts.volumeTls },
    ...{ detachTimeoutMs: opts.detachTimeoutMs ?? 30_000, log },
  });
  const liveNics = guestNics({ db, driver, netns: opts.netns, detachTimeoutMs: opts.detachTimeoutMs ?? 30_000, log });
  const load = async (id: string) => (await db.select().from(servers).where(eq(servers.id, id)))[0];
  const report = async (s: Server, status: Partial<Server>) => {
    const [row] = await db
      .update(servers)
      .set({ ...status, updatedAt: new Date() })
      .where(eq(servers.id, s.id))
      .returning();
    // The actions asked of the server are done, or failed, as far as this report says.
    if (row) await settleActions(db, row);
  };

  /** How long to wait before looking again at a guest whose ports are not wired yet. */
  const PORTS_PENDING = { requeueAfter: 250 };

  /** The guest's NICs, or undefined while the network agent has not wired every port yet (Nova
   * waits for the same "vif plugged" before it starts a guest); `migrating`: wired here for a live
   * migration that brings the guest. */
  async function nicsOf(s: Server, migrating = false): Promise<GuestSpec['nics'] | undefined> {
    const nics = await serverNics(db, s, migrating);
    if (nics.some((n) => !n.active)) return undefined;
    return nics.map((n) => ({ mac: n.mac, tap: n.tap, mtu: n.mtu, netns: opts.netns }));
  }

  async function specOf(s: Server, nics: GuestSpec['nics']): Promise<GuestSpec> {
    const { rootVolume, volumes } = await volumesOf.specOf(s.id);
    // A server booted from a volume has no image of its own to copy; an offloaded one being
    // unshelved is built from its shelved image.
    const from = s.vmState === 'building' && s.shelvedImageId ? s.shelvedImageId : s.imageId;
    const image = rootVolume ? undefined : { id: from, ...(await cache.ensure(from)) };
    let configDrive: string | undefined;
    if (s.configDrive) {
      configDrive = join(drives, `${s.id}.iso`);
      await writeConfigDrive(s, await serverNetworkData(db, s), configDrive, log);
    }
    const f = s.flavor;
    const hardware = await imageHardware(db, s.imageId);
    return { uuid: s.id, name: s.name, vcpus: f.vcpus, memoryMiB: f.ram, rootGiB: f.disk, image, hardware, rootVolume, volumes, nics, configDrive };
  }

  /** keepShared: the server lives on elsewhere (moved away), so the disks that host opens stay. */
  async function remove(id: string, keepShared = false): Promise<void> {
    await driver.destroy(id, keepShared);
    await rm(join(drives, `${id}.iso`), { force: true });
  }

  /** Takes the snapshots asked of a server, one by one, into their images. */
  async function takeSnapshots(s: Server): Promise<void> {
    for (const snap of await db.select().from(snapshots).where(eq(snapshots.serverId, s.id))) {
      const work = await mkdtemp(join(opts.stateDir, 'snapshot-'));
      try {
        const file = join(work, 'disk.qcow2');
        await driver.snapshot(s.id, file);
        await uploadSnapshot(opts.images, s.projectId, snap.imageId, file).catch((err) => {
          // The image was deleted, or is no longer waiting for data: nothing to fill in.
          if (!(err instanceof ApiError && ['NotFound', 'Conflict'].includes(err.kind))) throw err;
          log.warn({ server: s.id, image: snap.imageId, err: err.message }, 'snapshot image gone; dropped');
        });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      await db.delete(snapshots).where(eq(snapshots.imageId, snap.imageId));
    }
  }

  const shelf = shelving({
    ...{ driver, images: opts.images, report, remove, takeSnapshots, shutdownTimeoutMs: timeout, log },
    offloadAfterS: opts.shelvedOffloadTimeS ?? 0,
    syncEveryMs: opts.syncEveryMs ?? 30_000,
  });

  const rescue = rescuing({
    ...{ driver, imageFile: (imageId: string) => cache.ensure(imageId), report, powerState: (p: PowerState) => POWER_STATE[p] },
    ...{ shutdownTimeoutMs: timeout, syncEveryMs: opts.syncEveryMs ?? 30_000 },
  });

  const resize = resizing({
    ...{ db, driver, report, powerState: (p: PowerState) => POWER_STATE[p] },
    ...{ shutdownTimeoutMs: timeout, syncEveryMs: opts.syncEveryMs ?? 30_000 },
  });

  const move = moves({
    ...{ db, driver, host, report, powerState: (p: PowerState) => POWER_STATE[p], remove, log },
    ...{ shutdownTimeoutMs: timeout, syncEveryMs: opts.syncEveryMs ?? 30_000 },
  });

  const live = liveMigrations({
    ...{ store, driver, host, report, powerState: (p: PowerState) => POWER_STATE[p], remove, log },
    syncEveryMs: opts.syncEveryMs ?? 30_000,
  });

  async function reconcile(id: string): Promise<ReconcileResult | void> {
    const s = await load(id);
    // A server placed elsewhere that a live migration brings here.
    const arriving =
      s &&
      s.host !== host &&
      (await live.incoming(s, async () => {
        const nics = await nicsOf(s, true);
        return nics && specOf(s, nics);
      }));
    if (arriving) return arriving;
    // Deleted while this agent was away, or placed elsewhere (migrating or evacuated): nothing of
    // it stays here once no move from here needs it.
    if (!s || s.host !== host) return move.departed(id, s);
    if (s.deleting) {
      await remove(id);
      await store.tx((tx) => dropServer(tx, s));
      await deleteShelvedImage(opts.images, s, log);
      return;
    }
    // A server in error stays as it is, unless it is being rebuilt.
    if (s.vmState === 'error' && s.rebuilds === s.observedRebuilds) return;
    if (s.resizeStep === 'live-migrate') return live.owned(s);
    if (s.power === 'shelved' || s.power === 'offloaded') return shelf.shelve(s);
    const nics = await nicsOf(s);
    if (s.vmState === 'building') {
      if (!nics && Date.now() - s.createdAt.getTime() > (opts.vifPluggingTimeoutMs ?? 300_000)) {
        // Nova's fault when the network never says the ports are plugged: better than BUILD for ever.
        await report(s, { vmState: 'error', powerState: 0, fault: faultOf('Virtual Interface creation failed') });
        log.error({ server: id }, 'build failed: its ports were not wired in time');
        return;
      }
      if (!nics) return PORTS_PENDING;
      // Nova's fault when a volume the server starts with could not be made.
      const volumes = await volumesOf.ready(id);
      if (volumes === 'pending') return { requeueAfter: 500 };
      if (volumes !== true) {
        await report(s, { vmState: 'error', powerState: 0, fault: faultOf(`Build of instance ${id} aborted: ${volumes}`) });
        return;
      }
      try {
        await driver.spawn(await specOf(s, nics));
      } catch (err) {
        await remove(id).catch((e) => log.warn({ server: id, err: e }, 'cleanup after a failed build failed'));
        await report(s, { vmState: 'error', powerState: 0, fault: failure(err) });
        log.error({ server: id, err }, 'build failed');
        return;
      }
      await volumesOf.sync(id);
      const { power } = await driver.info(id);
      await report(s, { vmState: 'active', powerState: POWER_STATE[power], launchedAt: new Date(), observedGeneration: s.generation, fault: null });
      if (s.shelvedAt) await shelf.unshelved(s);
      return { requeueAfter: opts.syncEveryMs ?? 30_000 };
    }

    if (s.rebuilds > s.observedRebuilds) {
      if (!nics) return PORTS_PENDING;
      // A fresh disk from the server's image; its ports and volumes stay as they are.
      await remove(id);
      await driver.spawn(await specOf(s, nics));
      if (s.power === 'shutdown') await driver.powerOff(id, timeout);
      await volumesOf.sync(id);
      const { power } = await driver.info(id);
      const vmState = VM_STATE[s.power === 'shutdown' ? 'shutdown' : 'running'];
      await report(s, {
        vmState,
        powerState: POWER_STATE[power],
        observedGeneration: s.generation,
        observedReboots: s.reboots,
        observedRebuilds: s.rebuilds,
        fault: null,
      });
      // An evacuation is done once the server runs here, as Nova's destination marks it.
      await setMigrationStatus(db, id, ['accepted'], 'done');
      return { requeueAfter: opts.syncEveryMs ?? 30_000 };
    }
    if (s.resizeStep) {
      if (!nics) return PORTS_PENDING;
      return (await move.arrive(s, () => specOf(s, nics))) ?? resize(s, await specOf(s, nics));
    }
    if (s.power === 'rescued' || s.vmState === 'rescued') {
      if (!nics) return PORTS_PENDING;
      return rescue(s, await specOf(s, nics));
    }
    let { power } = await driver.info(id);
    let desired = s.power;
    if (s.reboots > s.observedReboots) {
      // A suspended guest's hard reboot boots it afresh, its saved memory dropped, as Nova's does.
      if (power === 'running' || power === 'paused' || s.vmState === 'suspended') await driver.reboot(id, s.rebootHard, timeout);
      else if (!nics) return PORTS_PENDING;
      else await driver.powerOn(await specOf(s, nics));
    } else if (s.generation === s.observedGeneration && s.vmState === 'active' && power === 'shutdown') {
      // The guest powered itself off: the server is stopped now, as Nova's power sync decides.
      desired = 'shutdown';
    } else if (desired === 'running' && power !== 'running') {
      if (power === 'paused') await driver.unpause(id);
      else if (!nics) return PORTS_PENDING;
      else await driver.powerOn(await specOf(s, nics));
    } else if (desired === 'shutdown' && (power === 'running' || power === 'paused')) {
      await driver.powerOff(id, timeout);
    } else if (desired === 'paused' && power === 'running') {
      await driver.pause(id);
    } else if (desired === 'suspended' && (power === 'running' || power === 'paused')) {
      await driver.suspend(id);
    }
    await volumesOf.sync(id);
    await takeSnapshots(s);
    ({ power } = await driver.info(id));
    const vmState = VM_STATE[desired];
    // The spec's power is written only when the guest changed it by itself: written back as it was
    // read, it would undo a request that came in meanwhile (a stop right after the build, lost).
    await report(s, {
      ...(desired !== s.power ? { power: desired } : {}),
      vmState,
      powerState: POWER_STATE[power],
      observedGeneration: s.generation,
      observedReboots: s.reboots,
    });
    if (s.shelvedAt && desired === 'running') await shelf.unshelved(s);
    // Ports attached or detached through os-interface, hot-plugged once the guest runs.
    return { requeueAfter: (await liveNics.sync(s)) ?? opts.syncEveryMs ?? 30_000 };
  }

  const controller = await startController({
    name: `compute-agent:${host}`,
    store,
    channel: SERVERS_CHANNEL,
    log,
    async listKeys() {
      const mine = await db.select({ id: servers.id }).from(servers).where(eq(servers.host, host));
      return new Set([...mine.map((r) => r.id), ...(await driver.list())]);
    },
    // A guest that opens a volume not yet served here waits for it, as for its ports (the
    // service was asked; its answer wakes the server).
    reconcile: (id) =>
      reconcile(id).catch((err) => {
        if (err instanceof VolumeNotServed) return { requeueAfter: 1000 };
        throw err;
      }),
    async onTerminal(id, err) {
      const s = await load(id);
      if (s && !s.deleting) await report(s, { vmState: 'error', fault: failure(err) });
    },
  });
  // The volume service announces a server whose attachments changed (attach, detach, extend).
  return alsoListen(controller, store, ATTACHMENTS_CHANNEL, (serverId) => controller.add(serverId), log);
}
