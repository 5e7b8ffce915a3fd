import type { FastifyInstance } from 'fastify';
import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import { findChild, listChildren, type ListenerRow, type MemberRow, type MonitorRow, type PoolRow } from '../children.ts';
import { createLoadBalancer, deleteLoadBalancer, failoverLoadBalancer, findLoadBalancer, listLoadBalancers, updateLoadBalancer } from '../loadbalancers.ts';
import type { Caller, LoadBalancerRow } from '../provisioning.ts';
import { PROVIDER, type LoadBalancing } from '../service.ts';
import { listenerStats } from '../tables.ts';
import { callerOf, projectFor, type Query } from './caller.ts';
import { bodyOf, bool, filtered, tags, text } from './input.ts';
import { loadBalancerView } from './views.ts';

async function views(db: Db, caller: Caller, lbs: LoadBalancerRow[]) {
  const [ls, ps] = await Promise.all([listChildren(db, caller, 'listener'), listChildren(db, caller, 'pool')]);
  const of = (rows: { id: string; loadBalancerId: string }[], lb: string) => rows.filter((r) => r.loadBalancerId === lb).map((r) => r.id);
  return lbs.map((lb) => loadBalancerView(lb, { listeners: of(ls, lb.id), pools: of(ps, lb.id) }));
}

const opStatus = (r: { id: string; name: string; operatingStatus: string; provisioningStatus: string }) => ({
  id: r.id,
  name: r.name,
  operating_status: r.operatingStatus,
  provisioning_status: r.provisioningStatus,
});

/** Octavia's status tree: the load balancer, its listeners, their pools, members and monitors. */
async function statusTree(db: Db, caller: Caller, lb: LoadBalancerRow) {
  const [ls, ps, ms, hs] = await Promise.all([
    listChildren(db, caller, 'listener') as Promise<ListenerRow[]>,
    listChildren(db, caller, 'pool') as Promise<PoolRow[]>,
    listChildren(db, caller, 'member') as Promise<MemberRow[]>,
    listChildren(db, caller, 'healthmonitor') as Promise<MonitorRow[]>,
  ]);
  const poolStatus = (p: PoolRow) => {
    const hm = hs.find((h) => h.poolId === p.id);
    return {
      ...opStatus(p),
      ...(hm ? { health_monitor: { ...opStatus(hm), type: hm.type } } : {}),
      members: ms.filter((m) => m.poolId === p.id).map((m) => ({ ...opStatus(m), address: m.address, protocol_port: m.protocolPort })),
    };
  };
  const mine = ps.filter((p) => p.loadBalancerId === lb.id);
  return {
    loadbalancer: {
      ...opStatus(lb),
      listeners: ls
        .filter((l) => l.loadBalancerId === lb.id)
        .map((l) => ({ ...opStatus(l), pools: mine.filter((p) => p.id === l.defaultPoolId).map(poolStatus) })),
      pools: mine.map(poolStatus),
    },
  };
}

export function loadBalancerRoutes(api: FastifyInstance, svc: LoadBalancing): void {
  const db = svc.store.db;
  const read = { config: { policy: 'loadbalancer:read' } };
  const write = { config: { policy: 'loadbalancer:write' } };

  api.get<{ Querystring: Query }>('/lbaas/loadbalancers', read, async (request) => {
    const caller = callerOf(request);
    return { loadbalancers: filtered(await views(db, caller, await listLoadBalancers(db, caller)), request.query), loadbalancers_links: [] };
  });

  api.post('/lbaas/loadbalancers', write, async (request, reply) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'loadbalancer');
    const lb = await createLoadBalancer(svc.store, caller, svc.host, {
      projectId: projectFor(caller, b.project_id),
      name: text(b, 'name'),
      description: text(b, 'description'),
      adminStateUp: bool(b, 'admin_state_up'),
      provider: text(b, 'provider'),
      vipNetworkId: text(b, 'vip_network_id', 36),
      vipSubnetId: text(b, 'vip_subnet_id', 36),
      vipPortId: text(b, 'vip_port_id', 36),
      vipAddress: text(b, 'vip_address', 64),
      tags: tags(b),
    });
    return reply.status(201).send({ loadbalancer: (await views(db, caller, [lb]))[0] });
  });

  api.get<{ Params: { id: string } }>('/lbaas/loadbalancers/:id', read, async (request) => {
    const caller = callerOf(request);
    return { loadbalancer: (await views(db, caller, [await findLoadBalancer(db, caller, request.params.id)]))[0] };
  });

  api.put<{ Params: { id: string } }>('/lbaas/loadbalancers/:id', write, async (request) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'loadbalancer');
    const lb = await updateLoadBalancer(svc.store, caller, request.params.id, {
      name: text(b, 'name'),
      description: text(b, 'description'),
      adminStateUp: bool(b, 'admin_state_up'),
      tags: tags(b),
    });
    return { loadbalancer: (await views(db, caller, [lb]))[0] };
  });

  api.delete<{ Params: { id: string }; Querystring: Query }>('/lbaas/loadbalancers/:id', write, async (request, reply) => {
    await deleteLoadBalancer(svc.store, callerOf(request), request.params.id, ['true', '1'].includes(String(request.query.cascade).toLowerCase()));
    return reply.status(204).send();
  });

  api.put<{ Params: { id: string } }>('/lbaas/loadbalancers/:id/failover', { config: { policy: 'loadbalancer:failover' } }, async (request, reply) => {
    await failoverLoadBalancer(svc.store, callerOf(request), request.params.id);
    return reply.status(202).send();
  });

  api.get<{ Params: { id: string } }>('/lbaas/loadbalancers/:id/status', read, async (request) => {
    const caller = callerOf(request);
    return { statuses: await statusTree(db, caller, await findLoadBalancer(db, caller, request.params.id)) };
  });

  api.get<{ Params: { id: string } }>('/lbaas/loadbalancers/:id/stats', read, async (request) => {
    const lb = await findLoadBalancer(db, callerOf(request), request.params.id);
    const rows = await db.select().from(listenerStats).where(eq(listenerStats.loadBalancerId, lb.id));
    const sum = (k: 'bytesIn' | 'bytesOut' | 'activeConnections' | 'totalConnections' | 'requestErrors') => rows.reduce((n, r) => n + r[k], 0);
    return {
      stats: {
        bytes_in: sum('bytesIn'),
        bytes_out: sum('bytesOut'),
        active_connections: sum('activeConnections'),
        total_connections: sum('totalConnections'),
        request_errors: sum('requestErrors'),
      },
    };
  });

  api.get<{ Params: { id: string } }>('/lbaas/listeners/:id/stats', read, async (request) => {
    const listener = await findChild(db, callerOf(request), 'listener', request.params.id);
    const [r] = await db.select().from(listenerStats).where(eq(listenerStats.listenerId, listener.id));
    return {
      stats: {
        bytes_in: r?.bytesIn ?? 0,
        bytes_out: r?.bytesOut ?? 0,
        active_connections: r?.activeConnections ?? 0,
        total_connections: r?.totalConnections ?? 0,
        request_errors: r?.requestErrors ?? 0,
      },
    };
  });

  api.get('/lbaas/providers', { config: { policy: 'loadbalancer:provider' } }, async () => ({ providers: [PROVIDER] }));
}
