import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { nextLink, pageOf } from '../../lib/http/paging.ts';
import { badRequest, forbidden } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { createKeypair, deleteKeypair, generateKeypair, getKeypair, listKeypairs, type Keypair } from '../keypairs.ts';
import type { Quotas } from '../quotas.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { introducedIn } from './server-fields.ts';

const CreateBody = Type.Object({
  keypair: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    public_key: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
    type: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('x509')])),
    user_id: Type.Optional(Type.String({ minLength: 1 })),
  }),
});
const ByName = Type.Object({ name: Type.String() });
// The last of a repeated parameter counts, as in Nova.
const Many = Type.Array(Type.String());
const UserQuery = Type.Object({ user_id: Type.Optional(Many), limit: Type.Optional(Many), marker: Type.Optional(Many) });

const summary = (k: Keypair, v: Microversion) => ({
  name: k.name,
  public_key: k.publicKey,
  fingerprint: k.fingerprint,
  ...(v.atLeast('2.2') ? { type: k.type } : {}),
});

/** Whose key pairs: the caller's, or from 2.10 another user's for the admin. */
function ownerOf(request: FastifyRequest, asked: string | undefined): string {
  const auth = authOf(request);
  if (asked === undefined || asked === auth.userId || versionOf(request).below('2.10')) return auth.userId;
  if (!allows('compute:context_is_admin', auth)) throw forbidden(`Policy doesn't allow os_compute_api:os-keypairs to be performed for user ${asked}.`);
  return asked;
}

export function keypairRoutes(app: FastifyInstance, store: Store, quotas: Quotas): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const policy = { policy: 'compute:keypairs' };

  api.get('/os-keypairs', { config: policy, schema: { querystring: UserQuery } }, async (request) => {
    const v = versionOf(request);
    const q = request.query;
    // Paging came with 2.35; before it, every key pair in one page.
    const page = v.atLeast('2.35') ? pageOf({ limit: q.limit?.at(-1), marker: q.marker?.at(-1) }) : undefined;
    const rows = await listKeypairs(db, ownerOf(request, q.user_id?.at(-1)), page);
    const next =
      page &&
      nextLink(
        request,
        page,
        rows.map((k) => ({ id: k.name })),
      );
    return { keypairs: rows.map((k) => ({ keypair: summary(k, v) })), ...(next ? { keypairs_links: [{ rel: 'next', href: next }] } : {}) };
  });

  api.get('/os-keypairs/:name', { config: policy, schema: { params: ByName, querystring: UserQuery } }, async (request) => {
    const k = await getKeypair(db, ownerOf(request, request.query.user_id?.at(-1)), request.params.name);
    return {
      keypair: {
        ...summary(k, versionOf(request)),
        id: k.id,
        user_id: k.userId,
        created_at: k.createdAt.toISOString().slice(0, -1),
        deleted: false,
        deleted_at: null,
        updated_at: null,
      },
    };
  });

  // Nova answers 200 at 2.1 and 201 from 2.2; a generated key's private half is shown this once
  // only, and from 2.92 keys are imported only.
  api.post('/os-keypairs', { config: policy, schema: { body: CreateBody } }, async (request, reply) => {
    const v = versionOf(request);
    const body = request.body.keypair;
    introducedIn(v, 'keypair', body, { type: '2.2', user_id: '2.10' });
    const { name, public_key, type = 'ssh' } = body;
    if (public_key === undefined && v.atLeast('2.92')) throw badRequest(`Invalid input for field/attribute keypair. 'public_key' is a required property`);
    if (public_key === undefined && type === 'x509') throw badRequest('This cloud does not generate x509 key pairs: import a certificate as public_key.');
    const userId = ownerOf(request, body.user_id);
    const generated = public_key === undefined ? generateKeypair() : undefined;
    const k = await store.tx(async (tx) => {
      await quotas.reserveKeypair(tx, userId, authOf(request).project?.id);
      return createKeypair(tx, userId, name, public_key ?? generated!.publicKey, type);
    });
    return reply
      .status(v.atLeast('2.2') ? 201 : 200)
      .send({ keypair: { ...summary(k, v), user_id: k.userId, ...(generated ? { private_key: generated.privateKey } : {}) } });
  });

  api.delete('/os-keypairs/:name', { config: policy, schema: { params: ByName, querystring: UserQuery } }, async (request, reply) => {
    await deleteKeypair(db, ownerOf(request, request.query.user_id?.at(-1)), request.params.name);
    return reply.status(deleteStatus(versionOf(request))).send();
  });
}

/** Nova answers a delete with 202 at 2.1 and 204 from 2.2. */
const deleteStatus = (v: Microversion) => (v.atLeast('2.2') ? 204 : 202);
