import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'credential.key';
const VERSION = 1;

/**
 * The key that encrypts credential blobs (AES-256-GCM). It lives in the data directory, apart
 * from the database, so that a copy of the database alone (a dump, a backup) gives no secret
 * away, as Keystone keeps its credential keys in a repository of files. Controllers that share
 * one PostgreSQL must share this file too.
 */
export class CredentialKey {
  private key?: Buffer;
  /** Recorded with each blob, so that a blob sealed under another key is told apart from a tampered one. */
  hash = '';

  constructor(private readonly dataDir: string) {}

  /** Reads the key, or makes it (0600) at the first start. */
  load(): void {
    const path = join(this.dataDir, FILE);
    try {
      writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte key in base64`);
    this.key = key;
    this.hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  private current(): Buffer {
    if (!this.key) throw new Error('the credential key is not loaded');
    return this.key;
  }

  seal(text: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current(), iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64');
  }

  open(sealed: string, keyHash: string): string {
    if (keyHash !== this.hash) {
      throw new Error(`a credential was encrypted with another key than ${join(this.dataDir, FILE)} (key hash ${keyHash}, this key ${this.hash})`);
    }
    const raw = Buffer.from(sealed, 'base64');
    if (raw[0] !== VERSION) throw new Error(`credential blob of unknown version ${raw[0]}`);
    const decipher = createDecipheriv('aes-256-gcm', this.current(), raw.subarray(1, 13));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(13, raw.length - 16)), decipher.final()]).toString('utf8');
  }
}
