import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// The data directory and the embedded database hold the token key, password hashes and the
// admin's credentials: nobody but the user running Nubo may read or write anything in them.
// Synchronous: it runs at start, and blocking calls walk a database's thousand files several
// times faster than promises, with nothing changing the tree meanwhile.

/** Group and other permission bits. */
const OPEN = 0o077;

/**
 * Makes dir (0700) or, when it exists, checks that it belongs to the user running Nubo and takes
 * group and other permissions off it and everything in it. A directory of another user is
 * refused: tightening it would lock that user out, leaving it would open the secrets to them.
 * `what` names the directory in the message ("data directory").
 */
export function ensurePrivateDir(dir: string, what: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    return;
  }
  if (!st.isDirectory()) throw new Error(`the ${what} ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new Error(
      `the ${what} ${dir} belongs to uid ${st.uid}, not to the user running Nubo (uid ${uid}); it holds secrets that only its owner may read. Run Nubo as its owner, or give it to this user (chown -R ${uid} ${dir})`,
    );
  }
  tightenTree(dir);
}

/** Takes group and other permissions off dir and everything below it; symbolic links are not
 * followed. */
export function tightenTree(dir: string): void {
  const pending = [dir];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    // Gone meanwhile (a temporary file): nothing to protect.
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) continue;
    if (st.mode & OPEN) {
      try {
        chmodSync(path, st.mode & 0o7777 & ~OPEN);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
        throw new Error(`${path} belongs to uid ${st.uid} and others may read or write it, which the user running Nubo cannot change (chmod go-rwx ${path})`);
      }
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) pending.push(join(path, name));
  }
}
