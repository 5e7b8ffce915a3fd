import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { admin } from '../../lib/http/policy.ts';
import { forbidden } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import { listResponse, showResponse, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';
import { onlyKnown, Tags } from './routers.ts';
import { tagRoutes } from './tags.ts';
import { callerOf } from '../networks.ts';
import { SYSTEM } from '../routers.ts';
import {
  createFloatingIp,
  deleteFloatingIp,
  getFloatingIp,
  getFloatingIpRow,
  listFloatingIps,
  setFloatingIpTags,
  updateFloatingIp,
  type FloatingIp,
} from '../floating-ips.ts';

export const floatingIpView = (f: FloatingIp) => ({
  id: f.id,
  floating_ip_address: f.floatingIpAddress,
  floating_network_id: f.floatingNetworkId,
  router_id: f.routerId,
  port_id: f.portId,
  fixed_ip_address: f.fixedIpAddress,
  status: f.status,
  project_id: f.projectId,
  tenant_id: f.projectId,
  description: f.description,
  dns_domain: '',
  dns_name: '',
  // fip-port-details: what a client needs to show the associated port without fetching it.
  port_details: f.port && {
    name: f.port.name,
    network_id: f.port.networkId,
    mac_address: f.port.macAddress,
    admin_state_up: f.port.adminStateUp,
    status: f.port.status,
    device_id: f.port.deviceId,
    device_owner: f.port.deviceOwner,
  },
  port_forwardings: [],
  qos_policy_id: null,
  tags: f.tags,
  revision_number: f.revision,
  created_at: timestamp(f.createdAt),
  updated_at: timestamp(f.updatedAt),
});

const Text = Type.String({ maxLength: 255 });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const CreateBody = Type.Object({
  floatingip: Type.Object({
    floating_network_id: Type.String({ minLength: 1 }),
    floating_ip_address: Type.Optional(Type.String()),
    subnet_id: Type.Optional(Type.String()),
    port_id: Nullable(Type.String()),
    fixed_ip_address: Type.Optional(Type.String()),
    description: Type.Optional(Text),
    project_id: Type.Optional(Type.String()),
    tenant_id: Type.Optional(Type.String()),
    // QoS and DNS are not offered; clients send their empty values.
    qos_policy_id: Type.Optional(Type.Null()),
    dns_domain: Type.Optional(Type.Literal('')),
    dns_name: Type.Optional(Type.Literal('')),
    tags: Type.Optional(Tags),
  }),
});
const UpdateBody = Type.Object({
  floatingip: Type.Object({
    port_id: Nullable(Type.String()),
    fixed_ip_address: Type.Optional(Type.String()),
    description: Type.Optional(Text),
    qos_policy_id: Type.Optional(Type.Null()),
  }),
});
const ById = Type.Object({ floatingip_id: Type.String() });

const FIP_CREATE = Object.keys(CreateBody.properties.floatingip.properties);
const FIP_UPDATE = Object.keys(UpdateBody.properties.floatingip.properties);

export function floatingIpRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/floatingips', { config: { policy: 'network:get_floatingip' } }, async (request) => {
    const rows = await listFloatingIps(store.db, callerOf(authOf(request)));
    return listResponse(request, 'floatingips', rows.map(floatingIpView));
  });

  api.post('/floatingips', { config: { policy: 'network:create_floatingip' }, schema: { body: CreateBody } }, async (request, reply) => {
    const body = request.body.floatingip;
    onlyKnown(body, FIP_CREATE);
    const projectId = ownerOf(request, body, 'create_floatingip');
    // Choosing the address is the admin's (policy create_floatingip:floating_ip_address).
    if (body.floating_ip_address !== undefined && !admin(authOf(request), {}))
      throw forbidden(`Policy doesn't allow create_floatingip:floating_ip_address to be performed.`);
    const v = callerOf(authOf(request));
    const fip = await store.tx(async (tx) => {
      const f = await createFloatingIp(tx, v, {
        projectId,
        networkId: body.floating_network_id,
        subnetId: body.subnet_id,
        floatingIpAddress: body.floating_ip_address,
        portId: body.port_id ?? undefined,
        fixedIpAddress: body.fixed_ip_address,
        description: body.description ?? '',
      });
      if (body.tags?.length) f.tags = await setFloatingIpTags(tx, SYSTEM, f.id, body.tags);
      return f;
    });
    return reply.status(201).send({ floatingip: floatingIpView(fip) });
  });

  api.get('/floatingips/:floatingip_id', { config: { policy: 'network:get_floatingip' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'floatingip', floatingIpView(await getFloatingIp(store.db, callerOf(authOf(request)), request.params.floatingip_id))),
  );

  api.put('/floatingips/:floatingip_id', { config: { policy: 'network:update_floatingip' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const body = request.body.floatingip;
    onlyKnown(body, FIP_UPDATE, 'PUT');
    const fip = await store.tx((tx) =>
      updateFloatingIp(tx, callerOf(authOf(request)), request.params.floatingip_id, {
        portId: body.port_id,
        fixedIpAddress: body.fixed_ip_address,
        description: body.description,
      }),
    );
    return { floatingip: floatingIpView(fip) };
  });

  api.delete('/floatingips/:floatingip_id', { config: { policy: 'network:delete_floatingip' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteFloatingIp(tx, callerOf(authOf(request)), request.params.floatingip_id));
    return reply.status(204).send();
  });

  tagRoutes(app, store, {
    collection: 'floatingips',
    policy: { read: 'network:get_floatingip', write: 'network:update_floatingip' },
    tagsOf: async (db, caller, id) => (await getFloatingIpRow(db, caller, id)).tags,
    setTags: setFloatingIpTags,
  });
}
