import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import type { Store } from '../../lib/store/db.ts';
import { createKeypair, deleteKeypair, generateKeypair, getKeypair, listKeypairs, type Keypair } from '../keypairs.ts';
import type { Quotas } from '../quotas.ts';

const CreateBody = Type.Object({
  keypair: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    public_key: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
  }),
});
const ByName = Type.Object({ name: Type.String() });

const summary = (k: Keypair) => ({ name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint });

export function keypairRoutes(app: FastifyInstance, store: Store, quotas: Quotas): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const policy = { policy: 'compute:keypairs' };

  api.get('/os-keypairs', { config: policy }, async (request) => ({
    keypairs: (await listKeypairs(db, authOf(request).userId)).map((k) => ({ keypair: summary(k) })),
  }));

  api.get('/os-keypairs/:name', { config: policy, schema: { params: ByName } }, async (request) => {
    const auth = authOf(request);
    const k = await getKeypair(db, auth.userId, request.params.name);
    return {
      keypair: {
        ...summary(k),
        id: k.id,
        user_id: k.userId,
        created_at: k.createdAt.toISOString().slice(0, -1),
        deleted: false,
        deleted_at: null,
        updated_at: null,
      },
    };
  });

  // Nova answers 200 at 2.1 (201 from 2.2); a generated key's private half is shown this once only.
  api.post('/os-keypairs', { config: policy, schema: { body: CreateBody } }, async (request) => {
    const auth = authOf(request);
    const { name, public_key } = request.body.keypair;
    const generated = public_key === undefined ? generateKeypair() : undefined;
    const k = await store.tx(async (tx) => {
      await quotas.reserveKeypair(tx, auth.userId, auth.project?.id);
      return createKeypair(tx, auth.userId, name, public_key ?? generated!.publicKey);
    });
    return { keypair: { ...summary(k), user_id: k.userId, ...(generated ? { private_key: generated.privateKey } : {}) } };
  });

  api.delete('/os-keypairs/:name', { config: policy, schema: { params: ByName } }, async (request, reply) => {
    await deleteKeypair(db, authOf(request).userId, request.params.name);
    return reply.status(202).send();
  });
}
