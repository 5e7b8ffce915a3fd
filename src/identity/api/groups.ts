import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import type { Identity } from '../identity.ts';
import {
  addMember,
  checkMember,
  createGroup,
  deleteGroup,
  getGroup,
  groupUsers,
  listGroups,
  removeMember,
  updateGroup,
  userGroups,
  type Group,
} from '../groups.ts';
import { DEFAULT_DOMAIN_ID } from '../ids.ts';
import { listLinks, selfLink, userView } from './views.ts';

const Name = Type.String({ minLength: 1, maxLength: 64 });
const Description = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const ById = Type.Object({ group_id: Type.String() });
const Member = Type.Object({ group_id: Type.String(), user_id: Type.String() });

export const groupView = (base: string, g: Group) => ({
  id: g.id,
  name: g.name,
  domain_id: g.domainId,
  description: g.description,
  links: selfLink(base, `groups/${g.id}`),
});

export function groupRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get(
    '/v3/groups',
    {
      config: { policy: 'identity:list_groups' },
      schema: { querystring: Type.Object({ name: Type.Optional(Type.String()), domain_id: Type.Optional(Type.String()) }) },
    },
    async (request) => {
      const groups = await listGroups(db, { name: request.query.name, domainId: request.query.domain_id });
      return { groups: groups.map((g) => groupView(request.publicUrl, g)), links: listLinks(request.publicUrl, 'groups') };
    },
  );

  api.post(
    '/v3/groups',
    {
      config: { policy: 'identity:create_group' },
      schema: { body: Type.Object({ group: Type.Object({ name: Name, domain_id: Type.Optional(Type.String()), description: Description }) }) },
    },
    async (request, reply) => {
      const { group: input } = request.body;
      const auth = authOf(request);
      // As projects and users: the domain named, else the domain of the caller's scope.
      const domainId = input.domain_id ?? auth.project?.domainId ?? auth.domain?.id ?? DEFAULT_DOMAIN_ID;
      const group = await identity.change((tx) => createGroup(tx, { name: input.name, domainId, description: input.description }));
      return reply.status(201).send({ group: groupView(request.publicUrl, group) });
    },
  );

  api.get('/v3/groups/:group_id', { config: { policy: 'identity:get_group' }, schema: { params: ById } }, async (request) => ({
    group: groupView(request.publicUrl, await getGroup(db, request.params.group_id)),
  }));

  api.patch(
    '/v3/groups/:group_id',
    {
      config: { policy: 'identity:update_group' },
      schema: { params: ById, body: Type.Object({ group: Type.Object({ name: Type.Optional(Name), description: Description }) }) },
    },
    async (request) => {
      const group = await identity.change((tx) => updateGroup(tx, request.params.group_id, request.body.group));
      return { group: groupView(request.publicUrl, group) };
    },
  );

  api.delete('/v3/groups/:group_id', { config: { policy: 'identity:delete_group' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => deleteGroup(tx, request.params.group_id));
    return reply.status(204).send();
  });

  api.get('/v3/groups/:group_id/users', { config: { policy: 'identity:list_users_in_group' }, schema: { params: ById } }, async (request) => {
    const users = await groupUsers(db, request.params.group_id);
    return { users: users.map((u) => userView(request.publicUrl, u)), links: listLinks(request.publicUrl, `groups/${request.params.group_id}/users`) };
  });

  api.put('/v3/groups/:group_id/users/:user_id', { config: { policy: 'identity:add_user_to_group' }, schema: { params: Member } }, async (request, reply) => {
    await identity.change((tx) => addMember(tx, request.params.group_id, request.params.user_id));
    return reply.status(204).send();
  });

  // GET checks membership as HEAD does (Fastify answers HEAD from this route).
  api.get('/v3/groups/:group_id/users/:user_id', { config: { policy: 'identity:check_user_in_group' }, schema: { params: Member } }, async (request, reply) => {
    await checkMember(db, request.params.group_id, request.params.user_id);
    return reply.status(204).send();
  });

  api.delete(
    '/v3/groups/:group_id/users/:user_id',
    { config: { policy: 'identity:remove_user_from_group' }, schema: { params: Member } },
    async (request, reply) => {
      await identity.change((tx) => removeMember(tx, request.params.group_id, request.params.user_id));
      return reply.status(204).send();
    },
  );

  api.get(
    '/v3/users/:user_id/groups',
    { config: { policy: 'identity:list_groups_for_user' }, schema: { params: Type.Object({ user_id: Type.String() }) } },
    async (request) => {
      const groups = await userGroups(db, request.params.user_id);
      return { groups: groups.map((g) => groupView(request.publicUrl, g)), links: listLinks(request.publicUrl, `users/${request.params.user_id}/groups`) };
    },
  );
}
