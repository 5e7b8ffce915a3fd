import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { ApiError, notFound } from '../../lib/errors.ts';
import { admin, anyOf, authenticated, definePolicy, projectMember, projectReader } from '../../lib/http/policy.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { createFloatingIp, deleteFloatingIp, getFloatingIp, listFloatingIps, type FloatingIp } from '../../network/floating-ips.ts';
import { callerOf, listNetworks, type Network } from '../../network/networks.ts';
import { removedAt236 } from './proxy-images.ts';

// Nova's network proxies, gone at 2.36: floating IPs and their pools (the external networks),
// and the networks a project may use (os-networks, os-tenant-networks), read only, from the
// network service with its own visibility rules.

definePolicy({
  'compute:os-floating-ips': anyOf(admin, projectMember),
  'compute:os-floating-ip-pools': authenticated,
  'compute:os-networks:list': anyOf(admin, projectReader),
  'compute:os-tenant-networks:list': anyOf(admin, projectReader),
});

/** Nova asks the network service as the project, even for an admin: its proxies show the
 * project's own resources. */
const projectCaller = (auth: AuthContext) => ({ projectId: auth.project?.id ?? '', isAdmin: false });

function floatingIpView(f: FloatingIp, pools: Map<string, string>) {
  const server = f.port?.deviceOwner.startsWith('compute:') ? f.port.deviceId : null;
  return { id: f.id, ip: f.floatingIpAddress, pool: pools.get(f.floatingNetworkId) ?? null, fixed_ip: f.fixedIpAddress, instance_id: server };
}

/** The external networks the project sees, by id → name: Nova's floating IP pools. */
async function poolsOf(db: Db, auth: AuthContext): Promise<Map<string, string>> {
  const nets = await listNetworks(db, projectCaller(auth));
  return new Map(nets.filter((n) => n.external).map((n) => [n.id, n.name]));
}

/** The networks Nova lists: those the project may put servers on, never an external one it only sees. */
async function usable(db: Db, auth: AuthContext): Promise<Network[]> {
  const projectId = auth.project?.id ?? '';
  return (await listNetworks(db, projectCaller(auth))).filter((n) => !n.external || n.projectId === projectId || n.shared);
}

/** Nova's os-networks view: from Neutron only the id, name and (for the admin) what Neutron has. */
function networkView(n: Network, isAdmin: boolean) {
  const base = {
    id: n.id,
    label: n.name,
    ...Object.fromEntries(['cidr', 'netmask', 'gateway', 'broadcast', 'dns1', 'dns2', 'cidr_v6', 'gateway_v6', 'netmask_v6'].map((k) => [k, null])),
  };
  if (!isAdmin) return base;
  const unknown = ['deleted_at', 'injected', 'bridge', 'vlan', 'vpn_public_address', 'vpn_public_port', 'vpn_private_address', 'dhcp_start'];
  const more = ['host', 'bridge_interface', 'multi_host', 'priority', 'rxtx_base', 'dhcp_server', 'enable_dhcp', 'share_address'];
  return {
    ...base,
    ...Object.fromEntries([...unknown, ...more].map((k) => [k, null])),
    created_at: n.createdAt.toISOString(),
    updated_at: n.updatedAt.toISOString(),
    deleted: false,
    project_id: n.projectId,
    mtu: n.mtu,
  };
}

const ById = Type.Object({ id: Type.String() });
const AllocateBody = Type.Union([Type.Null(), Type.Object({ pool: Type.Optional(Type.Union([Type.String(), Type.Null()])) })]);

export function networkProxyRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const fips = { policy: 'compute:os-floating-ips' };

  api.get('/os-floating-ips', { config: fips }, async (request) => {
    removedAt236(request);
    const auth = authOf(request);
    const pools = await poolsOf(db, auth);
    return { floating_ips: (await listFloatingIps(db, projectCaller(auth))).map((f) => floatingIpView(f, pools)) };
  });

  api.get('/os-floating-ips/:id', { config: fips, schema: { params: ById } }, async (request) => {
    removedAt236(request);
    const auth = authOf(request);
    const f = await getFloatingIp(db, projectCaller(auth), request.params.id).catch(() => {
      throw notFound(`Floating IP not found for ID ${request.params.id}`);
    });
    return { floating_ip: floatingIpView(f, await poolsOf(db, auth)) };
  });

  // The pool named, or the only one there is (Nova's configured default stands for it).
  api.post('/os-floating-ips', { config: fips, schema: { body: AllocateBody } }, async (request) => {
    removedAt236(request);
    const auth = authOf(request);
    const pools = await poolsOf(db, auth);
    const name = request.body?.pool;
    const ids = [...pools].filter(([id, n]) => (name ? n === name || id === name : true)).map(([id]) => id);
    if (ids.length !== 1) throw notFound(name ? `Floating IP pool not found: ${name}` : 'Floating IP pool not found.');
    const f = await store.tx((tx) => createFloatingIp(tx, projectCaller(auth), { projectId: auth.project?.id ?? '', networkId: ids[0]!, description: '' }));
    return { floating_ip: floatingIpView(f, pools) };
  });

  api.delete('/os-floating-ips/:id', { config: fips, schema: { params: ById } }, async (request, reply) => {
    removedAt236(request);
    await store
      .tx((tx) => deleteFloatingIp(tx, projectCaller(authOf(request)), request.params.id))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) throw notFound(`Floating IP not found for ID ${request.params.id}`);
        throw err;
      });
    return reply.status(202).send();
  });

  api.get('/os-floating-ip-pools', { config: { policy: 'compute:os-floating-ip-pools' } }, async (request) => {
    removedAt236(request);
    return { floating_ip_pools: [...(await poolsOf(db, authOf(request))).values()].map((name) => ({ name })) };
  });

  api.get('/os-networks', { config: { policy: 'compute:os-networks:list' } }, async (request) => {
    removedAt236(request);
    const auth = authOf(request);
    return { networks: (await usable(db, auth)).map((n) => networkView(n, callerOf(auth).isAdmin)) };
  });

  api.get('/os-networks/:id', { config: { policy: 'compute:os-networks:list' }, schema: { params: ById } }, async (request) => {
    removedAt236(request);
    const auth = authOf(request);
    const n = (await usable(db, auth)).find((x) => x.id === request.params.id);
    if (!n) throw notFound('Network not found');
    return { network: networkView(n, callerOf(auth).isAdmin) };
  });

  // Nova prints the cidr a Neutron network lacks: the string "None", as its api-ref shows.
  const tenantView = (n: Network) => ({ id: n.id, label: n.name, cidr: 'None' });

  api.get('/os-tenant-networks', { config: { policy: 'compute:os-tenant-networks:list' } }, async (request) => {
    removedAt236(request);
    return { networks: (await usable(db, authOf(request))).map(tenantView) };
  });

  api.get('/os-tenant-networks/:id', { config: { policy: 'compute:os-tenant-networks:list' }, schema: { params: ById } }, async (request) => {
    removedAt236(request);
    const n = (await usable(db, authOf(request))).find((x) => x.id === request.params.id);
    if (!n) throw notFound('Network not found');
    return { network: tenantView(n) };
  });
}
