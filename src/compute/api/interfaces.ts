import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import { admin, anyOf, definePolicy, projectMember, projectReader } from '../../lib/http/policy.ts';
import type { Store } from '../../lib/store/db.ts';
import type { ServerInterface } from '../../network/server-interfaces.ts';
import { attachInterface, detachInterface, listInterfaces, showInterface } from '../interfaces.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { introducedIn } from './server-fields.ts';
import { recordAction } from '../instance-actions.ts';
import { actionContext } from './instance-actions.ts';

definePolicy({
  'compute:os-attach-interfaces:list': anyOf(admin, projectReader),
  'compute:os-attach-interfaces:show': anyOf(admin, projectReader),
  'compute:os-attach-interfaces:create': anyOf(admin, projectMember),
  'compute:os-attach-interfaces:delete': anyOf(admin, projectMember),
});

const ById = Type.Object({ server_id: Type.String() });
const ByPort = Type.Object({ server_id: Type.String(), port_id: Type.String() });
const AttachBody = Type.Object({
  interfaceAttachment: Type.Object(
    {
      net_id: Type.Optional(Type.String({ format: 'uuid' })),
      port_id: Type.Optional(Type.String({ format: 'uuid' })),
      // Nova takes one address at most.
      fixed_ips: Type.Optional(
        Type.Array(Type.Object({ ip_address: Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })]) }), { maxItems: 1 }),
      ),
      tag: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' })),
    },
    { additionalProperties: false },
  ),
});

/** Nova's interfaceAttachment: the port's addresses, network, MAC and status; tag from 2.70 (none here). */
function interfaceView(i: ServerInterface, v: Microversion) {
  return {
    fixed_ips: i.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
    mac_addr: i.mac,
    net_id: i.networkId,
    port_id: i.portId,
    port_state: i.state,
    ...(v.atLeast('2.70') ? { tag: null } : {}),
  };
}

export function interfaceRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const path = '/servers/:server_id/os-interface';

  api.get(path, { config: { policy: 'compute:os-attach-interfaces:list' }, schema: { params: ById } }, async (request) => ({
    interfaceAttachments: (await listInterfaces(db, authOf(request), request.params.server_id)).map((i) => interfaceView(i, versionOf(request))),
  }));

  api.get(`${path}/:port_id`, { config: { policy: 'compute:os-attach-interfaces:show' }, schema: { params: ByPort } }, async (request) => ({
    interfaceAttachment: interfaceView(await showInterface(db, authOf(request), request.params.server_id, request.params.port_id), versionOf(request)),
  }));

  api.post(path, { config: { policy: 'compute:os-attach-interfaces:create' }, schema: { params: ById, body: AttachBody } }, async (request) => {
    const b = request.body.interfaceAttachment;
    const v = versionOf(request);
    introducedIn(v, 'interfaceAttachment', b, { tag: '2.49' });
    if (b.net_id && b.port_id) throw badRequest('Must not input both network_id and port_id');
    if (b.fixed_ips && !b.net_id) throw badRequest('Must input network_id when request IP address');
    // Nova's answer when the hypervisor cannot tag devices for the guest's metadata.
    if (b.tag !== undefined) throw badRequest('Tagged network interface attachment is not supported for this instance.');
    const attached = await store.tx(async (tx) => {
      const port = await attachInterface(tx, authOf(request), request.params.server_id, {
        portId: b.port_id,
        networkId: b.net_id,
        fixedIp: b.fixed_ips?.[0]?.ip_address,
      });
      await recordAction(tx, actionContext(request), request.params.server_id, { action: 'attach_interface', event: 'compute_attach_interface' });
      return port;
    });
    return { interfaceAttachment: interfaceView(attached, v) };
  });

  api.delete(`${path}/:port_id`, { config: { policy: 'compute:os-attach-interfaces:delete' }, schema: { params: ByPort } }, async (request, reply) => {
    await store.tx(async (tx) => {
      await detachInterface(tx, authOf(request), request.params.server_id, request.params.port_id);
      await recordAction(tx, actionContext(request), request.params.server_id, { action: 'detach_interface', event: 'compute_detach_interface' });
    });
    return reply.status(202).send();
  });
}
