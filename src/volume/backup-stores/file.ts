import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import { SourceMissingError } from '../drivers/driver.ts';
import type { BackupStore } from './store.ts';
import { exists, syncFile } from '../../lib/durable-fs.ts';

/**
 * Backups as sparse raw files, `<root>/<backup id>.raw`, for the file volume backend (which gives
 * each volume's path). A file cannot tell what changed since the last backup, so every backup is
 * a whole copy, incremental ones too; a reflink makes it cheap where the filesystem has them. A
 * copy is made under `<root>/tmp/` and renamed once synced.
 */
export async function openFileBackupStore(root: string, volumePath: (volumeId: string) => string, log?: Logger): Promise<BackupStore> {
  const tmp = join(root, 'tmp');
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  // A copy a crash interrupted.
  for (const name of await readdir(tmp)) await rm(join(tmp, name), { force: true });
  const pathOf = (id: string) => join(root, `${safe(id)}.raw`);

  return {
    name: 'file',
    // The directory's name, not its path, which is the operator's business.
    container: basename(root),

    async backup({ id, volumeId }) {
      const final = pathOf(id);
      if (await exists(final)) return final;
      const source = volumePath(volumeId);
      if (!(await exists(source))) throw new SourceMissingError(`volume ${volumeId} is not on the file backend`);
      const temp = join(tmp, `${safe(id)}.${randomUUID()}`);
      try {
        await run(['cp', '--sparse=always', '--reflink=auto', source, temp], { log });
        await syncFile(temp);
        await rename(temp, final);
        await syncFile(root);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      return final;
    },

    async restore(backup, volumeId, fresh) {
      const from = pathOf(backup.id);
      if (!(await exists(from))) throw new SourceMissingError(`backup ${backup.id} is not in ${root}`);
      // -n: into the volume as it is, zeros included, so an existing volume ends up with the
      // backup's bytes exactly; a fresh one reads zeros already, which need not be written.
      const zero = fresh ? ['--target-is-zero'] : [];
      await run(['qemu-img', 'convert', '-q', '-n', ...zero, '-f', 'raw', '-O', 'raw', from, volumePath(volumeId)], { log });
      await syncFile(volumePath(volumeId));
    },

    async delete(backup) {
      await rm(pathOf(backup.id), { force: true });
    },

    async probe() {},
  };
}

/** Ids are UUIDs; anything that could climb out of the directory is refused outright. */
function safe(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid backup id: ${id}`);
  return id;
}
