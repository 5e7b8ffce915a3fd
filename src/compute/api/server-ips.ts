import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { notFound } from '../../lib/errors.ts';
import { admin, anyOf, definePolicy, projectReader } from '../../lib/http/policy.ts';
import type { Store } from '../../lib/store/db.ts';
import { serverAddresses } from '../../network/for-compute.ts';
import { serverInterfaces } from '../../network/server-interfaces.ts';
import { getServer } from '../servers.ts';
import { versionOf } from './microversion.ts';

// A server's addresses by network (ips), and its NICs as the old virtual-interfaces API lists
// them (gone at 2.44, as in Nova).

definePolicy({
  'compute:ips:index': anyOf(admin, projectReader),
  'compute:ips:show': anyOf(admin, projectReader),
  'compute:os-virtual-interfaces': anyOf(admin, projectReader),
});

const ById = Type.Object({ server_id: Type.String() });
const ByLabel = Type.Object({ server_id: Type.String(), network_label: Type.String() });

export function serverIpRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  /** Nova's `addresses` without the type and MAC: network label → [{version, addr}]. */
  async function addressesOf(auth: AuthContext, serverId: string) {
    const s = await getServer(db, auth, serverId);
    const out: Record<string, { version: number; addr: string }[]> = {};
    for (const a of (await serverAddresses(db, [s])).get(s.id) ?? []) (out[a.network] ??= []).push({ version: a.version, addr: a.addr });
    return out;
  }

  api.get('/servers/:server_id/ips', { config: { policy: 'compute:ips:index' }, schema: { params: ById } }, async (request) => ({
    addresses: await addressesOf(authOf(request), request.params.server_id),
  }));

  api.get('/servers/:server_id/ips/:network_label', { config: { policy: 'compute:ips:show' }, schema: { params: ByLabel } }, async (request) => {
    const label = request.params.network_label;
    const list = (await addressesOf(authOf(request), request.params.server_id))[label];
    if (!list) throw notFound('Network does not exist');
    return { [label]: list };
  });

  // Each port is a virtual interface, its id the port's (as Nova's VIF records take it); net_id from 2.12.
  api.get('/servers/:server_id/os-virtual-interfaces', { config: { policy: 'compute:os-virtual-interfaces' }, schema: { params: ById } }, async (request) => {
    const v = versionOf(request);
    if (v.atLeast('2.44')) throw notFound('The resource could not be found.');
    const s = await getServer(db, authOf(request), request.params.server_id);
    return {
      virtual_interfaces: (await serverInterfaces(db, s)).map((i) => ({
        id: i.portId,
        mac_address: i.mac,
        ...(v.atLeast('2.12') ? { net_id: i.networkId } : {}),
      })),
    };
  });
}
