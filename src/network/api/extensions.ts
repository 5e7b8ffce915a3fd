import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';

// What Nubo's Neutron API really serves, by Neutron's aliases: clients read this list to decide
// which attributes they may send and which calls they may make, so nothing is listed that is not
// served.
const EXTENSIONS: [alias: string, name: string, description: string][] = [
  ['external-net', 'Neutron external network', 'router:external marks a network that routers use as their gateway'],
  ['router', 'Neutron L3 Router', 'Routers between networks, with SNAT and floating IPs'],
  ['ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'enable_snat on a router gateway'],
  ['extraroute', 'Neutron Extra Route', 'Static routes on routers'],
  ['extraroute-atomic', 'Atomically add/remove extra routes', 'Edit the extra routes of a router without replacing them all'],
  ['fip-port-details', 'Floating IP Port Details', "The associated port's details on a floating IP"],
  ['security-group', 'security-group', 'Security groups and their rules, applied per port'],
  ['stateful-security-group', 'Stateful security group', 'Security groups may be stateless'],
  ['quotas', 'Quota management support', 'Per-project limits on network resources'],
  ['quota_details', 'Quota details management support', 'Each limit with its use: /quotas/{project_id}/details'],
  ['provider', 'Provider Network', 'The segment (flat, vlan, vxlan, local) a network is carried on'],
  ['port-security', 'Port Security', 'port_security_enabled on networks and ports'],
  ['allowed-address-pairs', 'Allowed Address Pairs', 'Further addresses a port may send from'],
  ['binding', 'Port Binding', 'The host a port is wired on and how'],
  ['net-mtu', 'Network MTU', 'The MTU of each network'],
  ['net-mtu-writable', 'Network MTU (writable)', 'The MTU of a network may be set, up to its type’s maximum'],
  ['project-id', 'project_id field enabled', 'project_id beside tenant_id on every resource'],
  ['standard-attr-description', 'standard-attr-description', 'A description on every resource'],
  ['standard-attr-revisions', 'Resource revision numbers', 'revision_number, bumped by every change'],
  ['standard-attr-timestamp', 'Resource timestamps', 'created_at and updated_at on every resource'],
  ['standard-attr-tag', 'Tag support for resources with standard attribute', 'Tags on networks, subnets and ports, and tag filters'],
  ['rbac-policies', 'RBAC Policies', 'Networks shared with one project or all, as shared or as external'],
  ['subnet_allocation', 'Subnet Allocation', 'Subnets allocated from subnet pools'],
  ['default-subnetpools', 'Default Subnetpools', 'use_default_subnetpool takes the default subnet pool of the IP version'],
  ['address-scope', 'Address scope', 'Address scopes of subnet pools'],
  ['agent', 'agent', 'The network agents of each host, alive while their service runs'],
  ['availability_zone', 'Availability Zone', 'The availability zones networks and routers are served in'],
  ['network_availability_zone', 'Network Availability Zone', 'availability_zones on networks'],
  ['qos', 'Quality of Service', 'QoS policies with bandwidth limit (enforced on the port), DSCP marking and minimum bandwidth rules, on ports and networks'],
  ['qos-default', 'QoS default policy', 'A project\'s default QoS policy, given to its new networks'],
  ['qos-bw-limit-direction', 'Direction for QoS bandwidth limit rule', 'Bandwidth limits for egress and ingress'],
  ['qos-rule-type-details', 'Details of QoS rule types', 'The parameters each rule type takes'],
  ['extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra DHCP options a port\'s DHCP server sends it'],
  ['pagination', 'Pagination support', 'limit, marker and page_reverse on lists'],
  ['sorting', 'Sorting support', 'sort_key and sort_dir on lists'],
  ['ip-substring-filtering', 'IP address substring filtering', 'fixed_ips=ip_address_substr= on port lists'],
];

const UPDATED = '2026-01-01T00:00:00-00:00';
const view = ([alias, name, description]: (typeof EXTENSIONS)[number]) => ({ alias, name, description, updated: UPDATED, links: [] });

export function extensionRoutes(app: FastifyInstance, _net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/extensions', { config: { policy: 'network:get_extension' } }, async () => ({ extensions: EXTENSIONS.map(view) }));
  api.get('/extensions/:alias', { config: { policy: 'network:get_extension' }, schema: { params: Type.Object({ alias: Type.String() }) } }, async (request) => {
    const ext = EXTENSIONS.find(([alias]) => alias === request.params.alias);
    if (!ext) throw notFound(`Extension with alias ${request.params.alias} does not exist`);
    return { extension: view(ext) };
  });
}
