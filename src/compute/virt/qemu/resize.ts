import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';

// A resize's local root disk: the overlay copied aside (it is small: the guest's writes over the
// shared base, whose relative path still holds from the same directory), then grown in place; a
// revert renames the copy back, a confirm removes it.

const keptOf = (disk: string) => `${disk}.pre-resize`;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

export async function keepAndGrow(disk: string, bytes: number, log: Logger): Promise<void> {
  if (!(await exists(disk))) return;
  const kept = keptOf(disk);
  if (!(await exists(kept))) {
    await copyFile(disk, `${kept}.part`);
    await rename(`${kept}.part`, kept);
  }
  const info = JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', 'qcow2', disk], { log })).stdout) as { 'virtual-size': number };
  if (bytes > info['virtual-size']) await run(['qemu-img', 'resize', '-q', '-f', 'qcow2', disk, String(bytes)], { log });
}

export async function finishLocalResize(disk: string, revert: boolean): Promise<void> {
  const kept = keptOf(disk);
  if (!(await exists(kept))) return;
  if (revert) await rename(kept, disk);
  else await rm(kept, { force: true });
}
