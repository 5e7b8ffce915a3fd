import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { forbidden } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import type { AuthRequest } from '../authenticate.ts';
import { loginSubject, type LoginLimits } from '../login-limits.ts';
import { busy } from '../kdf-pool.ts';
import { kdfFull } from '../passwords.ts';
import { listAssignments } from '../assignments.ts';
import { getDomain } from '../domains.ts';
import { userProjects } from '../projects.ts';
import { heldSystemRoles } from '../system.ts';
import { domainView, listLinks, projectView, tokenView } from './views.ts';

// Keystone's own bounds: what a login names is also a key of the login limits, kept for a window.
const Id = Type.String({ maxLength: 64 });
const Name = Type.String({ maxLength: 255 });
const Secret = Type.String({ maxLength: 4096 });
const Ref = Type.Object({
  id: Type.Optional(Id),
  name: Type.Optional(Name),
  domain: Type.Optional(Type.Object({ id: Type.Optional(Id), name: Type.Optional(Name) })),
});

const AuthBody = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String(), { minItems: 1 }),
      password: Type.Optional(Type.Object({ user: Type.Intersect([Ref, Type.Object({ password: Secret })]) })),
      token: Type.Optional(Type.Object({ id: Type.String() })),
      application_credential: Type.Optional(Type.Object({ id: Type.Optional(Id), name: Type.Optional(Name), secret: Secret, user: Type.Optional(Ref) })),
    }),
    scope: Type.Optional(
      Type.Union([
        Type.Literal('unscoped'),
        Type.Object({
          project: Type.Optional(Ref),
          domain: Type.Optional(Ref),
          system: Type.Optional(Type.Object({ all: Type.Optional(Type.Boolean()) })),
          'OS-TRUST:trust': Type.Optional(Type.Object({ id: Type.Optional(Id) })),
        }),
      ]),
    ),
  }),
});

const NoCatalog = Type.Object({ nocatalog: Type.Optional(Type.String()) });

/** The subject token of a validate/revoke call, which only its owner or a holder of `othersRule`
 * (an admin; a service too for validation) may look at. */
async function subjectOf(identity: Identity, request: FastifyRequest, othersRule: string) {
  const auth = authOf(request);
  const subject = await identity.tokens.validateSubject(String(request.headers['x-subject-token'] ?? ''));
  if (subject.userId !== auth.userId && !allows(othersRule, auth)) throw forbidden();
  return subject;
}

const wantsCatalog = (q: { nocatalog?: string }) => q.nocatalog === undefined;

export function authRoutes(app: FastifyInstance, identity: Identity, limits: LoginLimits): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  // An address over its limit is refused before its body is even read: a flood costs little.
  const onRequest = async (request: FastifyRequest) => limits.checkAddress(request.ip);

  api.post('/v3/auth/tokens', { config: { public: true }, onRequest, schema: { body: AuthBody, querystring: NoCatalog } }, async (request, reply) => {
    const auth = request.body.auth as AuthRequest;
    // With the hashing queue full, a login that needs it is answered before any lookup.
    if (loginSubject(auth) !== undefined && kdfFull()) throw busy();
    const ctx = await limits.attempt(auth, request.ip, () => identity.issue(auth));
    const catalog = wantsCatalog(request.query) ? await identity.catalogFor(ctx) : undefined;
    return reply.status(201).header('x-subject-token', ctx.token).send(tokenView(ctx, catalog));
  });

  api.get('/v3/auth/tokens', { config: { policy: 'identity:validate_token' }, schema: { querystring: NoCatalog } }, async (request, reply) => {
    const subject = await subjectOf(identity, request, 'identity:service_admin_required');
    const catalog = wantsCatalog(request.query) ? await identity.catalogFor(subject) : undefined;
    return reply.header('x-subject-token', subject.token).send(tokenView(subject, catalog));
  });

  api.delete('/v3/auth/tokens', { config: { policy: 'identity:revoke_token' } }, async (request, reply) => {
    const subject = await subjectOf(identity, request, 'identity:admin_required');
    await identity.change((tx) => identity.revoke(tx, { auditId: subject.auditIds[0] }));
    return reply.status(204).send();
  });

  api.get('/v3/auth/catalog', { config: { policy: 'identity:get_auth_catalog' } }, async (request) => ({
    catalog: await identity.catalogFor(authOf(request)),
    links: listLinks(request.publicUrl, 'auth/catalog'),
  }));

  api.get('/v3/auth/projects', { config: { policy: 'identity:get_auth_projects' } }, async (request) => {
    const { db } = identity.store;
    const projects = (await userProjects(db, authOf(request).userId)).filter((p) => p.enabled);
    return { projects: projects.map((p) => projectView(request.publicUrl, p)), links: listLinks(request.publicUrl, 'auth/projects') };
  });

  api.get('/v3/auth/domains', { config: { policy: 'identity:get_auth_domains' } }, async (request) => {
    const { db } = identity.store;
    const ids = new Set((await listAssignments(db, { userId: authOf(request).userId })).filter((a) => a.targetType === 'domain').map((a) => a.targetId));
    const domains = await Promise.all([...ids].map((id) => getDomain(db, id)));
    return { domains: domains.filter((d) => d.enabled).map((d) => domainView(request.publicUrl, d)), links: listLinks(request.publicUrl, 'auth/domains') };
  });

  api.get('/v3/auth/system', { config: { policy: 'identity:get_auth_system' } }, async (request) => {
    const granted = await heldSystemRoles(identity.store.db, authOf(request).userId);
    return { system: granted.length ? [{ all: true }] : [], links: { self: `${request.publicUrl}/identity/v3/auth/system` } };
  });
}
