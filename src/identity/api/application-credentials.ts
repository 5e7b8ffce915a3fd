import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import type { Identity } from '../identity.ts';
import { createAppCredential, deleteAppCredential, getAppCredential, listAppCredentials } from '../app-credentials.ts';
import { listRoles } from '../roles.ts';
import { rulesOf } from '../access-rules.ts';
import { appCredentialView, listLinks } from './views.ts';
import { parseExpiry } from './times.ts';

// Keystone's schema: each rule names an existing one by id, or gives all three of its parts.
const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S+$' });
const AccessRuleBody = Type.Object(
  {
    id: Type.Optional(IdString),
    service: Type.Optional(IdString),
    method: Type.Optional(Type.Union(['POST', 'GET', 'HEAD', 'PATCH', 'PUT', 'DELETE'].map((m) => Type.Literal(m)))),
    path: Type.Optional(Type.String({ maxLength: 225, pattern: '^/' })),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object({
  application_credential: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    secret: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    expires_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    unrestricted: Type.Optional(Type.Boolean()),
    roles: Type.Optional(Type.Array(Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) }))),
    access_rules: Type.Optional(Type.Union([Type.Array(AccessRuleBody), Type.Null()])),
  }),
});
const UserParams = Type.Object({ user_id: Type.String() });
const CredParams = Type.Object({ user_id: Type.String(), credential_id: Type.String() });

export function appCredentialRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const roleNames = async () => new Map((await listRoles(db)).map((r) => [r.id, r.name]));
  const base = '/v3/users/:user_id/application_credentials';

  api.get(base, { config: { policy: 'identity:list_application_credentials' }, schema: { params: UserParams, querystring: Type.Object({ name: Type.Optional(Type.String()) }) } }, async (request) => {
    const names = await roleNames();
    const creds = await listAppCredentials(db, request.params.user_id, request.query.name);
    const rules = await rulesOf(db, creds.map((c) => c.id));
    return {
      application_credentials: creds.map((c) => appCredentialView(request.publicUrl, c, names, rules.get(c.id))),
      links: listLinks(request.publicUrl, `users/${request.params.user_id}/application_credentials`),
    };
  });

  api.post(base, { config: { policy: 'identity:create_application_credential' }, schema: { params: UserParams, body: CreateBody } }, async (request, reply) => {
    const input = request.body.application_credential;
    const { cred, secret, accessRules } = await identity.change((tx) =>
      createAppCredential(tx, authOf(request), {
        name: input.name,
        secret: input.secret ?? undefined,
        description: input.description,
        expiresAt: parseExpiry(input.expires_at),
        unrestricted: input.unrestricted,
        roles: input.roles,
        accessRules: input.access_rules ?? undefined,
      }),
    );
    return reply.status(201).send({ application_credential: { ...appCredentialView(request.publicUrl, cred, await roleNames(), accessRules), secret } });
  });

  api.get(`${base}/:credential_id`, { config: { policy: 'identity:get_application_credential' }, schema: { params: CredParams } }, async (request) => {
    const cred = await getAppCredential(db, request.params.user_id, request.params.credential_id);
    const rules = await rulesOf(db, [cred.id]);
    return { application_credential: appCredentialView(request.publicUrl, cred, await roleNames(), rules.get(cred.id)) };
  });

  api.delete(`${base}/:credential_id`, { config: { policy: 'identity:delete_application_credential' }, schema: { params: CredParams } }, async (request, reply) => {
    await identity.change((tx) => deleteAppCredential(tx, authOf(request), request.params.user_id, request.params.credential_id));
    return reply.status(204).send();
  });
}
