import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Store } from '../../lib/store/db.ts';
import { metadefCatalogue } from '../tables.ts';
import { createNamespace, type NamespaceBody } from './namespaces.ts';

// Nubo's own catalogue of metadata definitions: the image properties dashboards offer most when
// people describe an image's guest. Loaded once, at the first start; operators edit it afterwards
// through the API, and what they delete stays deleted.

const VERSION = 1;
/** Definitions Nubo ships belong to no project; they are public. */
const OWNER = 'admin';

const text = (title: string, description: string, more: Record<string, unknown> = {}) => ({ type: 'string', title, description, ...more });
const choice = (title: string, description: string, values: string[]) => text(title, description, { enum: values });
const flag = (title: string, description: string) => ({ type: 'boolean', title, description });
const count = (title: string, description: string) => ({ type: 'integer', title, description, minimum: 1 });

// Images carry these as properties; a volume made from an image keeps them in its image metadata.
const IMAGE_AND_VOLUME = [{ name: 'OS::Glance::Image' }, { name: 'OS::Cinder::Volume', properties_target: 'image' }];

const CATALOGUE: NamespaceBody[] = [
  {
    namespace: 'OS::Compute::GuestHardware',
    display_name: 'Guest hardware',
    description: 'The virtual devices a guest booted from the image is given. Pick what its drivers support.',
    resource_type_associations: IMAGE_AND_VOLUME,
    properties: {
      hw_disk_bus: choice('Disk bus', 'How the root disk is attached. virtio is fastest; ide and sata suit guests without virtio drivers.', [
        'virtio',
        'scsi',
        'ide',
        'sata',
        'usb',
      ]),
      hw_cdrom_bus: choice('CD-ROM bus', 'How a CD-ROM drive is attached when the image is an ISO or a config drive is used.', ['ide', 'sata', 'scsi', 'usb']),
      hw_scsi_model: choice('SCSI controller', 'The SCSI controller, when the disk bus is scsi; virtio-scsi allows discard and many disks.', ['virtio-scsi']),
      hw_vif_model: choice('Network card', 'The model of the virtual network cards. virtio is fastest; e1000 and rtl8139 suit older guests.', [
        'virtio',
        'e1000',
        'e1000e',
        'rtl8139',
        'ne2k_pci',
        'pcnet',
      ]),
      hw_machine_type: text('Machine type', 'The emulated chipset, such as pc (i440FX) or q35, optionally with a version (pc-q35-7.2).'),
      hw_firmware_type: choice('Firmware', 'Boot through legacy BIOS or UEFI.', ['bios', 'uefi']),
      hw_video_model: choice('Video card', 'The model of the virtual display adapter.', ['vga', 'cirrus', 'virtio', 'qxl', 'none']),
      hw_pointer_model: choice('Pointer device', 'usbtablet gives the console an absolute pointer, so that the mouse follows the cursor.', ['usbtablet']),
      hw_rng_model: choice('Random number generator', 'Gives the guest a virtio device fed from the host’s entropy.', ['virtio']),
      hw_qemu_guest_agent: flag(
        'QEMU guest agent',
        'The guest runs the QEMU guest agent, so that the host may ask it to freeze file systems or report its state.',
      ),
    },
  },
  {
    namespace: 'OS::OperatingSystem',
    display_name: 'Operating system',
    description: 'What runs in the image, so that tools can pick drivers and defaults for it.',
    resource_type_associations: IMAGE_AND_VOLUME,
    properties: {
      os_type: choice('Operating system family', 'The family of the guest operating system; it decides, among others, how ephemeral disks are formatted.', [
        'linux',
        'windows',
      ]),
      os_distro: choice('Distribution', 'The distribution in the image, by its usual short name in lower case.', [
        'alpine',
        'arch',
        'centos',
        'debian',
        'fedora',
        'freebsd',
        'gentoo',
        'netbsd',
        'openbsd',
        'opensuse',
        'rhel',
        'rocky',
        'almalinux',
        'sles',
        'ubuntu',
        'windows',
        'cirros',
      ]),
      os_version: text('Version', 'The version of the distribution, such as 12 or 24.04.'),
      os_admin_user: text('Administrator account', 'The account that holds administrator rights in the guest (root, Administrator…).'),
    },
  },
  {
    namespace: 'OS::Compute::Quiesce',
    display_name: 'Consistent snapshots',
    description: 'Snapshots of servers taken while their file systems are frozen through the guest agent.',
    resource_type_associations: IMAGE_AND_VOLUME,
    properties: {
      os_require_quiesce: flag(
        'Require quiesce',
        'A snapshot fails rather than be taken without freezing the guest’s file systems first; needs the guest agent.',
      ),
    },
  },
  {
    namespace: 'OS::Compute::CPUTopology',
    display_name: 'Virtual CPU topology',
    description: 'How a guest’s virtual CPUs are laid out in sockets, cores and threads; some operating systems are licensed per socket.',
    resource_type_associations: [
      { name: 'OS::Glance::Image', prefix: 'hw_' },
      { name: 'OS::Cinder::Volume', prefix: 'hw_', properties_target: 'image' },
      { name: 'OS::Nova::Flavor', prefix: 'hw:' },
    ],
    properties: {
      cpu_sockets: count('Sockets', 'The preferred number of sockets.'),
      cpu_cores: count('Cores per socket', 'The preferred number of cores in each socket.'),
      cpu_threads: count('Threads per core', 'The preferred number of threads in each core.'),
      cpu_max_sockets: count('Most sockets', 'The largest number of sockets the guest accepts.'),
    },
  },
  {
    namespace: 'OS::Compute::Watchdog',
    display_name: 'Watchdog',
    description: 'A virtual watchdog device, and what the host does when the guest stops feeding it.',
    resource_type_associations: [
      { name: 'OS::Glance::Image', prefix: 'hw_' },
      { name: 'OS::Cinder::Volume', prefix: 'hw_', properties_target: 'image' },
      { name: 'OS::Nova::Flavor', prefix: 'hw:' },
    ],
    properties: {
      watchdog_action: choice('Watchdog action', 'What happens to a guest that hangs: reset, power it off, pause it, or nothing.', [
        'disabled',
        'reset',
        'poweroff',
        'pause',
        'none',
      ]),
    },
  },
];

/** Namespaces from a directory of Glance's definition files (one namespace per .json file), which
 * hold the same fields as a namespace create. */
function readDirectory(dir: string): NamespaceBody[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      try {
        return JSON.parse(readFileSync(join(dir, f), 'utf8')) as NamespaceBody;
      } catch (err) {
        throw new Error(`metadata definitions: ${join(dir, f)} is not valid JSON: ${(err as Error).message}`);
      }
    });
}

/** Loads the catalogue (Nubo's, or the files of `dir`) at the first start of a cloud, in one
 * transaction, and never again. */
export async function loadCatalogue(store: Store, dir?: string): Promise<void> {
  const [done] = await store.db.select().from(metadefCatalogue).where(eq(metadefCatalogue.version, VERSION));
  if (done) return;
  await store.tx(async (tx) => {
    const claimed = await tx.insert(metadefCatalogue).values({ version: VERSION }).onConflictDoNothing().returning();
    if (!claimed.length) return;
    const loader = { projectId: OWNER, admin: true, mayPublicize: true, mayCommunitize: true };
    for (const ns of dir ? readDirectory(dir) : CATALOGUE) await createNamespace(tx, loader, { visibility: 'public', protected: true, ...ns, owner: OWNER });
  });
}
