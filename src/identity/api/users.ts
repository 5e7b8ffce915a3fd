import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { flag } from '../../lib/http/query.ts';
import type { Identity } from '../identity.ts';
import { checkPassword, createUser, deleteUser, findUser, getUser, listUsers, setOwnPassword, updateUser } from '../users.ts';
import type { LoginLimits } from '../login-limits.ts';
import { getProject } from '../projects.ts';
import { DEFAULT_DOMAIN_ID } from '../ids.ts';
import { listLinks, userView } from './views.ts';
import { unauthorized } from '../../lib/errors.ts';
import { verifyPassword } from '../passwords.ts';

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

export function userRoutes(app: FastifyInstance, identity: Identity, limits: LoginLimits): void {
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
      return createUser(
        tx,
        {
          name: input.name,
          domainId,
          password: input.password,
          enabled: input.enabled,
          defaultProjectId: input.default_project_id,
          description: input.description,
          email: input.email,
        },
        identity.passwordRules,
      );
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
      const updated = await updateUser(
        tx,
        request.params.user_id,
        {
          name: input.name,
          password: input.password,
          enabled: input.enabled,
          defaultProjectId: input.default_project_id,
          description: input.description,
          email: input.email,
        },
        identity.passwordRules,
      );
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

  // As Keystone, the original password is the credential here, not a token: a user whose password
  // has expired can still change it. It counts against the login limits and the lockout as a login.
  api.post(
    '/v3/users/:user_id/password',
    { config: { public: true }, onRequest: async (request) => limits.checkAddress(request.ip), schema: { params: ById, body: PasswordBody } },
    async (request, reply) => {
      const { password, original_password } = request.body.user;
      const id = request.params.user_id;
      const login = { identity: { methods: ['password'], password: { user: { id, password: original_password } } } };
      const rules = identity.passwordRules;
      const user = await limits.attempt(login, request.ip, async () => {
        const found = await findUser(db, { id }).catch(() => undefined);
        if (!found) {
          // As long as a wrong password takes, so that ids cannot be told apart by time.
          await verifyPassword(original_password, null);
          throw unauthorized();
        }
        return checkPassword(db, found, original_password, rules, 'allow');
      });
      await identity.change(async (tx) => {
        await setOwnPassword(tx, await getUser(tx, user.id), password, rules);
        // Keystone ends every session of the user, this one included.
        await identity.revoke(tx, { userId: user.id });
      });
      return reply.status(204).send();
    },
  );
}
