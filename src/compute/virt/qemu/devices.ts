import type { GuestSpec } from '../driver.ts';
import { DEFAULT_HARDWARE, type GuestHardware } from '../hardware.ts';

// The devices an image's hardware properties choose (hw_disk_bus, hw_cdrom_bus, hw_vif_model): the
// root disk's device on its bus, the CD-ROM an ISO image boots from, the controllers they sit on
// and the NIC model. Volumes stay virtio-blk whatever the image says: only it can be hot-plugged.

/** A value inside a qemu option list, where a comma separates options and ",," is a comma. */
const opt = (value: string) => value.replaceAll(',', ',,');

export const hardwareOfSpec = (spec: GuestSpec): GuestHardware => ({ ...DEFAULT_HARDWARE, ...spec.hardware });

/** The ISO file a guest boots from as a CD-ROM, when its image is an ISO. */
export const cdromOf = (spec: GuestSpec): string | undefined => (spec.image?.format === 'iso' ? spec.image.path : undefined);

/** The controllers of the buses in use, each once: the IDE one is part of machine pc. */
export function controllerArgs(spec: GuestSpec): string[] {
  const hw = hardwareOfSpec(spec);
  const buses = new Set<string>();
  // A guest booted from a volume has no root disk of its own: its volume is virtio-blk.
  if (!spec.rootVolume) buses.add(hw.diskBus);
  if (cdromOf(spec)) buses.add(hw.cdromBus);
  return [...(buses.has('scsi') ? ['-device', 'virtio-scsi-pci,id=scsi0'] : []), ...(buses.has('sata') ? ['-device', 'ich9-ahci,id=sata0'] : [])];
}

/** The device of the root disk (block node `root`): booted first, unless the guest boots from a CD-ROM. */
export function rootDeviceArg(spec: GuestSpec): string {
  const bootindex = cdromOf(spec) ? 1 : 0;
  switch (hardwareOfSpec(spec).diskBus) {
    case 'virtio':
      return `virtio-blk-pci,drive=root,bootindex=${bootindex}`;
    case 'scsi':
      return `scsi-hd,drive=root,bus=scsi0.0,scsi-id=0,lun=0,bootindex=${bootindex}`;
    case 'sata':
      return `ide-hd,drive=root,bus=sata0.0,bootindex=${bootindex}`;
    case 'ide':
      return `ide-hd,drive=root,bus=ide.0,unit=0,bootindex=${bootindex}`;
  }
}

/** The ISO as a read-only CD-ROM that the firmware boots first, as Nova attaches an ISO image. */
export function cdromArgs(spec: GuestSpec): string[] {
  const iso = cdromOf(spec);
  if (!iso) return [];
  const device = {
    ide: 'ide-cd,drive=cdrom,bus=ide.1,unit=0',
    sata: 'ide-cd,drive=cdrom,bus=sata0.1',
    scsi: 'scsi-cd,drive=cdrom,bus=scsi0.0,scsi-id=1,lun=0',
  }[hardwareOfSpec(spec).cdromBus];
  return ['-drive', `file=${opt(iso)},if=none,id=cdrom,format=raw,readonly=on,media=cdrom`, '-device', `${device},bootindex=0`];
}

/** qemu's device for the NIC model. */
export const nicDriverOf = (spec: GuestSpec): string => ({ virtio: 'virtio-net-pci', e1000: 'e1000', rtl8139: 'rtl8139' })[hardwareOfSpec(spec).vifModel];
