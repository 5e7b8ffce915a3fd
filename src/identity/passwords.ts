import { randomBytes, timingSafeEqual } from 'node:crypto';
import { KdfPool, type KdfPoolOptions } from './kdf-pool.ts';

// scrypt with N=2^15, r=8 (32 MiB per hash): OWASP's floor for interactive logins. The
// parameters are stored with each hash so that they can be raised without breaking old ones.
const N = 1 << 15;
const r = 8;
const p = 1;

/** One pool for the process: hashes compete for its cores, whichever cloud asks for them. */
const pool = new KdfPool({ threads: 1, queue: 32 });

export const configureKdf = (options: KdfPoolOptions) => pool.configure(options);
export const kdfStats = () => pool.stats();
export const kdfFull = () => pool.full();
export const releaseKdf = () => pool.close();

/** `scrypt$N$r$p$salt$hash`, both in base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await pool.scrypt(password, salt, 32, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

// What a login without a hash to check (an unknown user, a user without a password) is checked
// against, so that it takes as long as a wrong password and tells nothing more.
const STAND_IN = ['scrypt', N, r, p, randomBytes(16).toString('base64'), randomBytes(32).toString('base64')].join('$');

function parse(stored: string | null | undefined) {
  const [alg, n, rr, pp, salt, hash] = (stored ?? '').split('$');
  if (alg !== 'scrypt' || !salt || !hash) return undefined;
  return { N: Number(n), r: Number(rr), p: Number(pp), salt: Buffer.from(salt, 'base64'), expected: Buffer.from(hash, 'base64') };
}

/** Whether the password matches the stored hash; with no hash, false, after the same work. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const own = parse(stored);
  const { salt, expected, ...cost } = own ?? parse(STAND_IN)!;
  const key = await pool.scrypt(password, salt, expected.length, { ...cost, maxmem: 256 * 1024 * 1024 });
  return own !== undefined && timingSafeEqual(key, expected);
}
