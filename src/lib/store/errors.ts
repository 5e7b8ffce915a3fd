/** A unique-constraint violation, as PostgreSQL reports it (PGlite and node-postgres alike). */
export const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' || (err as { cause?: { code?: string } })?.cause?.code === '23505';

/** Why storage refused: it is full (disk, quota), or it cannot serve now (I/O error, read-only
 * medium, or the database out of some other resource). */
export type StorageFailure = 'full' | 'unavailable';

const ERRNO: Record<string, StorageFailure> = { ENOSPC: 'full', EDQUOT: 'full', EIO: 'unavailable', EROFS: 'unavailable' };

/**
 * The storage failure behind err, if that is what it is: a file system errno, or PostgreSQL's
 * class 53 (insufficient resources: 53100 disk_full…) and 58030 io_error, as node-postgres and
 * PGlite report them, possibly wrapped (Drizzle puts the driver's error in `cause`).
 */
export function storageFailure(err: unknown): { failure: StorageFailure; code: string } | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    const failure = ERRNO[code] ?? (/^53[0-9A-Z]{3}$/.test(code) ? (code === '53100' ? 'full' : 'unavailable') : code === '58030' ? 'unavailable' : undefined);
    if (failure) return { failure, code };
  }
  return undefined;
}
