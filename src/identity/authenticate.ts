import type { Db } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, forbidden, unauthorized } from '../lib/errors.ts';
import type { TokenPayload } from './tokens.ts';
import { checkPassword, findUser } from './users.ts';
import { findProject } from './projects.ts';
import { findDomain } from './domains.ts';
import { findAppCredential } from './app-credentials.ts';
import { verifyPassword } from './passwords.ts';
import { newId } from './ids.ts';
import { consumeTrust, getTrust } from './trusts.ts';
import { NO_RULES, type SecurityCompliance } from './password-rules.ts';

type Ref = { id?: string; name?: string; domain?: { id?: string; name?: string } };

/** The `auth` object of POST /v3/auth/tokens. */
export interface AuthRequest {
  identity: {
    methods: string[];
    password?: { user: Ref & { password: string } };
    token?: { id: string };
    application_credential?: { id?: string; name?: string; secret: string; user?: Ref };
  };
  scope?: 'unscoped' | { project?: Ref; domain?: { id?: string; name?: string }; system?: { all?: boolean }; 'OS-TRUST:trust'?: { id?: string } };
}

/** Who asks for a token and for how long: the part of the payload a login decides. */
type Login = Pick<TokenPayload, 'userId' | 'methods' | 'applicationCredentialId'> & {
  projectId?: string;
  parent?: AuthContext;
  defaultProjectId?: string | null;
};

// A name that does not exist and a wrong password must look the same to the caller, and take as
// long: the secret that came with an unknown name is checked all the same, against a stand-in.
const orUnauthorized = <T>(p: Promise<T>, secret?: string) =>
  p.catch(async (err) => {
    if (err?.status !== 404) throw err;
    if (secret !== undefined) await verifyPassword(secret, null);
    throw unauthorized();
  });

async function login(db: Db, req: AuthRequest, validate: (token: string) => Promise<AuthContext>, rules: SecurityCompliance): Promise<Login> {
  const { methods } = req.identity;
  if (!Array.isArray(methods) || methods.length !== 1) throw badRequest('Exactly one authentication method must be given.');
  switch (methods[0]) {
    case 'password': {
      const pw = req.identity.password?.user;
      if (!pw || typeof pw.password !== 'string') throw badRequest('The password method needs a user and a password.');
      const user = await orUnauthorized(findUser(db, pw), pw.password);
      await checkPassword(db, user, pw.password, rules);
      return { userId: user.id, methods: ['password'], defaultProjectId: user.defaultProjectId };
    }
    case 'token': {
      const id = req.identity.token?.id;
      if (!id) throw badRequest('The token method needs a token id.');
      const parent = await validate(id);
      if (parent.applicationCredentialId) throw unauthorized('A token from an application credential cannot be rescoped.');
      if (parent.trust) throw forbidden('A trust-scoped token cannot be rescoped; ask for a new trust-scoped token instead.');
      // As Keystone: the new token names the token method first, then the methods of the original login.
      return { userId: parent.userId, methods: ['token', ...parent.methods.filter((m) => m !== 'token')], parent };
    }
    case 'application_credential': {
      const ac = req.identity.application_credential;
      if (!ac || typeof ac.secret !== 'string') throw badRequest('The application_credential method needs an id or name, and a secret.');
      const userId = ac.id ? undefined : (await orUnauthorized(findUser(db, ac.user ?? {}), ac.secret)).id;
      const cred = await findAppCredential(db, { id: ac.id, name: ac.name, userId });
      if (!(await verifyPassword(ac.secret, cred?.secretHash)) || !cred) throw unauthorized();
      if (cred.expiresAt && cred.expiresAt.getTime() <= Date.now()) throw unauthorized('The application credential has expired.');
      return { userId: cred.userId, methods: ['application_credential'], applicationCredentialId: cred.id, projectId: cred.projectId };
    }
    default:
      throw unauthorized(`Authentication method ${methods[0]} is not supported.`);
  }
}

/**
 * Turns a login request into the payload of a new token: checks the credentials, resolves the
 * scope (asked, or the user's default project when none is asked) and the lifetime (a rescoped
 * token never outlives its parent). Access to the scope is checked when the context is built.
 */
export async function authenticate(
  db: Db,
  req: AuthRequest,
  ttlSeconds: number,
  validate: (token: string) => Promise<AuthContext>,
  rules: SecurityCompliance = NO_RULES,
): Promise<TokenPayload> {
  const who = await login(db, req, validate, rules);
  const now = Date.now();
  const payload: TokenPayload = {
    userId: who.userId,
    methods: who.methods,
    issuedAt: now,
    expiresAt: Math.min(now + ttlSeconds * 1000, who.parent?.expiresAt.getTime() ?? Infinity),
    // A rescoped token's second audit id is the one of the chain's first token.
    auditIds: [newId().slice(0, 22), ...(who.parent ? [who.parent.auditIds.at(-1)!] : [])],
    applicationCredentialId: who.applicationCredentialId,
  };
  const scope = req.scope;
  if (who.projectId) {
    // An application credential carries its own project: a scope may name that one, no other.
    const onlyProject = scope !== undefined && scope !== 'unscoped' && scope.project && !scope.domain && !scope.system ? scope.project : undefined;
    const named = scope === undefined ? who.projectId : onlyProject && (await orUnauthorized(findProject(db, onlyProject))).id;
    if (named !== who.projectId) throw unauthorized('Application credentials cannot request a scope.');
    payload.projectId = who.projectId;
  } else if (scope === undefined) {
    if (who.defaultProjectId) payload.projectId = who.defaultProjectId;
  } else if (scope !== 'unscoped') {
    const trustRef = scope['OS-TRUST:trust'];
    if ([trustRef, scope.system, scope.project, scope.domain].filter((s) => s !== undefined).length > 1) throw badRequest('Only one scope may be given.');
    if (trustRef) {
      if (!trustRef.id) throw badRequest('A trust scope needs the id of the trust.');
      const trust = await getTrust(db, trustRef.id);
      if (trust.trusteeUserId !== who.userId) throw forbidden(`User ${who.userId} is not a trustee of trust ${trust.id}.`);
      await consumeTrust(db, trust);
      payload.trustId = trust.id;
      payload.userId = trust.impersonation ? trust.trustorUserId : trust.trusteeUserId;
      if (trust.projectId) payload.projectId = trust.projectId;
      if (trust.expiresAt) payload.expiresAt = Math.min(payload.expiresAt, trust.expiresAt.getTime());
    } else if (scope.system) {
      if (scope.system.all !== true) throw badRequest('The only system scope is {"all": true}.');
      payload.system = true;
    } else if (scope.project) payload.projectId = (await orUnauthorized(findProject(db, scope.project))).id;
    else if (scope.domain) payload.domainId = (await orUnauthorized(findDomain(db, scope.domain))).id;
  }
  return payload;
}
