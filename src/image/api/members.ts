import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { callerOf } from '../access.ts';
import { addMember, getMember, listMembers, removeMember, setMemberStatus } from '../members.ts';
import { MEMBER_STATUSES } from '../tables.ts';
import type { ImageService } from '../service.ts';
import { memberView } from './views.ts';

const ById = Type.Object({ image_id: Type.String() });
const ByMember = Type.Object({ image_id: Type.String(), member_id: Type.String() });
const AddBody = Type.Object({ member: Type.String({ minLength: 1, maxLength: 255 }) });
const StatusBody = Type.Object({ status: Type.Union(MEMBER_STATUSES.map((s) => Type.Literal(s))) });

/** Sharing: the owner adds and removes projects; each project answers for itself. */
export function memberRoutes(app: FastifyInstance, svc: ImageService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = svc;

  api.post('/v2/images/:image_id/members', { config: { policy: 'image:add_member' }, schema: { params: ById, body: AddBody } }, async (request) =>
    memberView(await store.tx((tx) => addMember(tx, callerOf(authOf(request)), request.params.image_id, request.body.member))),
  );

  api.get('/v2/images/:image_id/members', { config: { policy: 'image:get_members' }, schema: { params: ById } }, async (request) => ({
    members: (await listMembers(store.db, callerOf(authOf(request)), request.params.image_id)).map(memberView),
    schema: '/v2/schemas/members',
  }));

  api.get('/v2/images/:image_id/members/:member_id', { config: { policy: 'image:get_member' }, schema: { params: ByMember } }, async (request) =>
    memberView(await getMember(store.db, callerOf(authOf(request)), request.params.image_id, request.params.member_id)),
  );

  api.put(
    '/v2/images/:image_id/members/:member_id',
    { config: { policy: 'image:modify_member' }, schema: { params: ByMember, body: StatusBody } },
    async (request) => {
      const { image_id, member_id } = request.params;
      return memberView(await store.tx((tx) => setMemberStatus(tx, callerOf(authOf(request)), image_id, member_id, request.body.status)));
    },
  );

  api.delete('/v2/images/:image_id/members/:member_id', { config: { policy: 'image:delete_member' }, schema: { params: ByMember } }, async (request, reply) => {
    await store.tx((tx) => removeMember(tx, callerOf(authOf(request)), request.params.image_id, request.params.member_id));
    return reply.status(204).send();
  });
}
