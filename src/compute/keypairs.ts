import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { isUniqueViolation } from '../lib/store/errors.ts';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { keypairs } from './tables.ts';

export type Keypair = typeof keypairs.$inferSelect;
export type KeypairType = Keypair['type'];

const KEY_TYPES = new Set(['ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-dss']);

/** An SSH wire-format string: a 4-byte length, then the bytes. */
const sshString = (b: Buffer) => Buffer.concat([Buffer.from([b.length >>> 24, (b.length >>> 16) & 255, (b.length >>> 8) & 255, b.length & 255]), b]);
/** An SSH mpint: big-endian, with a leading zero byte when the top bit is set (it is positive). */
const mpint = (b: Buffer) => sshString(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);

/**
 * The key blob of an OpenSSH public key line (`type base64 [comment]`), checked: its embedded type
 * must be the one written before it. Anything else is Nova's 400.
 */
function keyBlob(publicKey: string): Buffer {
  const [type, data] = publicKey.trim().split(/\s+/);
  const invalid = () => badRequest('Keypair data is invalid: failed to generate fingerprint');
  if (!type || !data || !KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw invalid();
  const blob = Buffer.from(data, 'base64');
  if (blob.length < 8) throw invalid();
  const length = blob.readUInt32BE(0);
  if (blob.length < 4 + length || blob.subarray(4, 4 + length).toString() !== type) throw invalid();
  return blob;
}

/** Nova's fingerprint: the MD5 of the key blob, as colon-separated hex. */
export const fingerprintOf = (publicKey: string) => createHash('md5').update(keyBlob(publicKey)).digest('hex').match(/../g)!.join(':');

/** An x509 key pair's fingerprint: the SHA-1 of its certificate, as colon-separated hex. */
function certificateFingerprint(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint.toLowerCase();
  } catch {
    throw badRequest('Keypair data is invalid: failed to generate fingerprint');
  }
}

/** A new RSA key pair: the private key in PEM (which OpenSSH reads) and the public key line. */
export function generateKeypair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const jwk = createPublicKey(publicKey).export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url'))]);
  return { privateKey, publicKey: `ssh-rsa ${blob.toString('base64')} Generated-by-Nubo` };
}

const NAME = /^[\w\- .@]{1,255}$/;

export async function createKeypair(db: Db, userId: string, name: string, publicKey: string, type: KeypairType = 'ssh'): Promise<Keypair> {
  if (!NAME.test(name) || name.trim() !== name) {
    throw badRequest('Keypair data is invalid: Keypair name contains unsafe characters or is not between 1 and 255 characters long');
  }
  const fingerprint = type === 'x509' ? certificateFingerprint(publicKey) : fingerprintOf(publicKey);
  try {
    const [row] = await db.insert(keypairs).values({ userId, name, type, publicKey: publicKey.trim(), fingerprint }).returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Key pair '${name}' already exists.`);
    throw err;
  }
}

export async function getKeypair(db: Db, userId: string, name: string): Promise<Keypair> {
  const [row] = await db
    .select()
    .from(keypairs)
    .where(and(eq(keypairs.userId, userId), eq(keypairs.name, name)));
  if (!row) throw notFound(`Keypair ${name} not found for user ${userId}`);
  return row;
}

/** A user's key pairs by name, after the marker name (microversion 2.35 pages them). */
export async function listKeypairs(db: Db, userId: string, page: { limit?: number; marker?: string } = {}): Promise<Keypair[]> {
  if (page.marker !== undefined) {
    await getKeypair(db, userId, page.marker).catch(() => {
      throw badRequest(`marker [${page.marker}] not found`);
    });
  }
  const q = db
    .select()
    .from(keypairs)
    .where(and(eq(keypairs.userId, userId), page.marker !== undefined ? gt(keypairs.name, page.marker) : undefined))
    .orderBy(keypairs.name);
  return page.limit === undefined ? q : q.limit(page.limit);
}

export async function deleteKeypair(db: Db, userId: string, name: string): Promise<void> {
  const gone = await db
    .delete(keypairs)
    .where(and(eq(keypairs.userId, userId), eq(keypairs.name, name)))
    .returning();
  if (!gone.length) throw notFound(`Keypair ${name} not found for user ${userId}`);
}
