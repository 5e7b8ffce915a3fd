import { copyFile, rename, stat } from 'node:fs/promises';
import type { GuestSpec } from '../driver.ts';
import { hardwareOfSpec } from './devices.ts';

// UEFI guests (hw_firmware_type=uefi) run Debian's OVMF (package ovmf): its code read-only and
// shared, its variable store copied once per guest, where the guest keeps its boot entries across
// restarts. BIOS guests run qemu's own SeaBIOS and need neither.

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.fd';

const opt = (value: string) => value.replaceAll(',', ',,');

/** The firmware's flash drives; none for BIOS. */
export function firmwareArgs(spec: GuestSpec, nvram: string | undefined): string[] {
  if (hardwareOfSpec(spec).firmware !== 'uefi') return [];
  if (!nvram) throw new Error(`guest ${spec.uuid}: a UEFI guest needs a file for its variable store`);
  return ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${opt(OVMF_CODE)}`, '-drive', `if=pflash,format=raw,unit=1,file=${opt(nvram)}`];
}

/** Copies the empty variable store for a UEFI guest that has none yet; a guest's own is kept. */
export async function ensureNvram(spec: GuestSpec, nvram: string): Promise<void> {
  if (hardwareOfSpec(spec).firmware !== 'uefi') return;
  const present = await stat(nvram).then(
    () => true,
    () => false,
  );
  if (present) return;
  await stat(OVMF_CODE).catch(() => {
    throw new Error(`UEFI firmware ${OVMF_CODE} is missing: install Debian's ovmf package`);
  });
  // Copied under another name first, so that a crash never leaves a half store the guest would keep.
  await copyFile(OVMF_VARS_TEMPLATE, `${nvram}.part`);
  await rename(`${nvram}.part`, nvram);
}
