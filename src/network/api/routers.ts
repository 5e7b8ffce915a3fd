import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { admin } from '../../lib/http/policy.ts';
import { badRequest, forbidden, notFound } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import { callerOf } from '../networks.ts';
import { listResponse, showResponse, timestamp } from './listing.ts';
import { ownerOf } from './networks.ts';
import { tagRoutes } from './tags.ts';
import {
  addInterface,
  changeRoutes,
  createRouter,
  deleteRouter,
  getRouter,
  getRouterRow,
  listRouters,
  parseRoutes,
  removeInterface,
  setRouterTags,
  updateRouter,
  type GatewayInput,
  type InterfaceInfo,
  type Router,
  SYSTEM,
} from '../routers.ts';

export const routerView = (r: Router, isAdmin: boolean) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  project_id: r.projectId,
  tenant_id: r.projectId,
  admin_state_up: r.adminStateUp,
  status: r.status,
  external_gateway_info: r.gateway && {
    network_id: r.gateway.networkId,
    enable_snat: r.enableSnat,
    external_fixed_ips: r.gateway.fixedIps.map((ip) => ({ subnet_id: ip.subnetId, ip_address: ip.ipAddress })),
  },
  routes: r.routes,
  // Neutron shows these two to the admin only (policy get_router:distributed, get_router:ha).
  ...(isAdmin ? { distributed: false, ha: false } : {}),
  flavor_id: null,
  availability_zone_hints: [],
  availability_zones: ['nova'],
  tags: r.tags,
  revision_number: r.revision,
  created_at: timestamp(r.createdAt),
  updated_at: timestamp(r.updatedAt),
});

const interfaceView = (i: InterfaceInfo) => ({
  id: i.routerId,
  tenant_id: i.projectId,
  project_id: i.projectId,
  port_id: i.portId,
  network_id: i.networkId,
  subnet_id: i.subnetId,
  subnet_ids: i.subnetIds,
});

const Text = Type.String({ maxLength: 255 });
export const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 });
const Routes = Type.Array(Type.Object({ destination: Type.String(), nexthop: Type.String() }));
const GatewayInfo = Type.Union([
  Type.Null(),
  Type.Object({
    network_id: Type.Optional(Type.String()),
    enable_snat: Type.Optional(Type.Boolean()),
    external_fixed_ips: Type.Optional(Type.Array(Type.Object({ subnet_id: Type.Optional(Type.String()), ip_address: Type.Optional(Type.String()) }))),
    // Gateway QoS is not offered; clients that clear it send null.
    qos_policy_id: Type.Optional(Type.Null()),
  }),
]);
const RouterFields = {
  name: Type.Optional(Text),
  description: Type.Optional(Text),
  admin_state_up: Type.Optional(Type.Boolean()),
  external_gateway_info: Type.Optional(GatewayInfo),
  // Neither DVR nor HA routers are offered: only their off value is accepted.
  distributed: Type.Optional(Type.Literal(false)),
  ha: Type.Optional(Type.Literal(false)),
};
const CreateBody = Type.Object({
  router: Type.Object({
    ...RouterFields,
    project_id: Type.Optional(Type.String()),
    tenant_id: Type.Optional(Type.String()),
    availability_zone_hints: Type.Optional(Type.Array(Type.String())),
    flavor_id: Type.Optional(Type.Null()),
    tags: Type.Optional(Tags),
  }),
});
// Neutron takes routes: null as no routes.
const UpdateBody = Type.Object({ router: Type.Object({ ...RouterFields, routes: Type.Optional(Type.Union([Routes, Type.Null()])) }) });
const InterfaceBody = Type.Object({ subnet_id: Type.Optional(Type.String()), port_id: Type.Optional(Type.String()) });
const RoutesBody = Type.Object({ router: Type.Object({ routes: Routes }) });
const ById = Type.Object({ router_id: Type.String() });

const ROUTER_CREATE = Object.keys(CreateBody.properties.router.properties);
const ROUTER_UPDATE = Object.keys(UpdateBody.properties.router.properties);

/** Refuses attributes Neutron does not know, as Neutron words it; `routes` is update-only. */
export function onlyKnown(body: object, allowed: string[], method = 'POST'): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.includes('routes')) throw badRequest(`Attribute 'routes' not allowed in ${method}`);
  if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
}

type GatewayBody = NonNullable<Static<typeof UpdateBody>['router']['external_gateway_info']>;

/** The gateway a body asks for: undefined to keep it, null (or `{}`, which `router unset
 * --external-gateway` sends) to clear it. SNAT and fixed addresses are the admin's to choose. */
function gatewayOf(request: FastifyRequest, info: GatewayBody | null | undefined, action: string): GatewayInput | null | undefined {
  if (info === undefined) return undefined;
  if (info === null || Object.keys(info).length === 0) return null;
  if (info.network_id === undefined)
    throw badRequest(
      `Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {${Object.keys(
        info,
      )
        .map((k) => `'${k}'`)
        .join(', ')}}.`,
    );
  const isAdmin = admin(authOf(request), {});
  for (const key of ['enable_snat', 'external_fixed_ips'] as const) {
    if (info[key] !== undefined && !isAdmin) throw forbidden(`Policy doesn't allow ${action}:external_gateway_info:${key} to be performed.`);
  }
  return {
    networkId: info.network_id,
    enableSnat: info.enable_snat,
    externalFixedIps: info.external_fixed_ips?.map((ip) => ({ subnetId: ip.subnet_id, ipAddress: ip.ip_address })),
  };
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The body of add/remove_router_interface, checked as Neutron checks it. */
function interfaceOf(body: Static<typeof InterfaceBody>) {
  for (const key of ['subnet_id', 'port_id'] as const) {
    const value = body[key];
    if (value !== undefined && !UUID.test(value)) throw badRequest(`Bad router request: '${value}' is not a valid UUID.`, 'BadRequest');
  }
  return { subnetId: body.subnet_id, portId: body.port_id };
}

export function routerRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;
  const isAdmin = (request: FastifyRequest) => admin(authOf(request), {});

  api.get('/routers', { config: { policy: 'network:get_router' } }, async (request) => {
    const rows = await listRouters(store.db, callerOf(authOf(request)));
    return listResponse(
      request,
      'routers',
      rows.map((r) => routerView(r, isAdmin(request))),
    );
  });

  api.post('/routers', { config: { policy: 'network:create_router' }, schema: { body: CreateBody } }, async (request, reply) => {
    const body = request.body.router;
    onlyKnown(body, ROUTER_CREATE);
    const projectId = ownerOf(request, body, 'create_router');
    const hints = body.availability_zone_hints?.filter((z) => z !== 'nova') ?? [];
    if (hints.length) throw notFound(`AvailabilityZone ${hints[0]} could not be found.`, 'AvailabilityZoneNotFound');
    const gateway = gatewayOf(request, body.external_gateway_info, 'create_router');
    const v = callerOf(authOf(request));
    const router = await store.tx(async (tx) => {
      const r = await createRouter(tx, v, {
        projectId,
        name: body.name ?? '',
        description: body.description ?? '',
        adminStateUp: body.admin_state_up ?? true,
        gateway,
      });
      if (body.tags?.length) r.tags = await setRouterTags(tx, SYSTEM, r.id, body.tags);
      return r;
    });
    return reply.status(201).send({ router: routerView(router, isAdmin(request)) });
  });

  api.get('/routers/:router_id', { config: { policy: 'network:get_router' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'router', routerView(await getRouter(store.db, callerOf(authOf(request)), request.params.router_id), isAdmin(request))),
  );

  api.put('/routers/:router_id', { config: { policy: 'network:update_router' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const body = request.body.router;
    onlyKnown(body, ROUTER_UPDATE, 'PUT');
    const gateway = gatewayOf(request, body.external_gateway_info, 'update_router');
    const routes = body.routes === null ? [] : body.routes && parseRoutes(body.routes);
    const router = await store.tx((tx) =>
      updateRouter(tx, callerOf(authOf(request)), request.params.router_id, {
        name: body.name,
        description: body.description,
        adminStateUp: body.admin_state_up,
        gateway,
        routes,
      }),
    );
    return { router: routerView(router, isAdmin(request)) };
  });

  api.delete('/routers/:router_id', { config: { policy: 'network:delete_router' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteRouter(tx, callerOf(authOf(request)), request.params.router_id));
    return reply.status(204).send();
  });

  api.put(
    '/routers/:router_id/add_router_interface',
    { config: { policy: 'network:add_router_interface' }, schema: { params: ById, body: InterfaceBody } },
    async (request) => interfaceView(await store.tx((tx) => addInterface(tx, callerOf(authOf(request)), request.params.router_id, interfaceOf(request.body)))),
  );

  api.put(
    '/routers/:router_id/remove_router_interface',
    { config: { policy: 'network:remove_router_interface' }, schema: { params: ById, body: InterfaceBody } },
    async (request) =>
      interfaceView(await store.tx((tx) => removeInterface(tx, callerOf(authOf(request)), request.params.router_id, interfaceOf(request.body)))),
  );

  // extraroute-atomic, as `openstack router add/remove route` uses it.
  for (const [action, add] of [
    ['add_extraroutes', true],
    ['remove_extraroutes', false],
  ] as const) {
    api.put(`/routers/:router_id/${action}`, { config: { policy: 'network:update_router' }, schema: { params: ById, body: RoutesBody } }, async (request) => {
      const routes = parseRoutes(request.body.router.routes);
      const router = await store.tx((tx) => changeRoutes(tx, callerOf(authOf(request)), request.params.router_id, routes, add));
      return { router: routerView(router, isAdmin(request)) };
    });
  }

  tagRoutes(app, store, {
    collection: 'routers',
    policy: { read: 'network:get_router', write: 'network:update_router' },
    tagsOf: async (db, caller, id) => (await getRouterRow(db, caller, id)).tags,
    setTags: setRouterTags,
  });
}
