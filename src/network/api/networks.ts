import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import {
  callerOf,
  createNetwork,
  deleteNetwork,
  getNetwork,
  getNetworkRow,
  listNetworks,
  setNetworkTags,
  updateNetwork,
  type Network,
  type NetworkInput,
} from '../networks.ts';
import { createBody, created, eachInOrder, itemsOf } from './bulk.ts';
import { listResponse, queryValues, showResponse, timestamp } from './listing.ts';
import { tagRoutes } from './tags.ts';

/** A network as Neutron shows it; the provider attributes are the admin's to see. */
export function networkView(n: Network, isAdmin: boolean): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    description: n.description,
    tenant_id: n.projectId,
    project_id: n.projectId,
    admin_state_up: n.adminStateUp,
    status: n.status,
    shared: n.shared,
    'router:external': n.external,
    mtu: n.mtu,
    port_security_enabled: n.portSecurityEnabled,
    subnets: n.subnetIds,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    is_default: false,
    l2_adjacency: true,
    qos_policy_id: n.qosPolicyId,
    ...(isAdmin
      ? { 'provider:network_type': n.networkType, 'provider:physical_network': n.physicalNetwork, 'provider:segmentation_id': n.segmentationId }
      : {}),
    tags: n.tags,
    revision_number: n.revision,
    created_at: timestamp(n.createdAt),
    updated_at: timestamp(n.updatedAt),
  };
}

const Name = Type.String({ maxLength: 255 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Common = {
  name: Type.Optional(Name),
  description: Type.Optional(Type.String({ maxLength: 255 })),
  admin_state_up: Type.Optional(Type.Boolean()),
  shared: Type.Optional(Type.Boolean()),
  'router:external': Type.Optional(Type.Boolean()),
  port_security_enabled: Type.Optional(Type.Boolean()),
  mtu: Type.Optional(Type.Integer({ minimum: 0 })),
  // Accepted as Neutron's default only: Nubo has one availability zone.
  availability_zone_hints: Type.Optional(Type.Array(Type.Literal('nova'))),
  qos_policy_id: Type.Optional(Nullable(Type.String({ minLength: 1 }))),
  is_default: Type.Optional(Type.Literal(false)),
};
const Provider = {
  'provider:network_type': Type.Optional(Type.String()),
  'provider:physical_network': Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  'provider:segmentation_id': Type.Optional(Nullable(Type.Integer())),
};
const NetworkBody = Type.Object(
  { ...Common, ...Provider, project_id: Type.Optional(Type.String({ minLength: 1 })), tenant_id: Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
);
type NetworkBody = Static<typeof NetworkBody>;
const CreateBody = createBody('network', 'networks', NetworkBody);
const UpdateBody = Type.Object({ network: Type.Object({ ...Common, ...Provider }, { additionalProperties: false }) });
const ById = Type.Object({ network_id: Type.String() });

/** The project a new resource belongs to: the caller's, or (the admin's choice) the one named. */
export function ownerOf(request: Parameters<typeof authOf>[0], body: { project_id?: string; tenant_id?: string }, action: string): string {
  const caller = callerOf(authOf(request));
  if (body.project_id && body.tenant_id && body.project_id !== body.tenant_id) throw badRequest("'project_id' and 'tenant_id' do not match");
  // An empty id names no project: the resource is the caller's, never nobody's.
  const asked = body.project_id || body.tenant_id;
  if (asked && asked !== caller.projectId && !caller.isAdmin) throw forbidden(`Policy doesn't allow ${action} to be performed.`);
  return asked || caller.projectId;
}

/** A create request's network, checked against the caller's rights. */
function networkInput(request: FastifyRequest, b: NetworkBody): NetworkInput {
  const auth = authOf(request);
  const projectId = ownerOf(request, b, 'create_network');
  const provider = b['provider:network_type'] !== undefined || b['provider:physical_network'] != null || b['provider:segmentation_id'] != null;
  for (const [asked, rule] of [
    [b.shared, 'network:create_network:shared'],
    [b['router:external'], 'network:create_network:router:external'],
    [provider, 'network:create_network:provider'],
  ] as const) {
    if (asked && !allows(rule, auth)) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
  }
  return {
    projectId,
    name: b.name ?? '',
    description: b.description ?? '',
    adminStateUp: b.admin_state_up ?? true,
    shared: b.shared ?? false,
    external: b['router:external'] ?? false,
    portSecurityEnabled: b.port_security_enabled ?? true,
    mtu: b.mtu,
    qosPolicyId: b.qos_policy_id,
    provider: provider
      ? { networkType: b['provider:network_type'], physicalNetwork: b['provider:physical_network'], segmentationId: b['provider:segmentation_id'] }
      : undefined,
  };
}

export function networkRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store, settings } = net;

  api.get('/networks', { config: { policy: 'network:get_network' } }, async (request) => {
    const caller = callerOf(authOf(request));
    const rows = await listNetworks(store.db, caller, { ids: queryValues(request, 'id'), names: queryValues(request, 'name') });
    return listResponse(
      request,
      'networks',
      rows.map((n) => networkView(n, caller.isAdmin)),
    );
  });

  api.get('/networks/:network_id', { config: { policy: 'network:get_network' }, schema: { params: ById } }, async (request) => {
    const caller = callerOf(authOf(request));
    return showResponse(request, 'network', networkView(await getNetwork(store.db, caller, request.params.network_id), caller.isAdmin));
  });

  api.post('/networks', { config: { policy: 'network:create_network' }, schema: { body: CreateBody } }, async (request, reply) => {
    const auth = authOf(request);
    const { items, bulk } = itemsOf<NetworkBody>(request.body, 'network', 'networks');
    const inputs = items.map((b) => networkInput(request, b));
    const made = await store.tx((tx) => eachInOrder(inputs, (input) => createNetwork(tx, settings, input)));
    return created(
      reply,
      'network',
      'networks',
      bulk,
      made.map((n) => networkView(n, callerOf(auth).isAdmin)),
    );
  });

  api.put('/networks/:network_id', { config: { policy: 'network:update_network' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const auth = authOf(request);
    const b = request.body.network;
    if (b['provider:network_type'] !== undefined || b['provider:physical_network'] !== undefined || b['provider:segmentation_id'] !== undefined)
      throw badRequest('Invalid input for operation: Plugin does not support updating provider attributes.', 'InvalidInput');
    for (const [asked, rule] of [
      [b.shared, 'network:create_network:shared'],
      [b['router:external'], 'network:create_network:router:external'],
    ] as const) {
      if (asked !== undefined && !allows(rule, auth)) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
    }
    const caller = callerOf(auth);
    const network = await store.tx((tx) =>
      updateNetwork(tx, settings, caller, request.params.network_id, {
        name: b.name,
        description: b.description,
        adminStateUp: b.admin_state_up,
        shared: b.shared,
        external: b['router:external'],
        portSecurityEnabled: b.port_security_enabled,
        mtu: b.mtu,
        qosPolicyId: b.qos_policy_id,
      }),
    );
    return { network: networkView(network, caller.isAdmin) };
  });

  api.delete('/networks/:network_id', { config: { policy: 'network:delete_network' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteNetwork(tx, callerOf(authOf(request)), request.params.network_id));
    return reply.status(204).send();
  });

  tagRoutes(app, store, {
    collection: 'networks',
    policy: { read: 'network:get_network', write: 'network:update_network' },
    tagsOf: async (db, caller, id) => (await getNetworkRow(db, caller, id)).tags,
    setTags: (tx, caller, id, tags) => setNetworkTags(tx, caller, id, tags),
  });
}
