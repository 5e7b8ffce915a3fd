import { pskCreds, writePskFile } from '../../../lib/host/tls-psk.ts';

// A migration's traffic between two hosts (the memory, the disk over NBD) goes over TLS with the
// migration's pre-shared key, which both ends hold under one identity.

/** The PSK identity both ends of a migration use. */
const MIGRATION_TLS_USER = 'migration';

/** Writes the key where qemu's tls-creds-psk objects read it; returns the directory. */
export async function writeMigrationKey(dir: string, key: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('a migration key is 32 bytes in hex');
  return writePskFile(dir, [[MIGRATION_TLS_USER, key]]);
}

/** The tls-creds-psk object of one end of a migration, as object-add takes it. */
export const migrationCreds = (id: string, endpoint: 'server' | 'client', dir: string) =>
  pskCreds(id, endpoint, dir, endpoint === 'client' ? MIGRATION_TLS_USER : undefined);
