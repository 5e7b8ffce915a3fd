import type { Logger } from '../../lib/log.ts';
import type { VirtDriver } from './driver.ts';
import { join } from 'node:path';
import { createFakeDriver, loadFakeHost } from './fake.ts';
import { createQemuDriver } from './qemu/driver.ts';
import type { RbdDisks } from './qemu/rbd-disks.ts';

export type { VirtDriver } from './driver.ts';

export interface DriverOptions {
  /** Where guests keep their disks, consoles and sockets. */
  instancesDir: string;
  log: Logger;
  /** Root disks as RBD clones (qemu only). */
  rbdDisks?: RbdDisks;
  /** The network namespace of the host's addresses, when not the process's own (qemu only). */
  netns?: string;
}

/** The hypervisor drivers, by the name the configuration uses. */
const DRIVERS = {
  qemu: (o: DriverOptions) => createQemuDriver(o),
  // Its guests kept in a file, so that a restarted agent finds its host's guests as with qemu.
  fake: (o: DriverOptions) => {
    const stateFile = join(o.instancesDir, 'fake-guests.json');
    return createFakeDriver(loadFakeHost(stateFile), stateFile);
  },
} satisfies Record<string, (o: DriverOptions) => VirtDriver>;

export type DriverName = keyof typeof DRIVERS;

export const createDriver = (name: DriverName, opts: DriverOptions): VirtDriver => DRIVERS[name](opts);
