import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// TLS with pre-shared keys as qemu, qemu-nbd and qemu-img take it: a tls-creds-psk object naming a
// directory whose keys.psk holds `user:hexkey` lines (GnuTLS reads it at each handshake), so that
// no key is ever on a command line.

/** Writes <dir>/keys.psk with the users' keys; returns the directory. */
export async function writePskFile(dir: string, keys: [user: string, key: string][]): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'keys.psk'), keys.map(([user, key]) => `${user}:${key}\n`).join(''), { mode: 0o600 });
  return dir;
}

/** A tls-creds-psk object as object-add takes it; a client names the user it is. */
export const pskCreds = (id: string, endpoint: 'server' | 'client', dir: string, user?: string) => ({
  'qom-type': 'tls-creds-psk',
  id,
  endpoint,
  dir,
  ...(user ? { username: user } : {}),
});

/** The same object as an --object (-object) value: commas in values doubled, as qemu options need. */
export const objectArg = ({ 'qom-type': type, ...props }: ReturnType<typeof pskCreds>) =>
  [type, ...Object.entries(props).map(([k, v]) => `${k}=${v.replaceAll(',', ',,')}`)].join(',');
