import { writeFile } from 'node:fs/promises';
import type { GuestInfo, GuestSpec, VirtDriver } from './driver.ts';

interface FakeGuest {
  spec: GuestSpec;
  power: GuestInfo['power'];
  console: string[];
}

/**
 * Guests in memory, with the same semantics as a real driver and none of its cost: for scale
 * tests and API tests that do not need a running guest. Its snapshot is a bare qcow2 header of
 * the root disk's size, so that the path of a snapshot into the image service is exercised too.
 */
export function createFakeDriver(): VirtDriver {
  const guests = new Map<string, FakeGuest>();
  const get = (uuid: string) => {
    const g = guests.get(uuid);
    if (!g) throw new Error(`guest ${uuid} is not on this host`);
    return g;
  };
  const log = (g: FakeGuest, line: string) => g.console.push(`[fake] ${line}`);
  return {
    name: 'fake',
    async spawn(spec) {
      if (guests.has(spec.uuid)) return;
      const g: FakeGuest = { spec, power: 'running', console: [] };
      guests.set(spec.uuid, g);
      log(g, `${spec.name} started with ${spec.vcpus} vCPU and ${spec.memoryMiB} MiB`);
    },
    async destroy(uuid) {
      guests.delete(uuid);
    },
    async powerOff(uuid) {
      const g = get(uuid);
      g.power = 'shutdown';
      log(g, 'powered off');
    },
    async powerOn(spec) {
      const g = guests.get(spec.uuid);
      if (!g) return this.spawn(spec);
      if (g.power === 'shutdown' || g.power === 'crashed') g.power = 'running';
      log(g, 'powered on');
    },
    async reboot(uuid, hard) {
      const g = get(uuid);
      g.power = 'running';
      log(g, hard ? 'reset' : 'rebooted');
    },
    async pause(uuid) {
      const g = get(uuid);
      if (g.power === 'running') g.power = 'paused';
    },
    async unpause(uuid) {
      const g = get(uuid);
      if (g.power === 'paused') g.power = 'running';
    },
    async info(uuid) {
      return { power: guests.get(uuid)?.power ?? 'nostate' };
    },
    async list() {
      return [...guests.keys()];
    },
    async consoleLog(uuid, lines) {
      const all = get(uuid).console;
      return (lines === undefined ? all : all.slice(-lines)).join('\n') + '\n';
    },
    async snapshot(uuid, target) {
      get(uuid);
      await writeFile(target, qcow2Header(get(uuid).spec.rootGiB * 2 ** 30));
    },
  };
}

/** A qcow2 (version 2) header with no backing file, no data and no tables: enough to be inspected. */
function qcow2Header(size: number): Buffer {
  const h = Buffer.alloc(72);
  h.write('QFI\xfb', 0, 'latin1');
  h.writeUInt32BE(2, 4);
  h.writeUInt32BE(16, 20); // 64 KiB clusters
  h.writeBigUInt64BE(BigInt(size), 24);
  return h;
}
