import type { Services } from '../services.ts';
import { defined, lookup, physicalName, stackMarker, type ResourceType } from './types.ts';

const net = (api: Services, ref: unknown) => lookup(api, 'network', '/v2.0/networks', 'networks', ref, 'network');
const subnet = (api: Services, ref: unknown) => lookup(api, 'network', '/v2.0/subnets', 'subnets', ref, 'subnet');
const securityGroup = (api: Services, ref: unknown) => lookup(api, 'network', '/v2.0/security-groups', 'security_groups', ref, 'security group');

/** A resource that is one object of a Neutron collection: made by one POST, gone by one DELETE. */
function simple(
  collection: string,
  key: string,
  spec: Pick<ResourceType, 'properties' | 'required' | 'attributes' | 'attribute' | 'updatable'>,
  body: (api: Services, props: Record<string, any>, name: string) => Promise<Record<string, unknown>>,
): ResourceType {
  return {
    ...spec,
    async update(ctx, id, changed) {
      const body = await updateBody(ctx.api, changed);
      const updated = await ctx.api.call('network', 'PUT', `/v2.0/${collection}/${id}`, { [key]: body });
      return updated[key];
    },
    async create(ctx, props) {
      // The description names the stack and the resource (these types take none from the template).
      const fields = { description: stackMarker(ctx), ...(await body(ctx.api, props, props.name ?? physicalName(ctx))) };
      const made = await ctx.api.call('network', 'POST', `/v2.0/${collection}`, { [key]: fields });
      return { id: made[key].id, data: made[key] };
    },
    async delete(ctx, id) {
      await ctx.api.callOr404('network', 'DELETE', `/v2.0/${collection}/${id}`);
    },
    async orphan(ctx) {
      const marker = stackMarker(ctx);
      const found = await ctx.api.call('network', 'GET', `/v2.0/${collection}?description=${encodeURIComponent(marker)}`);
      return (found[collection] as { id: string; description?: string }[]).find((o) => o.description === marker)?.id;
    },
  };
}

/** Neutron's fields for properties changed in place: names and flags as they are, security groups by id. */
async function updateBody(api: Services, changed: Record<string, any>) {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(changed)) {
    if (k === 'security_groups') body.security_groups = (await groups(api, v ?? [])) ?? [];
    else if (k === 'external_gateway_info')
      body.external_gateway_info = v ? defined({ network_id: await net(api, v.network), enable_snat: v.enable_snat }) : {};
    else body[k] = v;
  }
  return body;
}

const fixedIps = async (api: Services, ips: Record<string, any>[] | undefined) =>
  ips &&
  (await Promise.all(
    ips.map(async (f) => defined({ subnet_id: (f.subnet ?? f.subnet_id) ? await subnet(api, f.subnet ?? f.subnet_id) : undefined, ip_address: f.ip_address })),
  ));

const groups = async (api: Services, refs: unknown[] | undefined) => refs && Promise.all(refs.map((g) => securityGroup(api, g)));

export const NEUTRON: Record<string, ResourceType> = {
  'OS::Neutron::Net': simple(
    'networks',
    'network',
    {
      properties: ['name', 'admin_state_up', 'shared', 'port_security_enabled', 'value_specs', 'tenant_id'],
      updatable: ['name', 'admin_state_up', 'shared', 'port_security_enabled'],
      attributes: ['name', 'subnets', 'status', 'mtu'],
    },
    async (_api, p, name) =>
      defined({ name, admin_state_up: p.admin_state_up, shared: p.shared, port_security_enabled: p.port_security_enabled, ...p.value_specs }),
  ),
  'OS::Neutron::Subnet': simple(
    'subnets',
    'subnet',
    {
      properties: [
        'name',
        'network',
        'network_id',
        'cidr',
        'ip_version',
        'gateway_ip',
        'enable_dhcp',
        'allocation_pools',
        'dns_nameservers',
        'host_routes',
        'value_specs',
      ],
      updatable: ['name', 'gateway_ip', 'enable_dhcp', 'allocation_pools', 'dns_nameservers', 'host_routes'],
      attributes: ['name', 'cidr', 'gateway_ip', 'network_id', 'allocation_pools', 'ip_version'],
    },
    async (api, p, name) =>
      defined({
        name,
        network_id: await net(api, p.network ?? p.network_id),
        cidr: p.cidr,
        ip_version: p.ip_version ?? 4,
        gateway_ip: p.gateway_ip,
        enable_dhcp: p.enable_dhcp,
        allocation_pools: p.allocation_pools,
        dns_nameservers: p.dns_nameservers,
        host_routes: p.host_routes,
        ...p.value_specs,
      }),
  ),
  'OS::Neutron::Router': simple(
    'routers',
    'router',
    {
      properties: ['name', 'admin_state_up', 'external_gateway_info', 'value_specs'],
      updatable: ['name', 'admin_state_up', 'external_gateway_info'],
      attributes: ['name', 'status', 'external_gateway_info'],
    },
    async (api, p, name) =>
      defined({
        name,
        admin_state_up: p.admin_state_up,
        external_gateway_info:
          p.external_gateway_info && defined({ network_id: await net(api, p.external_gateway_info.network), enable_snat: p.external_gateway_info.enable_snat }),
        ...p.value_specs,
      }),
  ),
  'OS::Neutron::RouterInterface': {
    properties: ['router', 'router_id', 'subnet', 'subnet_id', 'port', 'port_id'],
    attributes: [],
    async create(ctx, p) {
      const router = String(p.router ?? p.router_id);
      const body = (p.port ?? p.port_id) ? { port_id: p.port ?? p.port_id } : { subnet_id: await subnet(ctx.api, p.subnet ?? p.subnet_id) };
      await ctx.api.call('network', 'PUT', `/v2.0/routers/${router}/add_router_interface`, body);
      // Heat's id for an interface: the router and what is plugged into it.
      const id = `${router}:${'port_id' in body ? `port_id=${body.port_id}` : `subnet_id=${body.subnet_id}`}`;
      return { id, data: { router_id: router, ...body } };
    },
    async delete(ctx, _id, data) {
      const { router_id, ...body } = data;
      try {
        await ctx.api.callOr404('network', 'PUT', `/v2.0/routers/${String(router_id)}/remove_router_interface`, body);
      } catch (err) {
        // The interface is already gone when its subnet or port is.
        if ((err as { status?: number }).status !== 404 && (err as { status?: number }).status !== 400) throw err;
      }
    },
  },
  'OS::Neutron::Port': simple(
    'ports',
    'port',
    {
      properties: [
        'name',
        'network',
        'network_id',
        'fixed_ips',
        'security_groups',
        'mac_address',
        'admin_state_up',
        'port_security_enabled',
        'device_owner',
        'device_id',
        'value_specs',
        'binding:vnic_type',
      ],
      updatable: ['name', 'security_groups', 'admin_state_up', 'port_security_enabled'],
      attributes: ['name', 'fixed_ips', 'mac_address', 'network_id', 'status', 'device_id', 'security_groups'],
    },
    async (api, p, name) =>
      defined({
        name,
        network_id: await net(api, p.network ?? p.network_id),
        fixed_ips: await fixedIps(api, p.fixed_ips),
        security_groups: await groups(api, p.security_groups),
        mac_address: p.mac_address,
        admin_state_up: p.admin_state_up,
        port_security_enabled: p.port_security_enabled,
        ...p.value_specs,
      }),
  ),
  'OS::Neutron::FloatingIP': simple(
    'floatingips',
    'floatingip',
    {
      properties: ['floating_network', 'floating_network_id', 'port_id', 'fixed_ip_address', 'floating_ip_address', 'value_specs'],
      updatable: ['port_id', 'fixed_ip_address'],
      attributes: ['floating_ip_address', 'floating_network_id', 'port_id', 'fixed_ip_address', 'router_id'],
    },
    async (api, p) =>
      defined({
        floating_network_id: await net(api, p.floating_network ?? p.floating_network_id),
        port_id: p.port_id,
        fixed_ip_address: p.fixed_ip_address,
        floating_ip_address: p.floating_ip_address,
        ...p.value_specs,
      }),
  ),
  'OS::Neutron::FloatingIPAssociation': {
    properties: ['floatingip_id', 'port_id', 'fixed_ip_address'],
    required: ['floatingip_id', 'port_id'],
    attributes: [],
    async create(ctx, p) {
      const made = await ctx.api.call('network', 'PUT', `/v2.0/floatingips/${String(p.floatingip_id)}`, {
        floatingip: defined({ port_id: p.port_id, fixed_ip_address: p.fixed_ip_address }),
      });
      return { id: `${String(p.floatingip_id)}:${String(p.port_id)}`, data: made.floatingip };
    },
    async delete(ctx, id) {
      await ctx.api.callOr404('network', 'PUT', `/v2.0/floatingips/${id.split(':')[0]}`, { floatingip: { port_id: null } });
    },
  },
  // No property changes in place, as in Heat: a changed rule is a new rule.
  'OS::Neutron::SecurityGroupRule': {
    properties: [
      ...['security_group', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max'],
      ...['remote_ip_prefix', 'remote_group', 'remote_mode', 'description'],
    ],
    required: ['security_group'],
    attributes: ['direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'security_group_id'],
    async create(ctx, p) {
      const group = await securityGroup(ctx.api, p.security_group);
      // A rule to a remote group with none named is to its own group, as in Heat.
      const byGroup = p.remote_mode === 'remote_group_id' || (p.remote_mode === undefined && p.remote_group !== undefined);
      const made = await ctx.api.call('network', 'POST', '/v2.0/security-group-rules', {
        security_group_rule: defined({
          security_group_id: group,
          direction: p.direction ?? 'ingress',
          ethertype: p.ethertype ?? 'IPv4',
          protocol: p.protocol,
          port_range_min: p.port_range_min,
          port_range_max: p.port_range_max,
          remote_ip_prefix: byGroup ? undefined : p.remote_ip_prefix,
          remote_group_id: byGroup ? (p.remote_group === undefined ? group : await securityGroup(ctx.api, p.remote_group)) : undefined,
          // Rules carry no tags: the description names the stack and the resource when the
          // template gives none.
          description: p.description ?? stackMarker(ctx),
        }),
      });
      return { id: made.security_group_rule.id, data: made.security_group_rule };
    },
    async delete(ctx, id) {
      await ctx.api.callOr404('network', 'DELETE', `/v2.0/security-group-rules/${id}`);
    },
    async orphan(ctx) {
      const marker = stackMarker(ctx);
      const found = await ctx.api.call('network', 'GET', `/v2.0/security-group-rules?description=${encodeURIComponent(marker)}`);
      return (found.security_group_rules as { id: string; description?: string }[]).find((r) => r.description === marker)?.id;
    },
  },
  'OS::Neutron::SecurityGroup': {
    properties: ['name', 'description', 'rules'],
    updatable: ['name', 'description', 'rules'],
    attributes: ['name', 'security_group_rules'],
    async create(ctx, p) {
      const made = await ctx.api.call('network', 'POST', '/v2.0/security-groups', {
        // The template may give the description: a tag names the stack and the resource.
        security_group: defined({ name: p.name ?? physicalName(ctx), description: p.description ?? '', tags: [stackMarker(ctx)] }),
      });
      const group = made.security_group;
      await ctx.made(group.id);
      return { id: group.id, data: await setRules(ctx.api, group, p.rules ?? []) };
    },
    async update(ctx, id, changed) {
      const names = defined({ name: changed.name, description: changed.description });
      let shown = (await ctx.api.call('network', 'GET', `/v2.0/security-groups/${id}`)).security_group;
      if (Object.keys(names).length) shown = (await ctx.api.call('network', 'PUT', `/v2.0/security-groups/${id}`, { security_group: names })).security_group;
      if (!('rules' in changed)) return shown;
      // The group keeps its id: its rules are replaced by the new ones, Neutron's default egress
      // rules made again unless the new rules say what may leave.
      for (const rule of shown.security_group_rules ?? []) await ctx.api.callOr404('network', 'DELETE', `/v2.0/security-group-rules/${rule.id}`);
      const rules: Record<string, any>[] = changed.rules ?? [];
      const egress = rules.some((r) => (r.direction ?? 'ingress') === 'egress')
        ? []
        : [
            { direction: 'egress', ethertype: 'IPv4' },
            { direction: 'egress', ethertype: 'IPv6' },
          ];
      return setRules(ctx.api, { ...shown, security_group_rules: [] }, [...egress, ...rules]);
    },
    async delete(ctx, id) {
      await ctx.api.callOr404('network', 'DELETE', `/v2.0/security-groups/${id}`);
    },
    async orphan(ctx) {
      const marker = stackMarker(ctx);
      const found = await ctx.api.call('network', 'GET', `/v2.0/security-groups?tags=${encodeURIComponent(marker)}`);
      return (found.security_groups as { id: string; tags?: string[] }[]).find((g) => g.tags?.includes(marker))?.id;
    },
  },
};

/** Makes the template's rules in the group; answers the group as Neutron then shows it. */
async function setRules(api: Services, group: Record<string, any>, rules: Record<string, any>[]) {
  // As Heat does: rules that say what may leave replace Neutron's default "anything may leave".
  if (rules.some((r) => (r.direction ?? 'ingress') === 'egress')) {
    for (const rule of group.security_group_rules ?? []) {
      if (rule.direction === 'egress') await api.callOr404('network', 'DELETE', `/v2.0/security-group-rules/${rule.id}`);
    }
  }
  for (const r of rules) {
    const remote = r.remote_mode === 'remote_group_id' ? { remote_group_id: r.remote_group_id ?? group.id } : { remote_ip_prefix: r.remote_ip_prefix };
    await api.call('network', 'POST', '/v2.0/security-group-rules', {
      security_group_rule: defined({
        security_group_id: group.id,
        direction: r.direction ?? 'ingress',
        ethertype: r.ethertype ?? 'IPv4',
        protocol: r.protocol,
        port_range_min: r.port_range_min,
        port_range_max: r.port_range_max,
        ...remote,
      }),
    });
  }
  return (await api.call('network', 'GET', `/v2.0/security-groups/${group.id}`)).security_group;
}
