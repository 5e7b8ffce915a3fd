import type { FastifyInstance } from 'fastify';
import type { Store } from '../lib/store/db.ts';
import type { Logger } from '../lib/log.ts';
import { useErrorStyle } from '../lib/http/errors.ts';
import { Identity, type IdentityOptions } from './identity.ts';
import { versionRoutes } from './api/versions.ts';
import { authRoutes } from './api/auth.ts';
import { domainRoutes } from './api/domains.ts';
import { projectRoutes } from './api/projects.ts';
import { userRoutes } from './api/users.ts';
import { trustRoutes } from './api/trusts.ts';
import { systemRoutes } from './api/system.ts';
import { roleRoutes } from './api/roles.ts';
import { roleAssignmentRoutes } from './api/role-assignments.ts';
import { grantRoutes } from './api/grants.ts';
import { groupRoutes } from './api/groups.ts';
import { projectTagRoutes } from './api/project-tags.ts';
import { appCredentialRoutes } from './api/application-credentials.ts';
import { accessRuleRoutes } from './api/access-rules.ts';
import { catalogRoutes } from './api/catalog.ts';
import { regionRoutes } from './api/regions.ts';
import { endpointFilterRoutes } from './api/endpoint-filters.ts';
import { policyRoutes } from './api/policies.ts';
import { credentialRoutes } from './api/credentials.ts';
import { ec2Routes } from './api/ec2.ts';
import { configureKdf, releaseKdf } from './passwords.ts';
import type { KdfPoolOptions } from './kdf-pool.ts';
import { LoginLimits, type LoginLimitOptions } from './login-limits.ts';
import './policy.ts';

export { Identity } from './identity.ts';
export { bootstrap, type CatalogService } from './bootstrap.ts';

/** `kdf` sizes the process's password-hashing threads and their queue. */
export async function createIdentity(store: Store, options: IdentityOptions & { kdf: KdfPoolOptions }, log: Logger): Promise<Identity> {
  configureKdf(options.kdf);
  const identity = new Identity(store, options, log);
  await identity.start();
  return identity;
}

/** Keystone v3, mounted under /identity. Its close lets the hashing threads go. */
export function identityPlugin(identity: Identity, loginLimits: LoginLimitOptions) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'keystone');
    app.addHook('onClose', async () => releaseKdf());
    versionRoutes(app);
    // One set of limits: a password change is a login too.
    const limits = new LoginLimits(loginLimits);
    authRoutes(app, identity, limits);
    domainRoutes(app, identity);
    projectRoutes(app, identity);
    userRoutes(app, identity, limits);
    trustRoutes(app, identity);
    systemRoutes(app, identity);
    roleRoutes(app, identity);
    roleAssignmentRoutes(app, identity);
    grantRoutes(app, identity);
    groupRoutes(app, identity);
    projectTagRoutes(app, identity);
    appCredentialRoutes(app, identity);
    accessRuleRoutes(app, identity);
    catalogRoutes(app, identity);
    regionRoutes(app, identity);
    endpointFilterRoutes(app, identity);
    policyRoutes(app, identity);
    credentialRoutes(app, identity);
    ec2Routes(app, identity);
  };
}
