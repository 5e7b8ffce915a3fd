import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import type { QuotaSet } from '../quotas.ts';
import { createGroup, deleteGroup, getGroup, listGroups, membersOf, POLICIES, type Policy, type ServerGroup } from '../server-groups.ts';
import { versionOf, type Microversion } from './microversion.ts';

const ById = Type.Object({ id: Type.String() });
const CreateBody = Type.Object({
  server_group: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 255 }),
      // Before 2.64 a list of one policy; from 2.64 one policy and its rules.
      policies: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 1 })),
      policy: Type.Optional(Type.String()),
      rules: Type.Optional(
        Type.Object(
          { max_server_per_host: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9]\\d*$' })])) },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
});
const ListQuery = Type.Object({
  all_projects: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String({ pattern: '^\\d+$' })),
  offset: Type.Optional(Type.String({ pattern: '^\\d+$' })),
});

/** The policies a request may name: the soft ones came with 2.15. */
const policiesAt = (v: Microversion): Policy[] => (v.atLeast('2.15') ? POLICIES : ['affinity', 'anti-affinity']);

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The group a server create's os:scheduler_hints names, which Nova takes as a UUID. */
export function groupHint(hints: Record<string, unknown> | undefined): string | undefined {
  const group = hints?.group;
  if (group === undefined) return undefined;
  if (typeof group !== 'string' || !UUID.test(group))
    throw badRequest(`Invalid input for field/attribute group. Value: ${JSON.stringify(group)}. '${String(group)}' is not a 'uuid'`);
  return group;
}

/** A group as Nova shows it at the request's microversion. */
function groupView(g: ServerGroup, members: string[], v: Microversion) {
  return {
    id: g.id,
    name: g.name,
    ...(v.atLeast('2.64') ? { policy: g.policy, rules: g.rules } : { policies: [g.policy], metadata: {} }),
    members,
    ...(v.atLeast('2.13') ? { project_id: g.projectId, user_id: g.userId } : {}),
  };
}

/** The create request's policy and rules, in the shape of its microversion. */
function requested(body: { policies?: string[]; policy?: string; rules?: { max_server_per_host?: number | string } }, v: Microversion) {
  const modern = v.atLeast('2.64');
  if (modern ? body.policies !== undefined : body.policy !== undefined || body.rules !== undefined) {
    const extra = modern ? 'policies' : body.policy !== undefined ? 'policy' : 'rules';
    throw badRequest(`Invalid input for field/attribute server_group. Additional properties are not allowed ('${extra}' was unexpected)`);
  }
  const policy = modern ? body.policy : body.policies?.[0];
  if (policy === undefined) throw badRequest(`Invalid input for field/attribute server_group. '${modern ? 'policy' : 'policies'}' is a required property`);
  if (!(policiesAt(v) as string[]).includes(policy)) throw badRequest(`Invalid input for field/attribute policies. Value: ${policy}.`);
  const max = body.rules?.max_server_per_host;
  return { policy: policy as Policy, rules: max === undefined ? {} : { max_server_per_host: Number(max) } };
}

/** /os-server-groups: groups whose members the scheduler keeps together or apart. */
export function serverGroupRoutes(app: FastifyInstance, store: Store, defaults: QuotaSet): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  api.get('/os-server-groups', { config: { policy: 'compute:os-server-groups:index' }, schema: { querystring: ListQuery } }, async (request) => {
    const auth = authOf(request);
    const v = versionOf(request);
    const q = request.query;
    const groups = await listGroups(db, auth, q.all_projects !== undefined && q.all_projects.toLowerCase() !== 'false' && q.all_projects !== '0', {
      limit: q.limit === undefined ? undefined : Number(q.limit),
      offset: q.offset === undefined ? undefined : Number(q.offset),
    });
    const members = await membersOf(
      db,
      groups.map((g) => g.id),
    );
    return { server_groups: groups.map((g) => groupView(g, members.get(g.id)!, v)) };
  });

  api.post('/os-server-groups', { config: { policy: 'compute:os-server-groups:create' }, schema: { body: CreateBody } }, async (request) => {
    const v = versionOf(request);
    const b = request.body.server_group;
    const g = await store.tx((tx) => createGroup(tx, authOf(request), { name: b.name, ...requested(b, v) }, defaults));
    return { server_group: groupView(g, [], v) };
  });

  api.get('/os-server-groups/:id', { config: { policy: 'compute:os-server-groups:show' }, schema: { params: ById } }, async (request) => {
    const g = await getGroup(db, authOf(request), request.params.id);
    return { server_group: groupView(g, (await membersOf(db, [g.id])).get(g.id)!, versionOf(request)) };
  });

  api.delete('/os-server-groups/:id', { config: { policy: 'compute:os-server-groups:delete' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteGroup(tx, authOf(request), request.params.id));
    return reply.status(204).send();
  });
}
