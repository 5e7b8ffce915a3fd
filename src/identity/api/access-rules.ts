import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Identity } from '../identity.ts';
import { deleteAccessRule, getAccessRule, listAccessRules } from '../access-rules.ts';
import { accessRuleView, listLinks } from './views.ts';

const UserParams = Type.Object({ user_id: Type.String() });
const RuleParams = Type.Object({ user_id: Type.String(), access_rule_id: Type.String() });
const Filters = Type.Object({ service: Type.Optional(Type.String()), method: Type.Optional(Type.String()), path: Type.Optional(Type.String()) });

/** A user's access rules, which their application credentials share by id. */
export function accessRuleRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const base = '/v3/users/:user_id/access_rules';

  api.get(base, { config: { policy: 'identity:list_access_rules' }, schema: { params: UserParams, querystring: Filters } }, async (request) => {
    const userId = request.params.user_id;
    const rules = await listAccessRules(db, userId, request.query);
    return {
      access_rules: rules.map((r) => accessRuleView(request.publicUrl, userId, r)),
      links: listLinks(request.publicUrl, `users/${userId}/access_rules`),
    };
  });

  api.get(`${base}/:access_rule_id`, { config: { policy: 'identity:get_access_rule' }, schema: { params: RuleParams } }, async (request) => {
    const { user_id: userId, access_rule_id: id } = request.params;
    return { access_rule: accessRuleView(request.publicUrl, userId, await getAccessRule(db, userId, id)) };
  });

  api.delete(`${base}/:access_rule_id`, { config: { policy: 'identity:delete_access_rule' }, schema: { params: RuleParams } }, async (request, reply) => {
    await identity.change((tx) => deleteAccessRule(tx, request.params.user_id, request.params.access_rule_id));
    return reply.status(204).send();
  });
}
