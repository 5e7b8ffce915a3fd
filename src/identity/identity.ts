import type { Store, Db } from '../lib/store/db.ts';
import { notify } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Logger } from '../lib/log.ts';
import { revocations } from './tables.ts';
import { Tokens, type TokenPayload } from './tokens.ts';
import { resolveContext } from './context.ts';
import { authenticate, type AuthRequest } from './authenticate.ts';
import { NO_RULES, type SecurityCompliance } from './password-rules.ts';
import { readCatalog, catalogForProject, type Catalog, type CatalogEntry } from './catalog.ts';
import { CredentialKey } from './credential-key.ts';

export interface IdentityOptions {
  /** Token lifetime in seconds. */
  tokenTtl: number;
  /** Keystone's [security_compliance] password rules; none when absent. */
  security?: SecurityCompliance;
  /** Holds the key that encrypts credentials (credential.key). */
  dataDir: string;
}

/** The identity service's state shared by its routes: the store, the tokens and the catalog. */
export class Identity {
  readonly tokens: Tokens;
  readonly credentialKey: CredentialKey;
  private catalog?: Promise<Catalog>;

  constructor(
    readonly store: Store,
    readonly options: IdentityOptions,
    log: Logger,
  ) {
    this.tokens = new Tokens(store, (payload, token) => resolveContext(store.db, payload, token), log);
    this.credentialKey = new CredentialKey(options.dataDir);
  }

  async start(): Promise<void> {
    this.credentialKey.load();
    await this.tokens.start();
    await this.store.listen('identity', () => (this.catalog = undefined));
  }

  readonly validate = (token: string) => this.tokens.validate(token);

  get passwordRules(): SecurityCompliance {
    return this.options.security ?? NO_RULES;
  }

  /**
   * Runs a change in one transaction that tells every process (this one at once, others through
   * the store) that identity data changed, so that cached tokens and the catalog are re-read.
   */
  async change<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const result = await this.store.tx(async (tx) => {
      const r = await fn(tx);
      await notify(tx, 'identity', 'changed');
      return r;
    });
    this.catalog = undefined;
    await this.tokens.refresh();
    return result;
  }

  /** Records that tokens matching the event (issued until now) are revoked. */
  async revoke(tx: Db, match: { auditId?: string; userId?: string; projectId?: string }): Promise<void> {
    const now = Date.now();
    await tx.insert(revocations).values({
      auditId: match.auditId ?? null,
      userId: match.userId ?? null,
      projectId: match.projectId ?? null,
      issuedBefore: new Date(now),
      expiresAt: new Date(now + this.options.tokenTtl * 1000),
    });
  }

  /** Issues a token for a login request. A token scoped by default to the user's default project
   * falls back to unscoped when the user holds no role there, as Keystone does. */
  async issue(req: AuthRequest): Promise<AuthContext> {
    const payload = await authenticate(this.store.db, req, this.options.tokenTtl, this.validate, this.passwordRules);
    const ctx = await this.contextOf(payload).catch((err) => {
      if (req.scope !== undefined || !payload.projectId || payload.applicationCredentialId) throw err;
      return this.contextOf({ ...payload, projectId: undefined });
    });
    this.tokens.remember(ctx);
    return ctx;
  }

  private contextOf(payload: TokenPayload): Promise<AuthContext> {
    return resolveContext(this.store.db, payload, this.tokens.encode(payload));
  }

  async catalogFor(ctx: AuthContext): Promise<CatalogEntry[]> {
    this.catalog ??= readCatalog(this.store.db).catch((err) => {
      this.catalog = undefined;
      throw err;
    });
    return catalogForProject(await this.catalog, ctx.project?.id);
  }
}
