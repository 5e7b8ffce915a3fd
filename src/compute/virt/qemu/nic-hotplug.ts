import type { GuestNic, VirtDriver } from '../driver.ts';
import type { GuestAccess } from './hotplug.ts';
import { deviceAdd, deviceDel, netdevAdd, netdevDel, qomChildren, qomGet, withQmp, type Qmp } from './qmp.ts';

// NICs of qemu guests by QMP hot-plug: a tap netdev on the tap the network agent made, then a
// virtio-net device with the port's MAC. A NIC is known by its MAC, whether it was on the command
// line (an anonymous device) or hot-plugged (an id of its own), so that a port attached at boot
// can be detached live as well as one attached later.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ids of a hot-plugged NIC's device and netdev, from its tap (unique per port). */
export const nicDeviceIdOf = (tap: string) => `nic-${tap}`;
export const nicNetdevIdOf = (tap: string) => `hn-${tap}`;

/** The device_add properties of a NIC, as the command line has them (no iPXE ROM, the port's MTU). */
export function nicDeviceOf(nic: GuestNic): Record<string, string | number> {
  return {
    driver: 'virtio-net-pci',
    id: nicDeviceIdOf(nic.tap),
    netdev: nicNetdevIdOf(nic.tap),
    mac: nic.mac,
    romfile: '',
    ...(nic.mtu ? { host_mtu: nic.mtu } : {}),
  };
}

interface PluggedNic {
  /** The device's QOM path, which device_del takes as well as an id. */
  path: string;
  mac: string;
  netdev: string;
}

/** The virtio-net devices plugged now, named or anonymous, with their MAC and netdev. */
async function pluggedNics(q: Qmp): Promise<PluggedNic[]> {
  const out: PluggedNic[] = [];
  for (const parent of ['/machine/peripheral', '/machine/peripheral-anon']) {
    for (const child of await qomChildren(q, parent)) {
      if (child.type !== 'child<virtio-net-pci>') continue;
      const path = `${parent}/${child.name}`;
      out.push({ path, mac: String(await qomGet(q, path, 'mac')).toLowerCase(), netdev: String(await qomGet(q, path, 'netdev')) });
    }
  }
  return out;
}

type NicOps = Pick<VirtDriver, 'attachNic' | 'detachNic' | 'attachedNics'>;

/**
 * Each step looks at what qemu has first, so that a call after a crash half-way carries on. The
 * saved spec changes only after qemu has done its part, so that the next start has the NICs the
 * guest had.
 */
export function nicOps(g: GuestAccess): NicOps {
  const qmpOf = <T>(uuid: string, fn: (q: Qmp) => Promise<T>) => withQmp(g.qmpSocket(uuid), fn);
  const sameMac = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

  return {
    async attachNic(uuid, nic) {
      if (await g.pidOf(uuid)) {
        await qmpOf(uuid, async (q) => {
          if ((await pluggedNics(q)).some((n) => sameMac(n.mac, nic.mac))) return;
          const netdev = nicNetdevIdOf(nic.tap);
          // A netdev left by an attach that failed at its device: reused, not added twice.
          await netdevAdd(q, { type: 'tap', id: netdev, ifname: nic.tap, script: 'no', downscript: 'no' }).catch((err: Error) => {
            if (!/duplicate|already/i.test(err.message)) throw err;
          });
          try {
            await deviceAdd(q, nicDeviceOf(nic));
          } catch (err) {
            await netdevDel(q, netdev).catch((e) => g.log.warn({ guest: uuid, err: e }, 'tap left open after a failed NIC attach'));
            throw err;
          }
        });
        g.log.info({ guest: uuid, mac: nic.mac, tap: nic.tap }, 'NIC hot-plugged');
      }
      await g.updateSpec(uuid, (spec) => (spec.nics.some((n) => sameMac(n.mac, nic.mac)) ? spec : { ...spec, nics: [...spec.nics, nic] }));
    },

    async detachNic(uuid, mac, timeoutMs) {
      if (await g.pidOf(uuid)) {
        const released = await qmpOf(uuid, async (q) => {
          const nic = (await pluggedNics(q)).find((n) => sameMac(n.mac, mac));
          if (!nic) return true;
          // The guest has its say (ACPI eject); qemu removes the device once the guest let it go.
          await deviceDel(q, nic.path);
          const end = Date.now() + timeoutMs;
          while ((await pluggedNics(q)).some((n) => n.path === nic.path)) {
            if (Date.now() >= end) return false;
            await sleep(200);
          }
          await netdevDel(q, nic.netdev);
          return true;
        });
        if (!released) throw new Error(`the guest ${uuid} did not release its NIC ${mac} within ${Math.round(timeoutMs / 1000)} s`);
        g.log.info({ guest: uuid, mac }, 'NIC unplugged');
      }
      await g.updateSpec(uuid, (spec) => ({ ...spec, nics: spec.nics.filter((n) => !sameMac(n.mac, mac)) }));
    },

    async attachedNics(uuid) {
      if (!(await g.pidOf(uuid))) return [];
      return qmpOf(uuid, async (q) => (await pluggedNics(q)).map((n) => n.mac));
    },
  };
}
