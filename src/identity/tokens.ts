import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { desc, gt, lt } from 'drizzle-orm';
import type { Store } from '../lib/store/db.ts';
import type { Logger } from '../lib/log.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { notFound, unauthorized } from '../lib/errors.ts';
import { revocations, tokenKeys } from './tables.ts';

/** What a token carries, encrypted: who, which scope, when. Roles are not in it: they are read
 * at validation, so that removing a role takes effect on the tokens already issued. */
export interface TokenPayload {
  userId: string;
  projectId?: string;
  domainId?: string;
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  /** This token's audit id first, then the one of the token it was rescoped from. */
  auditIds: string[];
  applicationCredentialId?: string;
  /** A system-scoped token. */
  system?: true;
  /** A token issued through this trust. */
  trustId?: string;
}

interface Revocation {
  auditId: string | null;
  userId: string | null;
  projectId: string | null;
  issuedBefore: number;
}

const VERSION = 1;

/**
 * Tokens are stateless: AES-256-GCM over a small payload with a key kept in the store, so any
 * controller can validate them without a database round trip. Revocation events (by audit id,
 * user or project) live in the store and in memory; every identity change clears the cache of
 * validated tokens, here and, through the store's notifications, in every other process.
 */
export class Tokens {
  private keys: Buffer[] = [];
  private revoked: Revocation[] = [];
  private readonly cache = new Map<string, AuthContext>();
  private generation = 0;

  constructor(
    private readonly store: Store,
    /** Builds the context of a decrypted token from the store; throws if it is no longer valid. */
    private readonly resolve: (payload: TokenPayload, token: string) => Promise<AuthContext>,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.store.db
      .insert(tokenKeys)
      .values({ id: 1, key: randomBytes(32).toString('base64') })
      .onConflictDoNothing();
    const rows = await this.store.db.select().from(tokenKeys).orderBy(desc(tokenKeys.id));
    this.keys = rows.map((r) => Buffer.from(r.key, 'base64'));
    await this.store.listen('identity', () =>
      this.refresh().catch((err) => {
        // Without a fresh revocation list no cached token may be trusted: forget them all.
        this.cache.clear();
        this.log.error({ err }, 'reloading token revocations failed');
      }),
    );
    await this.refresh();
  }

  /** Reloads revocations, then forgets every validated token. Called after each identity change. */
  async refresh(): Promise<void> {
    this.generation++;
    const now = new Date();
    await this.store.db.delete(revocations).where(lt(revocations.expiresAt, now));
    const rows = await this.store.db.select().from(revocations).where(gt(revocations.expiresAt, now));
    this.revoked = rows.map((r) => ({ ...r, issuedBefore: r.issuedBefore.getTime() }));
    this.cache.clear();
  }

  encode(payload: TokenPayload): string {
    const key = this.keys[0];
    if (!key) throw new Error('token keys not loaded');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  private decode(token: string): TokenPayload | undefined {
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 1 + 12 + 16 + 2 || raw[0] !== VERSION) return undefined;
    const iv = raw.subarray(1, 13);
    const tag = raw.subarray(raw.length - 16);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        const text = Buffer.concat([decipher.update(raw.subarray(13, raw.length - 16)), decipher.final()]);
        return JSON.parse(text.toString()) as TokenPayload;
      } catch {
        // Not this key (or tampered): try the next one.
      }
    }
    return undefined;
  }

  isRevoked(p: TokenPayload): boolean {
    return this.revoked.some(
      (r) =>
        (r.auditId === null || p.auditIds.includes(r.auditId)) &&
        (r.userId === null || r.userId === p.userId) &&
        (r.projectId === null || r.projectId === p.projectId) &&
        p.issuedAt <= r.issuedBefore,
    );
  }

  /** The caller's context for an X-Auth-Token; 401 for anything invalid, expired or revoked. */
  async validate(token: string): Promise<AuthContext> {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expiresAt.getTime() > Date.now()) return cached;
      this.cache.delete(token);
      throw unauthorized('The token has expired.');
    }
    const generation = this.generation;
    const payload = this.decode(token);
    if (!payload) throw unauthorized();
    if (payload.expiresAt <= Date.now()) throw unauthorized('The token has expired.');
    if (this.isRevoked(payload)) throw unauthorized('The token has been revoked.');
    const ctx = await this.resolve(payload, token);
    // A change that landed while the context was being built may have invalidated it.
    if (generation === this.generation) {
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(token, ctx);
    }
    return ctx;
  }

  /** Validates the subject of GET/HEAD/DELETE /v3/auth/tokens: Keystone answers 404 there. */
  async validateSubject(token: string): Promise<AuthContext> {
    try {
      return await this.validate(token);
    } catch {
      throw notFound('Failed to validate token');
    }
  }

  remember(ctx: AuthContext): void {
    this.cache.set(ctx.token, ctx);
  }
}
