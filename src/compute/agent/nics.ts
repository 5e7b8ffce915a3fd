import type { Logger } from '../../lib/log.ts';
import type { Db } from '../../lib/store/db.ts';
import { serverNics, type ServerRef } from '../../network/for-compute.ts';
import type { VirtDriver } from '../virt/driver.ts';

/** How soon to look again at a running guest: while a new port is being wired, and after a
 * hot-plug failed. */
const WIRING_MS = 250;
const RETRY_MS = 5000;

/**
 * Makes a running guest's NICs what the server's ports are (os-interface attach and detach):
 * a port whose tap the network agent has wired and that the guest lacks is hot-plugged; a NIC
 * whose port went is unplugged. A stopped guest gets its ports at its next start instead.
 */
export function guestNics(opts: { db: Db; driver: VirtDriver; netns?: string; detachTimeoutMs: number; log: Logger }) {
  const { db, driver, log } = opts;
  return {
    /** Returns how soon to look again when the guest is not there yet, else undefined. */
    async sync(s: ServerRef): Promise<number | undefined> {
      // A paused guest cannot answer the hot-plug's ACPI events: it gets its NICs once it runs.
      if ((await driver.info(s.id)).power !== 'running') return undefined;
      const want = await serverNics(db, s);
      const have = new Set((await driver.attachedNics(s.id)).map((m) => m.toLowerCase()));
      let again: number | undefined;
      for (const n of want) {
        if (have.has(n.mac.toLowerCase())) continue;
        if (!n.active) {
          again = Math.min(again ?? WIRING_MS, WIRING_MS);
          continue;
        }
        await driver.attachNic(s.id, { mac: n.mac, tap: n.tap, mtu: n.mtu, netns: opts.netns }).catch((err) => {
          log.error({ server: s.id, port: n.portId, err }, 'NIC hot-plug failed');
          again ??= RETRY_MS;
        });
      }
      for (const mac of have) {
        if (want.some((n) => n.mac.toLowerCase() === mac)) continue;
        await driver.detachNic(s.id, mac, opts.detachTimeoutMs).catch((err) => {
          log.warn({ server: s.id, mac, err }, 'NIC unplug failed');
          again ??= RETRY_MS;
        });
      }
      return again;
    },
  };
}
