import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden, notFound } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { createCredential, deleteCredential, ec2Blob, findCredential, listCredentials, updateCredential, type Credential } from '../credentials.ts';
import { delegationOf } from '../ec2.ts';
import { listLinks, selfLink } from './views.ts';

export const credentialView = (base: string, c: Credential) => ({
  id: c.id,
  user_id: c.userId,
  project_id: c.projectId,
  type: c.type,
  blob: c.blob,
  links: selfLink(base, `credentials/${c.id}`),
});

const Fields = {
  user_id: Type.String({ minLength: 1, maxLength: 64 }),
  project_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  type: Type.String({ minLength: 1, maxLength: 255 }),
  blob: Type.String(),
};
const CreateBody = Type.Object({ credential: Type.Object({ id: Type.Optional(Type.String({ maxLength: 64 })), ...Fields }) });
const UpdateBody = Type.Object({
  credential: Type.Object(
    {
      id: Type.Optional(Type.String()),
      user_id: Type.Optional(Fields.user_id),
      project_id: Fields.project_id,
      type: Type.Optional(Fields.type),
      blob: Type.Optional(Fields.blob),
    },
    { minProperties: 1 },
  ),
});
const Params = Type.Object({ credential_id: Type.String() });

/** A delegated token (a trust's, an application credential's) reaches only the credentials of
 * its own project, and a restricted application credential makes no ec2 credential. */
export function checkDelegation(auth: AuthContext, projectId: string | null, makesEc2 = false): void {
  if (!auth.applicationCredentialId && !auth.trust) return;
  if (makesEc2 && auth.applicationCredentialId && !auth.applicationCredential?.unrestricted) {
    throw forbidden("Using method 'application_credential' is not allowed for managing additional credentials.");
  }
  if (projectId !== (auth.project?.id ?? null)) throw forbidden('Credential project does not match the project scope of the delegated token');
}

/** Whether the caller may act on a credential: an admin on any, a user on its own. */
const may = (rule: string, auth: AuthContext, c: { userId: string; projectId: string | null }) => {
  if (!allows(rule, auth, { user_id: c.userId })) return false;
  try {
    checkDelegation(auth, c.projectId);
    return true;
  } catch {
    return false;
  }
};

/** Keystone's /v3/credentials: secrets (ec2, cert, totp…) kept for their users, encrypted at rest.
 * Every route is open to any token; the rules are checked against the credential itself. */
export function credentialRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const key = identity.credentialKey;

  /** The credential the caller may act on; one it may not is as forbidden as one that does not exist. */
  const owned = async (rule: string, auth: AuthContext, id: string) => {
    const c = await findCredential(db, key, id);
    if (c && may(rule, auth, c)) return c;
    if (!c && allows('identity:admin_required', auth)) throw notFound(`Could not find credential: ${id}.`);
    throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
  };

  api.get(
    '/v3/credentials',
    {
      config: { policy: 'identity:credential_api' },
      schema: { querystring: Type.Object({ user_id: Type.Optional(Type.String()), type: Type.Optional(Type.String()) }) },
    },
    async (request) => {
      const auth = authOf(request);
      const all = await listCredentials(db, key, { userId: request.query.user_id, type: request.query.type });
      return {
        credentials: all.filter((c) => may('identity:get_credential', auth, c)).map((c) => credentialView(request.publicUrl, c)),
        links: listLinks(request.publicUrl, 'credentials'),
      };
    },
  );
  api.post('/v3/credentials', { config: { policy: 'identity:credential_api' }, schema: { body: CreateBody } }, async (request, reply) => {
    const auth = authOf(request);
    const c = request.body.credential;
    if (!allows('identity:create_credential', auth, { user_id: c.user_id }))
      throw forbidden("Policy doesn't allow identity:create_credential to be performed.");
    checkDelegation(auth, c.project_id ?? null, c.type.toLowerCase() === 'ec2');
    // An ec2 credential made under a delegation gives tokens under that same delegation.
    const { trustId, appCredId } = delegationOf(auth);
    const blob =
      c.type.toLowerCase() === 'ec2' && (trustId || appCredId)
        ? JSON.stringify({ ...ec2Blob(c.blob), ...(trustId ? { trust_id: trustId } : {}), ...(appCredId ? { app_cred_id: appCredId } : {}) })
        : c.blob;
    const created = await identity.store.tx((tx) => createCredential(tx, key, { id: c.id, userId: c.user_id, projectId: c.project_id, type: c.type, blob }));
    return reply.status(201).send({ credential: credentialView(request.publicUrl, created) });
  });
  api.get('/v3/credentials/:credential_id', { config: { policy: 'identity:credential_api' }, schema: { params: Params } }, async (request) => ({
    credential: credentialView(request.publicUrl, await owned('identity:get_credential', authOf(request), request.params.credential_id)),
  }));
  api.patch(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:credential_api' }, schema: { params: Params, body: UpdateBody } },
    async (request) => {
      const auth = authOf(request);
      const id = request.params.credential_id;
      const current = await owned('identity:update_credential', auth, id);
      const { id: bodyId, user_id, project_id, type, blob } = request.body.credential;
      if (bodyId !== undefined && bodyId !== id) throw badRequest('Cannot change ID');
      // Nor may a user hand its credential over to another.
      const next = { userId: user_id ?? current.userId, projectId: project_id === undefined ? current.projectId : project_id };
      if (!may('identity:update_credential', auth, next)) throw forbidden("Policy doesn't allow identity:update_credential to be performed.");
      const updated = await identity.store.tx((tx) => updateCredential(tx, key, id, { userId: user_id, projectId: project_id, type, blob }));
      return { credential: credentialView(request.publicUrl, updated) };
    },
  );
  api.delete('/v3/credentials/:credential_id', { config: { policy: 'identity:credential_api' }, schema: { params: Params } }, async (request, reply) => {
    await owned('identity:delete_credential', authOf(request), request.params.credential_id);
    await identity.store.tx((tx) => deleteCredential(tx, request.params.credential_id));
    return reply.status(204).send();
  });
}
