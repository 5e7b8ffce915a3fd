import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// A migration's traffic between two hosts (the memory, the disk over NBD) goes over TLS with the
// migration's pre-shared key: GnuTLS reads it from a keys.psk file in a directory that qemu,
// qemu-nbd and qemu-img are given, never from their command lines.

/** The PSK identity both ends of a migration use. */
export const MIGRATION_TLS_USER = 'migration';

/** Writes the key where qemu's tls-creds-psk objects read it; returns the directory. */
export async function writeMigrationKey(dir: string, key: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('a migration key is 32 bytes in hex');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'keys.psk'), `${MIGRATION_TLS_USER}:${key}\n`, { mode: 0o600 });
  return dir;
}

/** The tls-creds-psk object of one end of a migration, as object-add takes it. */
export const migrationCreds = (id: string, endpoint: 'server' | 'client', dir: string) => ({
  'qom-type': 'tls-creds-psk',
  id,
  endpoint,
  dir,
  ...(endpoint === 'client' ? { username: MIGRATION_TLS_USER } : {}),
});

/** The same object as a qemu-nbd or qemu-img --object value (the directory holds no comma). */
export function migrationCredsArg(id: string, endpoint: 'server' | 'client', dir: string): string {
  if (dir.includes(',')) throw new Error(`a migration key's directory may not hold a comma: ${dir}`);
  return Object.entries(migrationCreds(id, endpoint, dir))
    .map(([k, v]) => (k === 'qom-type' ? v : `${k}=${v}`))
    .join(',');
}
