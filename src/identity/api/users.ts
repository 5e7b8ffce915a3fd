import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { flag } from '../../lib/http/query.ts';
import { unauthorized } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { checkPassword, createUser, deleteUser, getUser, listUsers, updateUser } from '../users.ts';
import { getProject } from '../projects.ts';
import { DEFAULT_DOMAIN_ID } from '../ids.ts';
import { listLinks, userView } from './views.ts';

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Fields = {
  password: Nullable(Type.String({ maxLength: 4096 })),
  enabled: Type.Optional(Type.Boolean()),
  default_project_id: Nullable(Type.String()),
  description: Nullable(Type.String()),
  email: Nullable(Type.String()),
};
const CreateBody = Type.Object({ user: Type.Object({ name: Name, domain_id: Type.Optional(Type.String()), ...Fields }) });
const UpdateBody = Type.Object({ user: Type.Object({ name: Type.Optional(Name), ...Fields }) });
const PasswordBody = Type.Object({ user: Type.Object({ password: Type.String({ minLength: 1, maxLength: 4096 }), original_password: Type.String() }) });
const ListQuery = Type.Object({ name: Type.Optional(Type.String()), domain_id: Type.Optional(Type.String()), enabled: Type.Optional(Type.String()) });
const ById = Type.Object({ user_id: Type.String() });

export function userRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/users', { config: { policy: 'identity:list_users' }, schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query;
    const users = await listUsers(db, { name: q.name, domainId: q.domain_id, enabled: flag(q.enabled, 'enabled') });
    return { users: users.map((u) => userView(request.publicUrl, u)), links: listLinks(request.publicUrl, 'users') };
  });

  api.post('/v3/users', { config: { policy: 'identity:create_user' }, schema: { body: CreateBody } }, async (request, reply) => {
    const { user: input } = request.body;
    const auth = authOf(request);
    const domainId = input.domain_id ?? auth.project?.domainId ?? auth.domain?.id ?? DEFAULT_DOMAIN_ID;
    const user = await identity.change(async (tx) => {
      if (input.default_project_id) await getProject(tx, input.default_project_id);
      return createUser(tx, {
        name: input.name,
        domainId,
        password: input.password,
        enabled: input.enabled,
        defaultProjectId: input.default_project_id,
        description: input.description,
        email: input.email,
      });
    });
    return reply.status(201).send({ user: userView(request.publicUrl, user) });
  });

  api.get('/v3/users/:user_id', { config: { policy: 'identity:get_user' }, schema: { params: ById } }, async (request) => ({
    user: userView(request.publicUrl, await getUser(db, request.params.user_id)),
  }));

  api.patch('/v3/users/:user_id', { config: { policy: 'identity:update_user' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const { user: input } = request.body;
    const user = await identity.change(async (tx) => {
      if (input.default_project_id) await getProject(tx, input.default_project_id);
      const updated = await updateUser(tx, request.params.user_id, {
        name: input.name,
        password: input.password,
        enabled: input.enabled,
        defaultProjectId: input.default_project_id,
        description: input.description,
        email: input.email,
      });
      // A new password ends the sessions opened with the old one.
      if (input.password !== undefined) await identity.revoke(tx, { userId: updated.id });
      return updated;
    });
    return { user: userView(request.publicUrl, user) };
  });

  api.delete('/v3/users/:user_id', { config: { policy: 'identity:delete_user' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => deleteUser(tx, request.params.user_id));
    return reply.status(204).send();
  });

  api.post(
    '/v3/users/:user_id/password',
    { config: { policy: 'identity:change_password' }, schema: { params: ById, body: PasswordBody } },
    async (request, reply) => {
      const { password, original_password } = request.body.user;
      await identity.change(async (tx) => {
        const user = await getUser(tx, request.params.user_id);
        await checkPassword(tx, user, original_password).catch(() => {
          throw unauthorized('The original password is not correct.');
        });
        await updateUser(tx, user.id, { password });
        await identity.revoke(tx, { userId: user.id });
      });
      return reply.status(204).send();
    },
  );
}
