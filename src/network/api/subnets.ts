import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import type { NetworkApi } from '../index.ts';
import { callerOf } from '../networks.ts';
import {
  createSubnet,
  deleteSubnet,
  getSubnet,
  listSubnets,
  setSubnetTags,
  updateSubnet,
  type Ipv6Mode,
  type SubnetInput,
  type SubnetRow,
} from '../subnets.ts';
import { createBody, created, eachInOrder, itemsOf } from './bulk.ts';
import { listResponse, queryValues, showResponse, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';
import { tagRoutes } from './tags.ts';

export const subnetView = (s: SubnetRow): Record<string, unknown> => ({
  id: s.id,
  name: s.name,
  description: s.description,
  tenant_id: s.projectId,
  project_id: s.projectId,
  network_id: s.networkId,
  ip_version: s.ipVersion,
  cidr: s.cidr,
  gateway_ip: s.gatewayIp,
  allocation_pools: s.allocationPools,
  dns_nameservers: s.dnsNameservers,
  host_routes: s.hostRoutes,
  enable_dhcp: s.enableDhcp,
  ipv6_ra_mode: s.ipv6RaMode,
  ipv6_address_mode: s.ipv6AddressMode,
  subnetpool_id: s.subnetpoolId,
  segment_id: null,
  service_types: [],
  tags: s.tags,
  revision_number: s.revision,
  created_at: timestamp(s.createdAt),
  updated_at: timestamp(s.updatedAt),
});

const Ipv6ModeSchema = Type.Union([Type.Literal('slaac'), Type.Literal('dhcpv6-stateful'), Type.Literal('dhcpv6-stateless'), Type.Null()]);
const Pool = Type.Object({ start: Type.String(), end: Type.String() }, { additionalProperties: false });
const Route = Type.Object({ destination: Type.String(), nexthop: Type.String() }, { additionalProperties: false });
const Mutable = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.Optional(Type.String({ maxLength: 255 })),
  gateway_ip: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  // Neutron turns null into an empty list for these three.
  allocation_pools: Type.Optional(Type.Union([Type.Array(Pool), Type.Null()])),
  dns_nameservers: Type.Optional(Type.Union([Type.Array(Type.String(), { maxItems: 5 }), Type.Null()])),
  host_routes: Type.Optional(Type.Union([Type.Array(Route, { maxItems: 20 }), Type.Null()])),
  enable_dhcp: Type.Optional(Type.Boolean()),
  // Neutron's defaults only: no subnet pools, segments or service subnets here.
  segment_id: Type.Optional(Type.Null()),
  service_types: Type.Optional(Type.Array(Type.String(), { maxItems: 0 })),
};
const SubnetBody = Type.Object(
  {
    ...Mutable,
    network_id: Type.String({ minLength: 1 }),
    ip_version: Type.Union([Type.Literal(4), Type.Literal(6)]),
    cidr: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    ipv6_ra_mode: Type.Optional(Ipv6ModeSchema),
    ipv6_address_mode: Type.Optional(Ipv6ModeSchema),
    subnetpool_id: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    // Neutron converts it to an integer: clients send it as a string too.
    prefixlen: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 128 }), Type.String({ pattern: '^[0-9]{1,3}$' })])),
    use_default_subnetpool: Type.Optional(Type.Boolean()),
    project_id: Type.Optional(Type.String({ minLength: 1 })),
    tenant_id: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
type SubnetBody = Static<typeof SubnetBody>;
const CreateBody = createBody('subnet', 'subnets', SubnetBody);
const UpdateBody = Type.Object({ subnet: Type.Object(Mutable, { additionalProperties: false }) });
const ById = Type.Object({ subnet_id: Type.String() });

function subnetInput(request: FastifyRequest, b: SubnetBody): SubnetInput {
  return {
    networkId: b.network_id,
    projectId: ownerOf(request, b, 'create_subnet'),
    name: b.name ?? '',
    description: b.description ?? '',
    ipVersion: b.ip_version,
    cidr: b.cidr ?? undefined,
    subnetpoolId: b.subnetpool_id ?? (b.use_default_subnetpool ? 'default' : undefined),
    prefixlen: b.prefixlen === undefined ? undefined : Number(b.prefixlen),
    gatewayIp: b.gateway_ip,
    allocationPools: b.allocation_pools === null ? [] : b.allocation_pools,
    dnsNameservers: b.dns_nameservers ?? [],
    hostRoutes: b.host_routes ?? [],
    enableDhcp: b.enable_dhcp ?? true,
    ipv6RaMode: (b.ipv6_ra_mode ?? null) as Ipv6Mode | null,
    ipv6AddressMode: (b.ipv6_address_mode ?? null) as Ipv6Mode | null,
  };
}

export function subnetRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/subnets', { config: { policy: 'network:get_subnet' } }, async (request) => {
    const rows = await listSubnets(store.db, callerOf(authOf(request)), { networkIds: queryValues(request, 'network_id'), ids: queryValues(request, 'id') });
    return listResponse(request, 'subnets', rows.map(subnetView));
  });

  api.get('/subnets/:subnet_id', { config: { policy: 'network:get_subnet' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'subnet', subnetView(await getSubnet(store.db, callerOf(authOf(request)), request.params.subnet_id))),
  );

  api.post('/subnets', { config: { policy: 'network:create_subnet' }, schema: { body: CreateBody } }, async (request, reply) => {
    const caller = callerOf(authOf(request));
    const { items, bulk } = itemsOf<SubnetBody>(request.body, 'subnet', 'subnets');
    const inputs = items.map((b) => subnetInput(request, b));
    const made = await store.tx((tx) => eachInOrder(inputs, (input) => createSubnet(tx, caller, input)));
    return created(reply, 'subnet', 'subnets', bulk, made.map(subnetView));
  });

  api.put('/subnets/:subnet_id', { config: { policy: 'network:update_subnet' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const b = request.body.subnet;
    const subnet = await store.tx((tx) =>
      updateSubnet(tx, callerOf(authOf(request)), request.params.subnet_id, {
        name: b.name,
        description: b.description,
        gatewayIp: b.gateway_ip,
        allocationPools: b.allocation_pools === null ? [] : b.allocation_pools,
        dnsNameservers: b.dns_nameservers === null ? [] : b.dns_nameservers,
        hostRoutes: b.host_routes === null ? [] : b.host_routes,
        enableDhcp: b.enable_dhcp,
      }),
    );
    return { subnet: subnetView(subnet) };
  });

  api.delete('/subnets/:subnet_id', { config: { policy: 'network:delete_subnet' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteSubnet(tx, callerOf(authOf(request)), request.params.subnet_id));
    return reply.status(204).send();
  });

  tagRoutes(app, store, {
    collection: 'subnets',
    policy: { read: 'network:get_subnet', write: 'network:update_subnet' },
    tagsOf: async (db, caller, id) => (await getSubnet(db, caller, id)).tags,
    setTags: setSubnetTags,
  });
}
