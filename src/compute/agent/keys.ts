import { randomBytes } from 'node:crypto';
import { writePskFile } from '../../lib/host/tls-psk.ts';
import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import { hostKeys, migrationKeys } from '../tables.ts';

/** How this host's qemu proves itself to the volume service's NBD exports: GnuTLS's PSK file in
 * dir, holding the key of user (the host's name). */
export interface VolumeTls {
  dir: string;
  user: string;
}

/**
 * This host's pre-shared key, made at its first start and kept in the database (only this host's
 * role and the controllers read it). It stays the same across starts: running guests hold
 * connections made with it. It authenticates the host's qemu to the volume service's NBD exports,
 * and the controllers' console proxy to the host's console relay (and back).
 */
export async function hostKey(db: Db, host: string): Promise<string> {
  // GnuTLS's PSK file is `user:hexkey` lines: a colon in the name would end it early.
  if (host.includes(':')) throw new Error(`host name ${host} holds a colon, which a TLS pre-shared key file cannot name`);
  await db
    .insert(hostKeys)
    .values({ host, psk: randomBytes(32).toString('hex') })
    .onConflictDoNothing();
  return (await keyOfHost(db, host))!;
}

/** A host's key, as the controllers read it; undefined before the host's first start. */
export async function keyOfHost(db: Db, host: string): Promise<string | undefined> {
  const [row] = await db.select().from(hostKeys).where(eq(hostKeys.host, host));
  return row?.psk;
}

/** The host's key written to <dir>/keys.psk, where its qemu reads it for the volumes it opens. */
export async function volumeTlsDir(host: string, key: string, dir: string): Promise<VolumeTls> {
  return { dir: await writePskFile(dir, [[host, key]]), user: host };
}

/**
 * The pre-shared key of a migration's traffic between its two hosts, made by whichever of them
 * asks first (the destination prepares before the source sends; either may retry after a crash).
 */
export async function migrationKey(db: Db, migrationId: number): Promise<string> {
  await db
    .insert(migrationKeys)
    .values({ migrationId, psk: randomBytes(32).toString('hex') })
    .onConflictDoNothing();
  const [row] = await db.select().from(migrationKeys).where(eq(migrationKeys.migrationId, migrationId));
  return row!.psk;
}
