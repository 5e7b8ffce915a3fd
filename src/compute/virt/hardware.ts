// The virtual hardware an image asks for through its properties, as Nova reads them: the bus of
// the root disk and of a CD-ROM, the NIC model and the firmware. Anything not set is Nova's
// default on x86 (virtio disk and NIC, IDE CD-ROM, BIOS).

export const DISK_BUSES = ['virtio', 'scsi', 'sata', 'ide'] as const;
/** virtio-blk has no CD-ROM device: a CD-ROM is on one of the emulated buses. */
export const CDROM_BUSES = ['ide', 'sata', 'scsi'] as const;
export const VIF_MODELS = ['virtio', 'e1000', 'rtl8139'] as const;
export const FIRMWARES = ['bios', 'uefi'] as const;

export interface GuestHardware {
  diskBus: (typeof DISK_BUSES)[number];
  cdromBus: (typeof CDROM_BUSES)[number];
  vifModel: (typeof VIF_MODELS)[number];
  firmware: (typeof FIRMWARES)[number];
}

export const DEFAULT_HARDWARE: GuestHardware = { diskBus: 'virtio', cdromBus: 'ide', vifModel: 'virtio', firmware: 'bios' };

const PROPERTIES = {
  hw_disk_bus: ['diskBus', DISK_BUSES],
  hw_cdrom_bus: ['cdromBus', CDROM_BUSES],
  hw_vif_model: ['vifModel', VIF_MODELS],
  hw_firmware_type: ['firmware', FIRMWARES],
} as const;

/** Why the image's hardware properties cannot be honoured, or undefined when they can. */
export function hardwareProblem(properties: Record<string, string>): string | undefined {
  for (const [property, [, allowed]] of Object.entries(PROPERTIES)) {
    const value = properties[property];
    if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
      return `Image property ${property}=${value} is not supported; use one of ${allowed.join(', ')}.`;
    }
  }
  return undefined;
}

/** The hardware the image's properties ask for; throws on a value that cannot be honoured. */
export function hardwareOf(properties: Record<string, string>): GuestHardware {
  const problem = hardwareProblem(properties);
  if (problem) throw new Error(problem);
  const hw: GuestHardware = { ...DEFAULT_HARDWARE };
  for (const [property, [field]] of Object.entries(PROPERTIES)) {
    const value = properties[property];
    if (value !== undefined) (hw as unknown as Record<string, string>)[field] = value;
  }
  return hw;
}
