import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Identity } from '../identity.ts';
import { createRole, deleteRole, getRole, listRoles, updateRole } from '../roles.ts';
import { listLinks, roleView } from './views.ts';

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Description = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const ById = Type.Object({ role_id: Type.String() });

export function roleRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/roles', { config: { policy: 'identity:list_roles' }, schema: { querystring: Type.Object({ name: Type.Optional(Type.String()) }) } }, async (request) => ({
    roles: (await listRoles(db, request.query.name)).map((r) => roleView(request.publicUrl, r)),
    links: listLinks(request.publicUrl, 'roles'),
  }));

  api.post(
    '/v3/roles',
    { config: { policy: 'identity:create_role' }, schema: { body: Type.Object({ role: Type.Object({ name: Name, description: Description }) }) } },
    async (request, reply) => {
      const role = await identity.change((tx) => createRole(tx, request.body.role));
      return reply.status(201).send({ role: roleView(request.publicUrl, role) });
    },
  );

  api.get('/v3/roles/:role_id', { config: { policy: 'identity:get_role' }, schema: { params: ById } }, async (request) => ({
    role: roleView(request.publicUrl, await getRole(db, request.params.role_id)),
  }));

  api.patch(
    '/v3/roles/:role_id',
    { config: { policy: 'identity:update_role' }, schema: { params: ById, body: Type.Object({ role: Type.Object({ name: Type.Optional(Name), description: Description }) }) } },
    async (request) => ({ role: roleView(request.publicUrl, await identity.change((tx) => updateRole(tx, request.params.role_id, request.body.role))) }),
  );

  api.delete('/v3/roles/:role_id', { config: { policy: 'identity:delete_role' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => deleteRole(tx, request.params.role_id));
    return reply.status(204).send();
  });
}
