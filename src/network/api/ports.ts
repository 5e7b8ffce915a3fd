import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { conflict, forbidden } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { NetworkApi } from '../index.ts';
import { callerOf, getNetworkRow, mustOwn, type Caller } from '../networks.ts';
import { createPort, deletePort, findPort, hostnameOf, listPorts, setPortTags, SERVICE_OWNERS, updatePort, type Port } from '../ports.ts';
import { listResponse, queryValues, showResponse, storePage, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';
import { tagRoutes } from './tags.ts';
import { isGranted } from '../visibility.ts';
import { createBody, created, eachInOrder, itemsOf } from './bulk.ts';

/** A port as Neutron shows it; where and how it is bound is the admin's to see. */
export function portView(p: Port, isAdmin: boolean): Record<string, unknown> {
  const fixedIps = p.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress }));
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    network_id: p.networkId,
    tenant_id: p.projectId,
    project_id: p.projectId,
    mac_address: p.macAddress,
    admin_state_up: p.adminStateUp,
    status: p.status,
    device_id: p.deviceId,
    device_owner: p.deviceOwner,
    fixed_ips: fixedIps,
    allowed_address_pairs: p.allowedAddressPairs,
    extra_dhcp_opts: p.extraDhcpOpts,
    security_groups: p.securityGroups,
    port_security_enabled: p.portSecurityEnabled,
    'binding:vnic_type': p.vnicType,
    ...(isAdmin
      ? {
          'binding:host_id': p.hostId,
          'binding:profile': p.bindingProfile,
          'binding:vif_type': p.hostId ? 'tap' : 'unbound',
          'binding:vif_details': {},
        }
      : {}),
    dns_name: p.dnsName,
    dns_assignment: p.fixedIps.map((f) => ({
      ip_address: f.ipAddress,
      hostname: hostnameOf(p, f.ipAddress),
      fqdn: `${hostnameOf(p, f.ipAddress)}.openstacklocal.`,
    })),
    ip_allocation: 'immediate',
    propagate_uplink_status: false,
    data_plane_status: null,
    qos_policy_id: p.qosPolicyId,
    qos_network_policy_id: p.networkQosPolicyId ?? null,
    resource_request: null,
    tags: p.tags,
    revision_number: p.revision,
    created_at: timestamp(p.createdAt),
    updated_at: timestamp(p.updatedAt),
  };
}

const FixedIp = Type.Object({ subnet_id: Type.Optional(Type.String()), ip_address: Type.Optional(Type.String()) }, { additionalProperties: false });
const ExtraDhcpOpt = Type.Object(
  {
    opt_name: Type.String({ minLength: 1, maxLength: 64 }),
    opt_value: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    ip_version: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(6), Type.Literal('4'), Type.Literal('6')])),
  },
  { additionalProperties: false },
);
const Pair = Type.Object({ ip_address: Type.String(), mac_address: Type.Optional(Type.String()) }, { additionalProperties: false });
const Mutable = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.Optional(Type.String({ maxLength: 255 })),
  admin_state_up: Type.Optional(Type.Boolean()),
  mac_address: Type.Optional(Type.String()),
  fixed_ips: Type.Optional(Type.Array(FixedIp)),
  device_id: Type.Optional(Type.String({ maxLength: 255 })),
  device_owner: Type.Optional(Type.String({ maxLength: 255 })),
  security_groups: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  port_security_enabled: Type.Optional(Type.Boolean()),
  allowed_address_pairs: Type.Optional(Type.Union([Type.Array(Pair), Type.Null()])),
  'binding:host_id': Type.Optional(Type.String({ maxLength: 255 })),
  'binding:vnic_type': Type.Optional(Type.Union([Type.Literal('normal'), Type.Literal('direct'), Type.Literal('macvtap'), Type.Literal('baremetal')])),
  'binding:profile': Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  dns_name: Type.Optional(Type.String({ maxLength: 255 })),
  extra_dhcp_opts: Type.Optional(Type.Union([Type.Array(ExtraDhcpOpt), Type.Null()])),
  qos_policy_id: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  // Neutron's default only: no uplink status propagation here.
  propagate_uplink_status: Type.Optional(Type.Literal(false)),
};
const PortBody = Type.Object(
  {
    ...Mutable,
    network_id: Type.String({ minLength: 1 }),
    project_id: Type.Optional(Type.String({ minLength: 1 })),
    tenant_id: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
type PortBody = Static<typeof PortBody>;
const CreateBody = createBody('port', 'ports', PortBody);
const UpdateBody = Type.Object({ port: Type.Object(Mutable, { additionalProperties: false }) });
const ById = Type.Object({ port_id: Type.String() });
type Fields = Static<typeof UpdateBody>['port'];

/** The attributes only the admin may set: a port's MAC and binding, a network: service owner; and
 * on a network of another project (a shared one), what would let the port pose as another: a
 * chosen address, address pairs, or port security off. */
async function checkAdminFields(db: Db, request: FastifyRequest, caller: Caller, networkId: string, b: Fields): Promise<void> {
  if (caller.isAdmin) return;
  const network = await getNetworkRow(db, caller, networkId);
  const foreign = network.projectId !== caller.projectId;
  const asks =
    b.mac_address !== undefined ||
    b['binding:host_id'] !== undefined ||
    b['binding:profile'] != null ||
    !!b.device_owner?.startsWith('network:') ||
    (foreign && (!!b.fixed_ips?.some((f) => f.ip_address !== undefined) || !!b.allowed_address_pairs?.length || b.port_security_enabled === false));
  if (asks && !allows('network:create_port:admin_fields', authOf(request)))
    throw forbidden("Policy doesn't allow network:create_port:admin_fields to be performed.");
}

const changesOf = (b: Fields) => ({
  name: b.name,
  description: b.description,
  adminStateUp: b.admin_state_up,
  macAddress: b.mac_address,
  fixedIps: b.fixed_ips?.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
  deviceId: b.device_id,
  deviceOwner: b.device_owner,
  securityGroups: b.security_groups === null ? [] : b.security_groups,
  portSecurityEnabled: b.port_security_enabled,
  allowedAddressPairs:
    b.allowed_address_pairs === null ? [] : b.allowed_address_pairs?.map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? '' })),
  hostId: b['binding:host_id'],
  vnicType: b['binding:vnic_type'],
  bindingProfile: b['binding:profile'] === null ? {} : b['binding:profile'],
  dnsName: b.dns_name,
  extraDhcpOpts: b.extra_dhcp_opts === null ? undefined : b.extra_dhcp_opts,
  qosPolicyId: b.qos_policy_id,
});

/** The filters the store applies itself (listResponse applies them again, with every other). */
const NARROWED = ['id', 'network_id', 'device_id', 'device_owner', 'mac_address', 'fixed_ips'];

export function portRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/ports', { config: { policy: 'network:get_port' } }, async (request) => {
    const caller = callerOf(authOf(request));
    // The usual narrowing filters run in the store; listResponse then applies every filter.
    const fixed = queryValues(request, 'fixed_ips') ?? [];
    const byKey = (key: string) => {
      const values = fixed.filter((f) => f.startsWith(`${key}=`)).map((f) => f.slice(key.length + 1));
      return values.length ? values : undefined;
    };
    const rows = await listPorts(store.db, caller, {
      ...storePage(request, NARROWED),
      ids: queryValues(request, 'id'),
      networkIds: queryValues(request, 'network_id'),
      deviceIds: queryValues(request, 'device_id'),
      deviceOwners: queryValues(request, 'device_owner'),
      macAddresses: queryValues(request, 'mac_address'),
      ipAddresses: byKey('ip_address'),
      subnetIds: byKey('subnet_id'),
    });
    return listResponse(
      request,
      'ports',
      rows.map((p) => portView(p, caller.isAdmin)),
    );
  });

  api.get('/ports/:port_id', { config: { policy: 'network:get_port' }, schema: { params: ById } }, async (request) => {
    const caller = callerOf(authOf(request));
    return showResponse(request, 'port', portView(await findPort(store.db, caller, request.params.port_id), caller.isAdmin));
  });

  api.post('/ports', { config: { policy: 'network:create_port' }, schema: { body: CreateBody } }, async (request, reply) => {
    const caller = callerOf(authOf(request));
    const { items, bulk } = itemsOf<PortBody>(request.body, 'port', 'ports');
    const made = await store.tx((tx) =>
      eachInOrder(items, async (b) => {
        const projectId = ownerOf(request, b, 'create_port');
        // Locked first, so that a grant being taken back is either seen gone or waits for this port.
        const network = await getNetworkRow(tx, caller, b.network_id, 'key share');
        if (network.projectId !== projectId && !caller.isAdmin && !(await isGranted(tx, network.id, projectId, 'access_as_shared')))
          throw forbidden(`Tenant ${projectId} not allowed to create port on this network`);
        await checkAdminFields(tx, request, caller, network.id, b);
        const c = changesOf(b);
        return createPort(tx, { ...c, networkId: network.id, projectId, fixedIps: c.fixedIps });
      }),
    );
    return created(
      reply,
      'port',
      'ports',
      bulk,
      made.map((p) => portView(p, caller.isAdmin)),
    );
  });

  api.put('/ports/:port_id', { config: { policy: 'network:update_port' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const caller = callerOf(authOf(request));
    const port = await store.tx(async (tx) => {
      const current = await findPort(tx, caller, request.params.port_id, true);
      mustOwn(caller, current, 'update_port');
      // A router's or floating IP's port changes only with its resource: renamed, not re-owned.
      const b = request.body.port;
      if (
        !caller.isAdmin &&
        SERVICE_OWNERS.includes(current.deviceOwner) &&
        (b.device_owner !== undefined || b.device_id !== undefined || b.fixed_ips !== undefined)
      )
        throw conflict(`Port ${current.id} has owner ${current.deviceOwner} and therefore cannot be changed directly via the port API.`, 'ServicePortInUse');
      await checkAdminFields(tx, request, caller, current.networkId, b);
      return updatePort(tx, current.id, changesOf(request.body.port));
    });
    return { port: portView(port, caller.isAdmin) };
  });

  api.delete('/ports/:port_id', { config: { policy: 'network:delete_port' }, schema: { params: ById } }, async (request, reply) => {
    const caller = callerOf(authOf(request));
    await store.tx(async (tx) => {
      const port = await findPort(tx, caller, request.params.port_id, true);
      // A router's or floating IP's port goes with that resource, never on its own.
      if (SERVICE_OWNERS.includes(port.deviceOwner))
        throw conflict(`Port ${port.id} cannot be deleted directly via the port API: has device owner ${port.deviceOwner}.`, 'ServicePortInUse');
      await deletePort(tx, port.id);
    });
    return reply.status(204).send();
  });

  tagRoutes(app, store, {
    collection: 'ports',
    policy: { read: 'network:get_port', write: 'network:update_port' },
    tagsOf: async (db, caller, id) => (await findPort(db, caller, id)).tags,
    setTags: async (tx, caller, id, tags) => {
      mustOwn(caller, await findPort(tx, caller, id, true), 'update_port');
      return setPortTags(tx, id, tags);
    },
  });
}
