import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import { admin, anyOf, definePolicy, projectMember, projectReader } from '../../lib/http/policy.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { callerOf } from '../../network/networks.ts';
import {
  createSecurityGroup,
  deleteSecurityGroup,
  getSecurityGroup,
  listSecurityGroups,
  updateSecurityGroup,
  type SecurityGroup,
  type SecurityGroupRuleRow,
  type Visibility,
} from '../../network/security-groups.ts';
import { createRule, deleteRule } from '../../network/security-group-rules.ts';
import { serverSecurityGroupIds } from '../../network/server-interfaces.ts';
import { getServer } from '../servers.ts';
import { removedAt236 } from './proxy-images.ts';

// Nova's security-group proxy (os-security-groups, os-security-group-rules), gone at 2.36: the
// network service's groups in Nova's shape, ingress rules only, as Nova shows Neutron's. The
// groups of a server (servers/{id}/os-security-groups) stay at every version.

definePolicy({
  'compute:os-security-groups:list': anyOf(admin, projectReader),
  'compute:os-security-groups:show': anyOf(admin, projectReader),
  'compute:os-security-groups:create': anyOf(admin, projectMember),
  'compute:os-security-groups:update': anyOf(admin, projectMember),
  'compute:os-security-groups:delete': anyOf(admin, projectMember),
  'compute:os-security-groups:rule:create': anyOf(admin, projectMember),
  'compute:os-security-groups:rule:delete': anyOf(admin, projectMember),
});

/** Nova's groups are the project's own, even for the admin (all_tenants aside). */
const mine = (auth: AuthContext): Visibility => ({ projectId: auth.project?.id ?? '' });

/** A Neutron rule as Nova shows it: a protocol without ports spans them all (tcp/udp 1-65535, else -1). */
function ruleView(r: SecurityGroupRuleRow, names: Map<string, { name: string; projectId: string }>) {
  const anyPort = r.protocol && r.portRangeMin === null && r.portRangeMax === null;
  const wide = r.protocol && ['tcp', 'udp'].includes(r.protocol.toLowerCase());
  const remote = r.remoteGroupId ? names.get(r.remoteGroupId) : undefined;
  return {
    id: r.id,
    parent_group_id: r.securityGroupId,
    ip_protocol: r.protocol,
    from_port: anyPort ? (wide ? 1 : -1) : r.portRangeMin,
    to_port: anyPort ? (wide ? 65535 : -1) : r.portRangeMax,
    group: remote ? { name: remote.name, tenant_id: remote.projectId } : {},
    ip_range: r.remoteGroupId ? {} : { cidr: r.remoteIpPrefix },
  };
}

async function groupNames(db: Db): Promise<Map<string, { name: string; projectId: string }>> {
  return new Map((await listSecurityGroups(db, 'all')).map((g) => [g.id, { name: g.name, projectId: g.projectId }]));
}

function groupView(g: SecurityGroup, names: Map<string, { name: string; projectId: string }>) {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.projectId,
    rules: g.rules.filter((r) => r.direction === 'ingress').map((r) => ruleView(r, names)),
  };
}

const ById = Type.Object({ security_group_id: Type.String() });
const ByServer = Type.Object({ server_id: Type.String() });
const GroupBody = Type.Object({
  security_group: Type.Object({ name: Type.String({ maxLength: 255 }), description: Type.String({ maxLength: 255 }) }),
});
const Port = Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]+$' }), Type.Null()]);
const RuleBody = Type.Object({
  security_group_rule: Type.Object({
    parent_group_id: Type.String(),
    ip_protocol: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    from_port: Type.Optional(Port),
    to_port: Type.Optional(Port),
    cidr: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    group_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
});
type RuleRequest = Static<typeof RuleBody>['security_group_rule'];

/** Nova's rule request as Neutron's: ICMP's -1 is any type or code, TCP/UDP need a range. */
function neutronRule(b: RuleRequest) {
  const protocol = b.ip_protocol ? b.ip_protocol.toLowerCase() : null;
  if (protocol && !['tcp', 'udp', 'icmp'].includes(protocol)) throw badRequest(`Invalid IP protocol ${b.ip_protocol}.`);
  const from = b.from_port === undefined || b.from_port === null ? null : Number(b.from_port);
  const to = b.to_port === undefined || b.to_port === null ? null : Number(b.to_port);
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === null || to === null || from < 1 || to > 65535 || from > to) {
      throw badRequest('Invalid port range: ports must be 1-65535, from_port no greater than to_port.');
    }
  }
  if (protocol === 'icmp' && ((from !== null && (from < -1 || from > 255)) || (to !== null && (to < -1 || to > 255)))) {
    throw badRequest('Invalid ICMP type or code: -1 to 255.');
  }
  if (b.cidr && b.group_id) throw badRequest('Not enough parameters to build a valid rule: give a cidr or a group_id, not both.');
  const cidr = b.group_id ? null : (b.cidr ?? '0.0.0.0/0');
  const port = (p: number | null) => (p === null || p === -1 ? null : p);
  return {
    security_group_id: b.parent_group_id,
    direction: 'ingress',
    ethertype: cidr?.includes(':') ? 'IPv6' : 'IPv4',
    protocol,
    port_range_min: protocol ? port(from) : null,
    port_range_max: protocol ? port(to) : null,
    remote_ip_prefix: cidr,
    remote_group_id: b.group_id ?? null,
  };
}

export function securityGroupProxyRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  api.get('/os-security-groups', { config: { policy: 'compute:os-security-groups:list' } }, async (request) => {
    removedAt236(request);
    const names = await groupNames(db);
    return { security_groups: (await listSecurityGroups(db, mine(authOf(request)))).map((g) => groupView(g, names)) };
  });

  api.get('/os-security-groups/:security_group_id', { config: { policy: 'compute:os-security-groups:show' }, schema: { params: ById } }, async (request) => {
    removedAt236(request);
    const g = await getSecurityGroup(db, mine(authOf(request)), request.params.security_group_id);
    return { security_group: groupView(g, await groupNames(db)) };
  });

  api.post('/os-security-groups', { config: { policy: 'compute:os-security-groups:create' }, schema: { body: GroupBody } }, async (request) => {
    removedAt236(request);
    const { name, description } = request.body.security_group;
    const g = await store.tx((tx) => createSecurityGroup(tx, { projectId: authOf(request).project?.id ?? '', name, description, stateful: true }));
    return { security_group: groupView(g, await groupNames(db)) };
  });

  api.put(
    '/os-security-groups/:security_group_id',
    { config: { policy: 'compute:os-security-groups:update' }, schema: { params: ById, body: GroupBody } },
    async (request) => {
      removedAt236(request);
      const { name, description } = request.body.security_group;
      const g = await store.tx((tx) => updateSecurityGroup(tx, mine(authOf(request)), request.params.security_group_id, { name, description }));
      return { security_group: groupView(g, await groupNames(db)) };
    },
  );

  api.delete(
    '/os-security-groups/:security_group_id',
    { config: { policy: 'compute:os-security-groups:delete' }, schema: { params: ById } },
    async (request, reply) => {
      removedAt236(request);
      const auth = authOf(request);
      await store.tx((tx) => deleteSecurityGroup(tx, mine(auth), request.params.security_group_id, callerOf(auth).isAdmin));
      return reply.status(202).send();
    },
  );

  api.post('/os-security-group-rules', { config: { policy: 'compute:os-security-groups:rule:create' }, schema: { body: RuleBody } }, async (request) => {
    removedAt236(request);
    const v = mine(authOf(request));
    const rule = await store.tx((tx) => createRule(tx, v, neutronRule(request.body.security_group_rule)));
    return { security_group_rule: ruleView(rule, await groupNames(db)) };
  });

  api.delete(
    '/os-security-group-rules/:security_group_rule_id',
    { config: { policy: 'compute:os-security-groups:rule:delete' }, schema: { params: Type.Object({ security_group_rule_id: Type.String() }) } },
    async (request, reply) => {
      removedAt236(request);
      await store.tx((tx) => deleteRule(tx, mine(authOf(request)), request.params.security_group_rule_id));
      return reply.status(202).send();
    },
  );

  // The groups of a server's ports: not a proxy, served at every version.
  api.get(
    '/servers/:server_id/os-security-groups',
    { config: { policy: 'compute:os-security-groups:list' }, schema: { params: ByServer } },
    async (request) => {
      const s = await getServer(db, authOf(request), request.params.server_id);
      const ids = await serverSecurityGroupIds(db, s);
      const names = await groupNames(db);
      const groups = await Promise.all(ids.map((id) => getSecurityGroup(db, 'all', id)));
      return { security_groups: groups.map((g) => groupView(g, names)) };
    },
  );
}
