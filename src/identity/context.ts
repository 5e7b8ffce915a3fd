import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { unauthorized } from '../lib/errors.ts';
import { applicationCredentials, domains, users } from './tables.ts';
import type { TokenPayload } from './tokens.ts';
import { effectiveRoles } from './roles.ts';
import { projectWithDomain } from './projects.ts';
import { rulesOf } from './access-rules.ts';
import { effectiveSystemRoles } from './system.ts';
import { trustScope } from './trusts.ts';

/**
 * Builds the caller's context from a token's payload as the store stands now: the user, its
 * domain and the scope must still be enabled, and the roles are read afresh. A scoped token whose
 * user has lost every role there is no longer valid.
 */
export async function resolveContext(db: Db, p: TokenPayload, token: string): Promise<AuthContext> {
  const [user] = await db
    .select({ user: users, domainName: domains.name, domainEnabled: domains.enabled })
    .from(users)
    .innerJoin(domains, eq(domains.id, users.domainId))
    .where(eq(users.id, p.userId));
  if (!user || !user.user.enabled || !user.domainEnabled) throw unauthorized();
  const ctx: AuthContext = {
    token,
    userId: user.user.id,
    userName: user.user.name,
    userDomainId: user.user.domainId,
    userDomainName: user.domainName,
    roles: [],
    methods: p.methods,
    auditIds: p.auditIds,
    issuedAt: new Date(p.issuedAt),
    expiresAt: new Date(p.expiresAt),
    applicationCredentialId: p.applicationCredentialId,
    passwordExpiresAt: user.user.passwordExpiresAt,
  };
  if (p.projectId) {
    const project = await projectWithDomain(db, p.projectId);
    if (!project || !project.project.enabled || !project.domainEnabled) throw unauthorized();
    ctx.project = { id: project.project.id, name: project.project.name, domainId: project.project.domainId, domainName: project.domainName };
    ctx.roles = await effectiveRoles(db, p.userId, 'project', p.projectId);
  } else if (p.domainId) {
    const [domain] = await db.select().from(domains).where(eq(domains.id, p.domainId));
    if (!domain || !domain.enabled) throw unauthorized();
    ctx.domain = { id: domain.id, name: domain.name };
    ctx.roles = await effectiveRoles(db, p.userId, 'domain', p.domainId);
  } else if (p.system) {
    ctx.system = { all: true };
    ctx.roles = await effectiveSystemRoles(db, p.userId);
  }
  if (p.trustId) {
    // The trust, not the token's user, decides the roles; a trust gone or expired ends the token.
    const scope = await trustScope(db, p.trustId);
    if (!scope) throw unauthorized();
    ctx.trust = scope.trust;
    ctx.roles = scope.roles;
  }
  if (p.applicationCredentialId) {
    const [[cred], rules] = await Promise.all([
      db.select().from(applicationCredentials).where(eq(applicationCredentials.id, p.applicationCredentialId)),
      rulesOf(db, [p.applicationCredentialId]),
    ]);
    if (!cred || (cred.expiresAt && cred.expiresAt.getTime() <= Date.now())) throw unauthorized();
    ctx.roles = ctx.roles.filter((r) => cred.roleIds.includes(r.id));
    // Carried with the cached context, so that checking each call against them costs no query.
    ctx.applicationCredential = { name: cred.name, unrestricted: cred.unrestricted, accessRules: rules.get(cred.id) };
  }
  if ((p.projectId || p.domainId || p.system) && ctx.roles.length === 0) throw unauthorized();
  return ctx;
}
