// A rescued guest boots a disk made from the rescue image (disk.rescue in its directory) and sees
// its own root disk as a second virtio disk, which the rescue system can mount and repair.

/** The rescue's own disk, beside the guest's root disk. */
export const rescueDiskOf = (disk: string) => `${disk}.rescue`;

/** The arguments that give a rescued guest its root disk as the second disk: after every device
 * of its command line, so it comes after the rescue disk (vda) in the guest's order. */
export function originalDiskArgs(disk: string): string[] {
  return ['-drive', `file=${disk.replaceAll(',', ',,')},if=none,id=original,format=qcow2,discard=unmap`, '-device', 'virtio-blk-pci,drive=original'];
}
