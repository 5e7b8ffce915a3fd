import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import { hostKeys } from '../tables.ts';

/** How this host's qemu proves itself to the volume service's NBD exports: GnuTLS's PSK file in
 * dir, holding the key of user (the host's name). */
export interface VolumeTls {
  dir: string;
  user: string;
}

/**
 * This host's pre-shared key for volumes served over NBD, made at its first start and kept in the
 * database (only this host's role and the controllers read it), written to <dir>/keys.psk for
 * qemu. The key stays the same across starts: running guests hold connections made with it.
 */
export async function hostVolumeKey(db: Db, host: string, dir: string): Promise<VolumeTls> {
  // GnuTLS's PSK file is `user:hexkey` lines: a colon in the name would end it early.
  if (host.includes(':')) throw new Error(`host name ${host} holds a colon, which a TLS pre-shared key file cannot name`);
  await db
    .insert(hostKeys)
    .values({ host, psk: randomBytes(32).toString('hex') })
    .onConflictDoNothing();
  const [row] = await db.select().from(hostKeys).where(eq(hostKeys.host, host));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'keys.psk'), `${host}:${row!.psk}\n`, { mode: 0o600 });
  return { dir, user: host };
}
