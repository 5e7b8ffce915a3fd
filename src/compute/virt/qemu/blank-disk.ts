import { rename, rm } from 'node:fs/promises';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';

/**
 * The blank root disk of a guest that boots from an ISO image, of the flavor's size, as Nova gives
 * it: a qcow2 on no base, made under another name and renamed, so that it appears whole or not at all.
 */
export async function createBlankDisk(disk: string, rootGiB: number, log: Logger): Promise<void> {
  if (rootGiB <= 0) throw new Error('an ISO image needs a flavor with a root disk: its blank disk is of the flavor size');
  const tmp = `${disk}.part`;
  await rm(tmp, { force: true });
  await run(['qemu-img', 'create', '-q', '-f', 'qcow2', tmp, String(rootGiB * 2 ** 30)], { log });
  await rename(tmp, disk);
}
