import type { FastifyInstance } from 'fastify';
import type { Db } from '../../lib/store/db.ts';
import { childNotFound, deleteChild, findChild, listChildren, updateChild, type ListenerRow, type MemberRow, type MonitorRow, type PoolRow } from '../children.ts';
import { createMonitor, checkHttpFields } from '../healthmonitors.ts';
import { checkDefaultPool, createListener } from '../listeners.ts';
import { createMember } from '../members.ts';
import { checkPersistence, createPool } from '../pools.ts';
import type { Caller } from '../provisioning.ts';
import type { LoadBalancing } from '../service.ts';
import { LISTENER_PROTOCOLS, MONITOR_TYPES, POOL_ALGORITHMS } from '../tables.ts';
import { callerOf, projectFor, type Query } from './caller.ts';
import { bodyOf, bool, cidrs, filtered, int, oneOf, protocolOf, required, tags, text, type Body } from './input.ts';
import { listenerView, memberView, monitorView, poolView } from './views.ts';
import { badRequest } from '../../lib/errors.ts';

const TIMEOUT = 24 * 3600 * 1000;

/** Listeners with their L7 policies' ids, in the order the policies apply. */
async function listenerViews(db: Db, caller: Caller, rows: ListenerRow[]) {
  const ps = (await listChildren(db, caller, 'l7policy')).sort((a, b) => a.position - b.position);
  return rows.map((l) => listenerView(l, ps.filter((p) => p.listenerId === l.id && p.provisioningStatus !== 'PENDING_DELETE').map((p) => p.id)));
}

async function poolViews(db: Db, caller: Caller, rows: PoolRow[]) {
  const [ls, ms, hs] = await Promise.all([listChildren(db, caller, 'listener'), listChildren(db, caller, 'member'), listChildren(db, caller, 'healthmonitor')]);
  return rows.map((p) =>
    poolView(p, {
      listeners: ls.filter((l) => l.defaultPoolId === p.id).map((l) => l.id),
      members: ms.filter((m) => m.poolId === p.id).map((m) => m.id),
      monitor: hs.find((h) => h.poolId === p.id)?.id,
    }),
  );
}

const listenerFields = (b: Body) => ({
  name: text(b, 'name'),
  description: text(b, 'description'),
  adminStateUp: bool(b, 'admin_state_up'),
  connectionLimit: int(b, 'connection_limit', -1, 1_000_000),
  timeoutClientData: int(b, 'timeout_client_data', 0, TIMEOUT),
  timeoutMemberConnect: int(b, 'timeout_member_connect', 0, TIMEOUT),
  timeoutMemberData: int(b, 'timeout_member_data', 0, TIMEOUT),
  timeoutTcpInspect: int(b, 'timeout_tcp_inspect', 0, TIMEOUT),
  allowedCidrs: cidrs(b, 'allowed_cidrs'),
  tags: tags(b),
});

const memberFields = (b: Body) => ({
  name: text(b, 'name'),
  adminStateUp: bool(b, 'admin_state_up'),
  weight: int(b, 'weight', 0, 256),
  backup: bool(b, 'backup'),
  monitorAddress: text(b, 'monitor_address', 64),
  monitorPort: int(b, 'monitor_port', 1, 65535),
  tags: tags(b),
});

const monitorFields = (b: Body) => ({
  name: text(b, 'name'),
  adminStateUp: bool(b, 'admin_state_up'),
  delay: int(b, 'delay', 0, 2147483647),
  timeout: int(b, 'timeout', 0, 2147483647),
  maxRetries: int(b, 'max_retries', 1, 10),
  maxRetriesDown: int(b, 'max_retries_down', 1, 10),
  httpMethod: oneOf(b, 'http_method', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'PATCH', 'CONNECT'] as const),
  urlPath: text(b, 'url_path'),
  expectedCodes: text(b, 'expected_codes'),
  tags: tags(b),
});

const drop = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Listeners, pools, members and health monitors: Octavia's /v2/lbaas paths for each. */
export function childRoutes(api: FastifyInstance, svc: LoadBalancing): void {
  const db = svc.store.db;
  const read = { config: { policy: 'loadbalancer:read' } };
  const write = { config: { policy: 'loadbalancer:write' } };
  type Id = { Params: { id: string } };

  // Listeners.
  api.get<{ Querystring: Query }>('/lbaas/listeners', read, async (request) => ({
    listeners: filtered(await listenerViews(db, callerOf(request), await listChildren(db, callerOf(request), 'listener')), request.query),
    listeners_links: [],
  }));
  api.post('/lbaas/listeners', write, async (request, reply) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'listener');
    const protocol = required(protocolOf(b, LISTENER_PROTOCOLS), 'protocol');
    const row = await createListener(svc.store, caller, {
      ...drop(listenerFields(b)),
      projectId: projectFor(caller, b.project_id),
      loadBalancerId: required(text(b, 'loadbalancer_id', 36), 'loadbalancer_id'),
      protocol,
      protocolPort: required(int(b, 'protocol_port', 1, 65535), 'protocol_port'),
      defaultPoolId: text(b, 'default_pool_id', 36),
    });
    return reply.status(201).send({ listener: listenerView(row, []) });
  });
  api.get<Id>('/lbaas/listeners/:id', read, async (request) => {
    const caller = callerOf(request);
    return { listener: (await listenerViews(db, caller, [await findChild(db, caller, 'listener', request.params.id)]))[0] };
  });
  api.put<Id>('/lbaas/listeners/:id', write, async (request) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'listener');
    const fields: Partial<ListenerRow> = drop(listenerFields(b));
    if ('default_pool_id' in b) {
      const poolId = b.default_pool_id === null ? null : required(text(b, 'default_pool_id', 36), 'default_pool_id');
      const listener = await findChild(db, caller, 'listener', request.params.id);
      if (poolId) await checkDefaultPool(db, listener.loadBalancerId, listener.protocol, poolId, listener.id);
      fields.defaultPoolId = poolId;
    }
    return { listener: (await listenerViews(db, caller, [await updateChild(svc.store, caller, 'listener', request.params.id, fields)]))[0] };
  });
  api.delete<Id>('/lbaas/listeners/:id', write, async (request, reply) => {
    await deleteChild(svc.store, callerOf(request), 'listener', request.params.id);
    return reply.status(204).send();
  });

  // Pools.
  api.get<{ Querystring: Query }>('/lbaas/pools', read, async (request) => {
    const caller = callerOf(request);
    return { pools: filtered(await poolViews(db, caller, await listChildren(db, caller, 'pool')), request.query), pools_links: [] };
  });
  api.post('/lbaas/pools', write, async (request, reply) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'pool');
    const row = await createPool(svc.store, caller, {
      projectId: projectFor(caller, b.project_id),
      loadBalancerId: text(b, 'loadbalancer_id', 36),
      listenerId: text(b, 'listener_id', 36),
      protocol: required(protocolOf(b, LISTENER_PROTOCOLS), 'protocol'),
      lbAlgorithm: required(oneOf(b, 'lb_algorithm', POOL_ALGORITHMS), 'lb_algorithm'),
      sessionPersistence: checkPersistence(b.session_persistence),
      ...drop({ name: text(b, 'name'), description: text(b, 'description'), adminStateUp: bool(b, 'admin_state_up'), tags: tags(b) }),
    });
    return reply.status(201).send({ pool: (await poolViews(db, caller, [row]))[0] });
  });
  api.get<Id>('/lbaas/pools/:id', read, async (request) => {
    const caller = callerOf(request);
    return { pool: (await poolViews(db, caller, [await findChild(db, caller, 'pool', request.params.id)]))[0] };
  });
  api.put<Id>('/lbaas/pools/:id', write, async (request) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'pool');
    const fields: Partial<PoolRow> = drop({
      name: text(b, 'name'),
      description: text(b, 'description'),
      adminStateUp: bool(b, 'admin_state_up'),
      lbAlgorithm: oneOf(b, 'lb_algorithm', POOL_ALGORITHMS),
      tags: tags(b),
    });
    if ('session_persistence' in b) fields.sessionPersistence = checkPersistence(b.session_persistence);
    const row = await updateChild(svc.store, caller, 'pool', request.params.id, fields);
    return { pool: (await poolViews(db, caller, [row]))[0] };
  });
  api.delete<Id>('/lbaas/pools/:id', write, async (request, reply) => {
    await deleteChild(svc.store, callerOf(request), 'pool', request.params.id);
    return reply.status(204).send();
  });

  // Members, under their pool.
  type Member = { Params: { pool: string; id: string } };
  const memberOf = async (caller: Caller, pool: string, id: string): Promise<MemberRow> => {
    await findChild(db, caller, 'pool', pool);
    const m = await findChild(db, caller, 'member', id);
    if (m.poolId !== pool) throw childNotFound('member', id);
    return m;
  };
  api.get<{ Params: { pool: string }; Querystring: Query }>('/lbaas/pools/:pool/members', read, async (request) => {
    const caller = callerOf(request);
    await findChild(db, caller, 'pool', request.params.pool);
    const rows = (await listChildren(db, caller, 'member')).filter((m) => m.poolId === request.params.pool);
    return { members: filtered(rows.map(memberView), request.query), members_links: [] };
  });
  api.post<{ Params: { pool: string } }>('/lbaas/pools/:pool/members', write, async (request, reply) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'member');
    const row = await createMember(svc.store, caller, {
      ...drop(memberFields(b)),
      projectId: projectFor(caller, b.project_id),
      poolId: request.params.pool,
      address: required(text(b, 'address', 64), 'address'),
      protocolPort: required(int(b, 'protocol_port', 1, 65535), 'protocol_port'),
      subnetId: text(b, 'subnet_id', 36),
    });
    return reply.status(201).send({ member: memberView(row) });
  });
  api.get<Member>('/lbaas/pools/:pool/members/:id', read, async (request) => ({
    member: memberView(await memberOf(callerOf(request), request.params.pool, request.params.id)),
  }));
  api.put<Member>('/lbaas/pools/:pool/members/:id', write, async (request) => {
    const caller = callerOf(request);
    await memberOf(caller, request.params.pool, request.params.id);
    const fields = drop(memberFields(bodyOf(request.body, 'member')));
    return { member: memberView(await updateChild(svc.store, caller, 'member', request.params.id, fields as Partial<MemberRow>)) };
  });
  api.delete<Member>('/lbaas/pools/:pool/members/:id', write, async (request, reply) => {
    const caller = callerOf(request);
    await memberOf(caller, request.params.pool, request.params.id);
    await deleteChild(svc.store, caller, 'member', request.params.id);
    return reply.status(204).send();
  });

  // Health monitors.
  api.get<{ Querystring: Query }>('/lbaas/healthmonitors', read, async (request) => ({
    healthmonitors: filtered((await listChildren(db, callerOf(request), 'healthmonitor')).map(monitorView), request.query),
    healthmonitors_links: [],
  }));
  api.post('/lbaas/healthmonitors', write, async (request, reply) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'healthmonitor');
    const f = monitorFields(b);
    const row = await createMonitor(svc.store, caller, {
      ...drop(f),
      projectId: projectFor(caller, b.project_id),
      poolId: required(text(b, 'pool_id', 36), 'pool_id'),
      type: required(oneOf(b, 'type', MONITOR_TYPES), 'type'),
      delay: required(f.delay, 'delay'),
      timeout: required(f.timeout, 'timeout'),
      maxRetries: required(f.maxRetries, 'max_retries'),
    });
    return reply.status(201).send({ healthmonitor: monitorView(row) });
  });
  api.get<Id>('/lbaas/healthmonitors/:id', read, async (request) => ({
    healthmonitor: monitorView(await findChild(db, callerOf(request), 'healthmonitor', request.params.id)),
  }));
  api.put<Id>('/lbaas/healthmonitors/:id', write, async (request) => {
    const caller = callerOf(request);
    const hm = await findChild(db, caller, 'healthmonitor', request.params.id);
    const f = drop(monitorFields(bodyOf(request.body, 'healthmonitor')));
    checkHttpFields(hm.type, f);
    if ((f.timeout ?? hm.timeout) > (f.delay ?? hm.delay)) throw badRequest('Invalid input: timeout must be less than or equal to delay.');
    return { healthmonitor: monitorView(await updateChild(svc.store, caller, 'healthmonitor', request.params.id, f as Partial<MonitorRow>)) };
  });
  api.delete<Id>('/lbaas/healthmonitors/:id', write, async (request, reply) => {
    await deleteChild(svc.store, callerOf(request), 'healthmonitor', request.params.id);
    return reply.status(204).send();
  });
}
