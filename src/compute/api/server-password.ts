import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import type { Store } from '../../lib/store/db.ts';
import { getServer } from '../servers.ts';

const ById = Type.Object({ server_id: Type.String() });

/**
 * os-server-password: the password a guest agent encrypted with the key pair and posted to the
 * metadata service. Nubo's guests run no such agent, so it is always empty, as Nova answers for a
 * server whose guest never posted one; clearing it is accepted.
 */
export function serverPasswordRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const path = '/servers/:server_id/os-server-password';

  api.get(path, { config: { policy: 'compute:os-server-password:show' }, schema: { params: ById } }, async (request) => {
    await getServer(store.db, authOf(request), request.params.server_id);
    return { password: '' };
  });

  api.delete(path, { config: { policy: 'compute:os-server-password:clear' }, schema: { params: ById } }, async (request, reply) => {
    await getServer(store.db, authOf(request), request.params.server_id);
    return reply.status(204).send();
  });
}
