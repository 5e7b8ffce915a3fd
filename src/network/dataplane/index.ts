import type { Dataplane } from './driver.ts';
import { FakeDataplane } from './fake.ts';
import { createLinuxDataplane, type LinuxDataplaneOptions } from './linux/driver.ts';

export type { Dataplane } from './driver.ts';
export type { LinuxDataplaneOptions } from './linux/driver.ts';

export type DataplaneOptions = { driver: 'fake' } | ({ driver: 'linux' } & LinuxDataplaneOptions);

/** The data plane by name: linux wires the host for real (as root), fake keeps specs in memory. */
export function createDataplane(opts: DataplaneOptions): Dataplane {
  switch (opts.driver) {
    case 'fake':
      return new FakeDataplane();
    case 'linux':
      return createLinuxDataplane(opts);
  }
}
