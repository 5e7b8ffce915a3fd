import { run } from '../host/run.ts';
import type { Logger } from '../log.ts';
import type { CephCli } from './cli.ts';
import { CephNotFoundError } from './errors.ts';
import { rbdSpec } from './names.ts';

// RBD image steps that the volume backend and the instance disks share, in the pool of the
// cephx user's CephCli.

export interface RbdInfo {
  size: number;
  parent?: { pool: string; image: string; snapshot: string; overlap?: number };
}

/** undefined for what is not there (ENOENT), every other failure as it was. */
export const unlessMissing = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((err) => {
    if (err instanceof CephNotFoundError) return undefined;
    throw err;
  });

/** `rbd info` of an image or snapshot; undefined when it is not there. */
export const rbdInfo = (cli: CephCli, image: string, snap?: string) => unlessMissing(cli.json<RbdInfo>('rbd', ['info', rbdSpec(cli.pool, image, snap)]));

/** Grows an image to size; never shrinks it. */
export async function rbdGrow(cli: CephCli, image: string, size: number): Promise<void> {
  const now = await rbdInfo(cli, image);
  if (now && now.size < size) await cli.run('rbd', ['resize', '--no-progress', '--size', `${size}B`, rbdSpec(cli.pool, image)]);
}

/** A value inside qemu's option syntax, where a comma separates options. */
const opt = (value: string) => value.replaceAll(',', ',,');

/** qemu-img's --image-opts for an image (or snapshot) of the user's pool, its key found through ceph.conf. */
export const qemuImageOpts = (cli: CephCli, image: string, snap?: string) =>
  [
    'driver=raw',
    'file.driver=rbd',
    `file.pool=${opt(cli.pool)}`,
    `file.image=${opt(image)}`,
    ...(snap ? [`file.snapshot=${opt(snap)}`] : []),
    `file.user=${opt(cli.user)}`,
    `file.conf=${opt(cli.conf)}`,
  ].join(',');

/**
 * An image file (any format qemu-img reads) converted into a new RBD image of `size` bytes. It is
 * written under `<image>.part` and renamed once whole, so a crash leaves the image whole or a
 * `.part` for the caller's sweep.
 */
export async function rbdImport(cli: CephCli, image: string, source: { path: string; format: string }, size: number, log?: Logger): Promise<void> {
  const part = `${image}.part`;
  const rm = () => unlessMissing(cli.run('rbd', ['rm', '--no-progress', rbdSpec(cli.pool, part)]));
  await rm();
  await cli.run('rbd', ['create', '--size', `${size}B`, rbdSpec(cli.pool, part)]);
  try {
    // -n: into the image made above, which reads zeros (--target-is-zero skips writing them).
    await run(
      ['qemu-img', 'convert', '-q', '-n', '--target-is-zero', '-W', '-f', source.format, source.path, '--target-image-opts', qemuImageOpts(cli, part)],
      { log },
    );
    await cli.run('rbd', ['rename', rbdSpec(cli.pool, part), rbdSpec(cli.pool, image)]);
  } catch (err) {
    await rm().catch((e) => log?.warn({ err: e, image: part }, 'a failed import left its image behind'));
    throw err;
  }
}
