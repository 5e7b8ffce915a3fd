import type { AccessRule, AuthContext } from '../../lib/http/auth.ts';
import type { Domain } from '../domains.ts';
import type { Project } from '../projects.ts';
import type { User } from '../users.ts';
import type { Role } from '../roles.ts';
import type { AppCredential } from '../app-credentials.ts';
import type { CatalogEntry } from '../catalog.ts';
import { storedTime } from './times.ts';

/** Keystone's `links.self` of a resource, from the cloud's public URL. */
export const selfLink = (base: string, path: string) => ({ self: `${base}/identity/v3/${path}` });
export const listLinks = (base: string, path: string) => ({ self: `${base}/identity/v3/${path}`, previous: null, next: null });

export const domainView = (base: string, d: Domain) => ({
  id: d.id,
  name: d.name,
  description: d.description,
  enabled: d.enabled,
  tags: [],
  options: {},
  links: selfLink(base, `domains/${d.id}`),
});

export const projectView = (base: string, p: Project) => ({
  id: p.id,
  name: p.name,
  domain_id: p.domainId,
  description: p.description,
  enabled: p.enabled,
  // Keystone names the domain as the parent of the projects at its top.
  parent_id: p.parentId ?? p.domainId,
  is_domain: false,
  tags: p.tags,
  options: {},
  links: selfLink(base, `projects/${p.id}`),
});

export const userView = (base: string, u: User) => ({
  id: u.id,
  name: u.name,
  domain_id: u.domainId,
  enabled: u.enabled,
  password_expires_at: u.passwordExpiresAt ? storedTime(u.passwordExpiresAt) : null,
  options: {},
  ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
  ...(u.description !== null ? { description: u.description } : {}),
  ...(u.email !== null ? { email: u.email } : {}),
  links: selfLink(base, `users/${u.id}`),
});

export const roleView = (base: string, r: Pick<Role, 'id' | 'name' | 'description'>) => ({
  id: r.id,
  name: r.name,
  domain_id: null,
  description: r.description,
  options: {},
  links: selfLink(base, `roles/${r.id}`),
});

// Keystone's order of the fields, which openstackclient prints as it gets them.
const ruleView = (r: AccessRule) => ({ id: r.id, service: r.service, path: r.path, method: r.method });

export const accessRuleView = (base: string, userId: string, r: AccessRule) => ({
  ...ruleView(r),
  links: selfLink(base, `users/${userId}/access_rules/${r.id}`),
});

export const appCredentialView = (base: string, c: AppCredential, roleNames: Map<string, string>, accessRules: AccessRule[] = []) => ({
  id: c.id,
  name: c.name,
  user_id: c.userId,
  project_id: c.projectId,
  description: c.description,
  expires_at: c.expiresAt ? storedTime(c.expiresAt) : null,
  unrestricted: c.unrestricted,
  roles: c.roleIds.map((id) => ({ id, name: roleNames.get(id) ?? id, domain_id: null })),
  access_rules: accessRules.map(ruleView),
  links: selfLink(base, `users/${c.userId}/application_credentials/${c.id}`),
});

/** What a token says of its application credential; the access rules only when it has some. */
const applicationCredentialOf = (id: string, c: AuthContext['applicationCredential']) => ({
  id,
  ...(c ? { name: c.name, restricted: !c.unrestricted } : {}),
  ...(c?.accessRules ? { access_rules: c.accessRules.map(ruleView) } : {}),
});

/** The body of POST and GET /v3/auth/tokens. */
export function tokenView(ctx: AuthContext, catalog?: CatalogEntry[]) {
  return {
    token: {
      methods: ctx.methods,
      user: {
        id: ctx.userId,
        name: ctx.userName,
        domain: { id: ctx.userDomainId, name: ctx.userDomainName },
        password_expires_at: ctx.passwordExpiresAt ? storedTime(ctx.passwordExpiresAt) : null,
      },
      audit_ids: ctx.auditIds,
      expires_at: ctx.expiresAt.toISOString(),
      issued_at: ctx.issuedAt.toISOString(),
      ...(ctx.project
        ? { project: { id: ctx.project.id, name: ctx.project.name, domain: { id: ctx.project.domainId, name: ctx.project.domainName } }, is_domain: false }
        : {}),
      ...(ctx.domain ? { domain: ctx.domain } : {}),
      ...(ctx.system ? { system: ctx.system } : {}),
      ...(ctx.trust
        ? {
            'OS-TRUST:trust': {
              id: ctx.trust.id,
              trustor_user: { id: ctx.trust.trustorUserId },
              trustee_user: { id: ctx.trust.trusteeUserId },
              impersonation: ctx.trust.impersonation,
            },
          }
        : {}),
      ...(ctx.project || ctx.domain || ctx.system || ctx.trust ? { roles: ctx.roles } : {}),
      ...(ctx.applicationCredentialId ? { application_credential: applicationCredentialOf(ctx.applicationCredentialId, ctx.applicationCredential) } : {}),
      ...(catalog ? { catalog } : {}),
    },
  };
}
