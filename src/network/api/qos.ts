import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { notFound } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import { callerOf } from '../networks.ts';
import {
  createPolicy,
  createRule,
  deletePolicy,
  deleteRule,
  DSCP_MARKS,
  getPolicy,
  getRule,
  listPolicies,
  RULE_TYPES,
  updatePolicy,
  updateRule,
  type QosPolicy,
  type QosRule,
} from '../qos.ts';
import type { QosRuleType } from '../tables.ts';
import { listResponse, showResponse, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';

// Neutron's QoS API: /qos/policies, their rules by type (/qos/policies/{id}/<type>_rules) and
// /qos/rule-types.

export function ruleView(r: QosRule): Record<string, unknown> {
  const base = { id: r.id, qos_policy_id: r.policyId, type: r.type };
  if (r.type === 'bandwidth_limit') return { ...base, max_kbps: r.maxKbps, max_burst_kbps: r.maxBurstKbps, direction: r.direction };
  if (r.type === 'dscp_marking') return { ...base, dscp_mark: r.dscpMark };
  return { ...base, min_kbps: r.minKbps, direction: r.direction };
}

export const policyView = (p: QosPolicy) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  tenant_id: p.projectId,
  project_id: p.projectId,
  shared: p.shared,
  is_default: p.isDefault,
  rules: p.rules.map(ruleView),
  tags: p.tags,
  revision_number: p.revision,
  created_at: timestamp(p.createdAt),
  updated_at: timestamp(p.updatedAt),
});

const Kbps = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });
const Direction = Type.Union([Type.Literal('egress'), Type.Literal('ingress')]);

/** What the api-ref documents of each rule, for the tests to hold every answer to. */
export const QosRuleSchema = Type.Union([
  Type.Object(
    { id: Type.String(), qos_policy_id: Type.String(), type: Type.Literal('bandwidth_limit'), max_kbps: Kbps, max_burst_kbps: Kbps, direction: Direction },
    { additionalProperties: false },
  ),
  Type.Object(
    { id: Type.String(), qos_policy_id: Type.String(), type: Type.Literal('dscp_marking'), dscp_mark: Type.Integer({ minimum: 0, maximum: 56 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { id: Type.String(), qos_policy_id: Type.String(), type: Type.Literal('minimum_bandwidth'), min_kbps: Kbps, direction: Direction },
    { additionalProperties: false },
  ),
]);

/** What the api-ref documents of a QoS policy. */
export const QosPolicySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    tenant_id: Type.String(),
    project_id: Type.String(),
    shared: Type.Boolean(),
    is_default: Type.Boolean(),
    rules: Type.Array(QosRuleSchema),
    tags: Type.Array(Type.String()),
    revision_number: Type.Integer(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: false },
);
/** The fields of each rule type as the api-ref documents them. */
const RULE_BODIES: Record<QosRuleType, Record<string, ReturnType<typeof Type.Optional>>> = {
  bandwidth_limit: { max_kbps: Type.Optional(Kbps), max_burst_kbps: Type.Optional(Kbps), direction: Type.Optional(Direction) },
  dscp_marking: { dscp_mark: Type.Optional(Type.Integer()) },
  minimum_bandwidth: { min_kbps: Type.Optional(Kbps), direction: Type.Optional(Direction) },
};

const PolicyFields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.Optional(Type.String({ maxLength: 255 })),
  shared: Type.Optional(Type.Boolean()),
  is_default: Type.Optional(Type.Boolean()),
};
const CreateBody = Type.Object({
  policy: Type.Object(
    { ...PolicyFields, project_id: Type.Optional(Type.String({ minLength: 1 })), tenant_id: Type.Optional(Type.String({ minLength: 1 })) },
    { additionalProperties: false },
  ),
});
const UpdateBody = Type.Object({ policy: Type.Object(PolicyFields, { additionalProperties: false }) });
const ById = Type.Object({ policy_id: Type.String() });
const ByRule = Type.Object({ policy_id: Type.String(), rule_id: Type.String() });

/** What each rule type takes, as /qos/rule-types/{type} describes the one driver. */
const PARAMETERS: Record<QosRuleType, { parameter_name: string; parameter_type: string; parameter_values: unknown }[]> = {
  bandwidth_limit: [
    { parameter_name: 'max_kbps', parameter_type: 'range', parameter_values: { start: 0, end: 2 ** 31 - 1 } },
    { parameter_name: 'max_burst_kbps', parameter_type: 'range', parameter_values: { start: 0, end: 2 ** 31 - 1 } },
    { parameter_name: 'direction', parameter_type: 'choices', parameter_values: ['egress', 'ingress'] },
  ],
  dscp_marking: [{ parameter_name: 'dscp_mark', parameter_type: 'choices', parameter_values: DSCP_MARKS }],
  minimum_bandwidth: [
    { parameter_name: 'min_kbps', parameter_type: 'range', parameter_values: { start: 0, end: 2 ** 31 - 1 } },
    { parameter_name: 'direction', parameter_type: 'choices', parameter_values: ['egress', 'ingress'] },
  ],
};

export function qosRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/qos/policies', { config: { policy: 'network:get_policy' } }, async (request) =>
    listResponse(request, 'policies', (await listPolicies(store.db, callerOf(authOf(request)))).map(policyView)),
  );

  api.get('/qos/policies/:policy_id', { config: { policy: 'network:get_policy' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'policy', policyView(await getPolicy(store.db, callerOf(authOf(request)), request.params.policy_id))),
  );

  api.post('/qos/policies', { config: { policy: 'network:create_policy' }, schema: { body: CreateBody } }, async (request, reply) => {
    const b = request.body.policy;
    const projectId = ownerOf(request, b, 'create_policy');
    const policy = await store.tx((tx) =>
      createPolicy(tx, { projectId, name: b.name, description: b.description, shared: b.shared, isDefault: b.is_default }),
    );
    return reply.status(201).send({ policy: policyView(policy) });
  });

  api.put('/qos/policies/:policy_id', { config: { policy: 'network:update_policy' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const b = request.body.policy;
    const policy = await store.tx((tx) =>
      updatePolicy(tx, callerOf(authOf(request)), request.params.policy_id, {
        name: b.name,
        description: b.description,
        shared: b.shared,
        isDefault: b.is_default,
      }),
    );
    return { policy: policyView(policy) };
  });

  api.delete('/qos/policies/:policy_id', { config: { policy: 'network:delete_policy' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deletePolicy(tx, callerOf(authOf(request)), request.params.policy_id));
    return reply.status(204).send();
  });

  for (const type of RULE_TYPES) {
    const path = `/qos/policies/:policy_id/${type}_rules`;
    const key = `${type}_rule`;
    const Body = Type.Object({ [key]: Type.Object(RULE_BODIES[type], { additionalProperties: false }) });
    const fieldsOf = (body: unknown) => (body as Record<string, Record<string, never>>)[key]!;

    api.get(path, { config: { policy: 'network:get_policy' }, schema: { params: ById } }, async (request) => {
      const policy = await getPolicy(store.db, callerOf(authOf(request)), request.params.policy_id);
      return listResponse(request, `${type}_rules`, policy.rules.filter((r) => r.type === type).map(ruleView));
    });
    api.get(`${path}/:rule_id`, { config: { policy: 'network:get_policy' }, schema: { params: ByRule } }, async (request) => {
      const rule = await getRule(store.db, callerOf(authOf(request)), request.params.policy_id, type, request.params.rule_id);
      return showResponse(request, key, ruleView(rule));
    });
    api.post(path, { config: { policy: 'network:create_policy_rule' }, schema: { params: ById, body: Body } }, async (request, reply) => {
      const rule = await store.tx((tx) => createRule(tx, callerOf(authOf(request)), request.params.policy_id, type, fieldsOf(request.body)));
      return reply.status(201).send({ [key]: ruleView(rule) });
    });
    api.put(`${path}/:rule_id`, { config: { policy: 'network:update_policy_rule' }, schema: { params: ByRule, body: Body } }, async (request) => {
      const p = request.params;
      const rule = await store.tx((tx) => updateRule(tx, callerOf(authOf(request)), p.policy_id, type, p.rule_id, fieldsOf(request.body)));
      return { [key]: ruleView(rule) };
    });
    api.delete(`${path}/:rule_id`, { config: { policy: 'network:delete_policy_rule' }, schema: { params: ByRule } }, async (request, reply) => {
      const p = request.params;
      await store.tx((tx) => deleteRule(tx, callerOf(authOf(request)), p.policy_id, type, p.rule_id));
      return reply.status(204).send();
    });
  }

  api.get('/qos/rule-types', { config: { policy: 'network:get_rule_type' } }, async (request) =>
    listResponse(
      request,
      'rule_types',
      RULE_TYPES.map((type) => ({ type })),
    ),
  );

  api.get(
    '/qos/rule-types/:rule_type',
    { config: { policy: 'network:get_rule_type' }, schema: { params: Type.Object({ rule_type: Type.String() }) } },
    async (request) => {
      const type = RULE_TYPES.find((t) => t === request.params.rule_type);
      if (!type) throw notFound(`QoS rule type ${request.params.rule_type} could not be found.`, 'QosRuleTypeNotFound');
      return { rule_type: { type, drivers: [{ name: 'linuxbridge', supported_parameters: PARAMETERS[type] }] } };
    },
  );
}
