import { ApiError } from '../errors.ts';

// The errors of the rbd, rados and ceph commands, by the errno that is their exit code.

/** A command failed for a reason the caller may act on (its errno and what it said). */
export class CephError extends Error {
  constructor(
    readonly errno: number | null,
    readonly argv: string[],
    readonly stderr: string,
  ) {
    super(`${argv.slice(0, 4).join(' ')} failed (${errno === null ? 'killed' : `errno ${errno}`}): ${lastLines(stderr)}`);
  }
}

/** ENOENT: no such image, snapshot or object. */
export class CephNotFoundError extends CephError {}

/** EBUSY or ENOTEMPTY: the image has clones, watchers or snapshots. */
export class CephBusyError extends CephError {}

/** EEXIST: an image of that name is already there. */
export class CephExistsError extends CephError {}

/**
 * The cluster cannot do what was asked: unreachable, timed out, the pool is missing, or the cephx
 * user may not use it. An ApiError, so that every API answers it 503 with this message.
 */
export class CephUnavailableError extends ApiError {
  constructor(
    readonly pool: string,
    why: string,
  ) {
    super('Unavailable', `The storage backend is unavailable: Ceph pool "${pool}": ${why}`);
  }
}

export const lastLines = (stderr: string) =>
  stderr
    .split('\n')
    .map((l) => l.replace(/^\S+T\S+ \S+ +-?\d+ /, '').trim())
    .filter((l) => l && !/% complete/.test(l))
    .slice(-2)
    .join(' ') || '(no output)';
