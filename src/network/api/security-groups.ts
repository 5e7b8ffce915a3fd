import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { admin } from '../../lib/http/policy.ts';
import { forbidden, notFound } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import { listResponse, queryValues, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';
import { onlyKnown } from './routers.ts';
import {
  createSecurityGroup,
  defaultSecurityGroupId,
  deleteSecurityGroup,
  getSecurityGroup,
  getSecurityGroupRow,
  listSecurityGroups,
  setSecurityGroupTags,
  updateSecurityGroup,
  type SecurityGroup,
  type SecurityGroupRuleRow,
  type Visibility,
} from '../security-groups.ts';
import { createRule, deleteRule, getRule, listRules, normalizedCidr, type RuleInput } from '../security-group-rules.ts';

export const ruleView = (r: SecurityGroupRuleRow) => ({
  id: r.id,
  project_id: r.projectId,
  tenant_id: r.projectId,
  security_group_id: r.securityGroupId,
  direction: r.direction,
  ethertype: r.ethertype,
  protocol: r.protocol,
  port_range_min: r.portRangeMin,
  port_range_max: r.portRangeMax,
  remote_ip_prefix: r.remoteIpPrefix,
  remote_group_id: r.remoteGroupId,
  remote_address_group_id: null,
  normalized_cidr: normalizedCidr(r.remoteIpPrefix),
  description: r.description,
  revision_number: r.revision,
  created_at: timestamp(r.createdAt),
  updated_at: timestamp(r.updatedAt),
});

export const securityGroupView = (g: SecurityGroup) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  project_id: g.projectId,
  tenant_id: g.projectId,
  stateful: g.stateful,
  shared: false,
  security_group_rules: g.rules.map(ruleView),
  tags: g.tags,
  revision_number: g.revision,
  created_at: timestamp(g.createdAt),
  updated_at: timestamp(g.updatedAt),
});

const Text = Type.String({ maxLength: 255 });
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 });
const GroupFields = {
  name: Type.Optional(Text),
  description: Type.Optional(Text),
  stateful: Type.Optional(Type.Boolean()),
};
const CreateGroupBody = Type.Object({
  security_group: Type.Object({ ...GroupFields, project_id: Type.Optional(Type.String()), tenant_id: Type.Optional(Type.String()), tags: Type.Optional(Tags) }),
});
const UpdateGroupBody = Type.Object({ security_group: Type.Object(GroupFields) });
const Nullable = (t: ReturnType<typeof Type.String>) => Type.Optional(Type.Union([t, Type.Null()]));
const Port = Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Null()]));
const RuleBody = Type.Object({
  security_group_id: Type.String({ minLength: 1 }),
  direction: Type.String(),
  ethertype: Nullable(Type.String()),
  protocol: Type.Optional(Type.Union([Type.String(), Type.Integer(), Type.Null()])),
  port_range_min: Port,
  port_range_max: Port,
  remote_ip_prefix: Nullable(Type.String()),
  remote_group_id: Nullable(Type.String()),
  remote_address_group_id: Nullable(Type.String()),
  description: Nullable(Text),
  project_id: Type.Optional(Type.String()),
  tenant_id: Type.Optional(Type.String()),
});
const CreateRuleBody = Type.Union([
  Type.Object({ security_group_rule: RuleBody }),
  Type.Object({ security_group_rules: Type.Array(RuleBody, { minItems: 1 }) }),
]);
const ByGroup = Type.Object({ security_group_id: Type.String() });
const ByRule = Type.Object({ security_group_rule_id: Type.String() });
const ByTag = Type.Object({ security_group_id: Type.String(), tag: Type.String({ minLength: 1, maxLength: 255 }) });

/** The fields each body may carry: anything else is refused as Neutron refuses it. */
const GROUP_CREATE = ['name', 'description', 'stateful', 'project_id', 'tenant_id', 'tags'];
const GROUP_UPDATE = ['name', 'description', 'stateful'];
const RULE_CREATE = Object.keys(RuleBody.properties);

/** The admin sees every project's groups, as in Neutron; anyone else only their project's. */
function visibilityOf(request: FastifyRequest): Visibility {
  const auth = authOf(request);
  if (admin(auth, {})) return 'all';
  if (!auth.project) throw forbidden();
  return { projectId: auth.project.id };
}

const tagNotFound = (tag: string) => notFound(`Tag ${tag} could not be found.`, 'TagNotFound');

export function securityGroupRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/security-groups', { config: { policy: 'network:get_security_group' } }, async (request) => {
    const v = visibilityOf(request);
    const auth = authOf(request);
    // Neutron makes the default group of the project being listed, so that it shows up.
    const asked = (queryValues(request, 'project_id') ?? queryValues(request, 'tenant_id'))?.[0] ?? auth.project?.id;
    const groups = await store.tx(async (tx) => {
      if (asked && (v === 'all' || asked === v.projectId)) await defaultSecurityGroupId(tx, asked);
      return listSecurityGroups(tx, v);
    });
    return listResponse(request, 'security_groups', groups.map(securityGroupView));
  });

  api.post('/security-groups', { config: { policy: 'network:create_security_group' }, schema: { body: CreateGroupBody } }, async (request, reply) => {
    const body = request.body.security_group;
    onlyKnown(body, GROUP_CREATE);
    const projectId = ownerOf(request, body, 'create_security_group');
    const group = await store.tx(async (tx) => {
      const g = await createSecurityGroup(tx, { projectId, name: body.name ?? '', description: body.description ?? '', stateful: body.stateful ?? true });
      if (body.tags?.length) g.tags = await setSecurityGroupTags(tx, 'all', g.id, body.tags);
      return g;
    });
    return reply.status(201).send({ security_group: securityGroupView(group) });
  });

  api.get('/security-groups/:security_group_id', { config: { policy: 'network:get_security_group' }, schema: { params: ByGroup } }, async (request) => ({
    security_group: securityGroupView(await getSecurityGroup(store.db, visibilityOf(request), request.params.security_group_id)),
  }));

  api.put(
    '/security-groups/:security_group_id',
    { config: { policy: 'network:update_security_group' }, schema: { params: ByGroup, body: UpdateGroupBody } },
    async (request) => {
      const body = request.body.security_group;
      onlyKnown(body, GROUP_UPDATE);
      const group = await store.tx((tx) => updateSecurityGroup(tx, visibilityOf(request), request.params.security_group_id, body));
      return { security_group: securityGroupView(group) };
    },
  );

  api.delete(
    '/security-groups/:security_group_id',
    { config: { policy: 'network:delete_security_group' }, schema: { params: ByGroup } },
    async (request, reply) => {
      const v = visibilityOf(request);
      await store.tx((tx) => deleteSecurityGroup(tx, v, request.params.security_group_id, v === 'all'));
      return reply.status(204).send();
    },
  );

  // Neutron's tag extension, as `openstack security group create/set --tag` uses it.
  const tagPolicy = { policy: 'network:update_security_group' };
  api.get('/security-groups/:security_group_id/tags', { config: { policy: 'network:get_security_group' }, schema: { params: ByGroup } }, async (request) => ({
    tags: (await getSecurityGroupRow(store.db, visibilityOf(request), request.params.security_group_id)).tags,
  }));
  api.put(
    '/security-groups/:security_group_id/tags',
    { config: tagPolicy, schema: { params: ByGroup, body: Type.Object({ tags: Tags }) } },
    async (request) => ({
      tags: await store.tx((tx) => setSecurityGroupTags(tx, visibilityOf(request), request.params.security_group_id, request.body.tags)),
    }),
  );
  api.delete('/security-groups/:security_group_id/tags', { config: tagPolicy, schema: { params: ByGroup } }, async (request, reply) => {
    await store.tx((tx) => setSecurityGroupTags(tx, visibilityOf(request), request.params.security_group_id, []));
    return reply.status(204).send();
  });
  api.get(
    '/security-groups/:security_group_id/tags/:tag',
    { config: { policy: 'network:get_security_group' }, schema: { params: ByTag } },
    async (request, reply) => {
      const { tags } = await getSecurityGroupRow(store.db, visibilityOf(request), request.params.security_group_id);
      if (!tags.includes(request.params.tag)) throw tagNotFound(request.params.tag);
      return reply.status(204).send();
    },
  );
  for (const [method, add] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    api[method]('/security-groups/:security_group_id/tags/:tag', { config: tagPolicy, schema: { params: ByTag } }, async (request, reply) => {
      const { security_group_id: id, tag } = request.params;
      const v = visibilityOf(request);
      const found = await store.tx(async (tx) => {
        const { tags } = await getSecurityGroupRow(tx, v, id, true);
        if (!add && !tags.includes(tag)) return false;
        await setSecurityGroupTags(tx, v, id, add ? [...tags, tag] : tags.filter((t) => t !== tag));
        return true;
      });
      if (!found) throw tagNotFound(tag);
      return reply.status(add ? 201 : 204).send();
    });
  }

  api.get('/security-group-rules', { config: { policy: 'network:get_security_group_rule' } }, async (request) => {
    const groups = queryValues(request, 'security_group_id') ?? [];
    const rules = await listRules(store.db, visibilityOf(request), groups.length ? groups : undefined);
    return listResponse(request, 'security_group_rules', rules.map(ruleView));
  });

  api.post('/security-group-rules', { config: { policy: 'network:create_security_group_rule' }, schema: { body: CreateRuleBody } }, async (request, reply) => {
    const v = visibilityOf(request);
    const bulk = 'security_group_rules' in request.body;
    const inputs = 'security_group_rules' in request.body ? request.body.security_group_rules : [request.body.security_group_rule];
    for (const input of inputs) {
      onlyKnown(input, RULE_CREATE);
      ownerOf(request, input, 'create_security_group_rule');
    }
    const rules = await store.tx(async (tx) => {
      const out: SecurityGroupRuleRow[] = [];
      for (const input of inputs) out.push(await createRule(tx, v, input as RuleInput));
      return out;
    });
    return reply.status(201).send(bulk ? { security_group_rules: rules.map(ruleView) } : { security_group_rule: ruleView(rules[0]!) });
  });

  api.get(
    '/security-group-rules/:security_group_rule_id',
    { config: { policy: 'network:get_security_group_rule' }, schema: { params: ByRule } },
    async (request) => ({
      security_group_rule: ruleView(await getRule(store.db, visibilityOf(request), request.params.security_group_rule_id)),
    }),
  );

  api.delete(
    '/security-group-rules/:security_group_rule_id',
    { config: { policy: 'network:delete_security_group_rule' }, schema: { params: ByRule } },
    async (request, reply) => {
      await store.tx((tx) => deleteRule(tx, visibilityOf(request), request.params.security_group_rule_id));
      return reply.status(204).send();
    },
  );
}
