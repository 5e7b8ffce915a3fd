import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { callerOf } from '../../telemetry/api/views.ts';
import { createAlarm, deleteAlarm, findAlarm, historyOf, listAlarms, setState, updateAlarm } from '../alarms.ts';
import { complexQuery, readSort, simpleQuery } from '../query.ts';
import { alarmView, historyView } from '../views.ts';

type Query = Record<string, string | string[] | undefined>;
type ById = { Params: { id: string }; Querystring: Query; Body: unknown };

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.at(-1) : v);

function limitOf(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`limit must be a positive integer, not ${JSON.stringify(v)}`);
  return n;
}

export function alarmRoutes(api: FastifyInstance, store: Store): void {
  const { db } = store;
  api.get<{ Querystring: Query }>('/alarms', { config: { policy: 'alarming:get alarms' } }, async (request) => {
    const q = request.query;
    const rows = await listAlarms(db, callerOf(request), { filter: simpleQuery(q), limit: limitOf(one(q.limit)), marker: one(q.marker), sort: readSort(q.sort) });
    return rows.map(alarmView);
  });
  api.post<{ Body: unknown }>('/alarms', { config: { policy: 'alarming:create alarm' } }, async (request, reply) => {
    const a = await store.tx((tx) => createAlarm(tx, callerOf(request), request.body, alarmView));
    return reply.status(201).send(alarmView(a));
  });
  api.post<{ Body: unknown }>('/query/alarms', { config: { policy: 'alarming:query alarms' } }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a query object');
    const rows = await listAlarms(db, callerOf(request), { filter: complexQuery(body.filter), limit: limitOf(body.limit) });
    return rows.map(alarmView);
  });
  api.get<ById>('/alarms/:id', { config: { policy: 'alarming:get alarm' } }, async (request) => alarmView(await findAlarm(db, callerOf(request), request.params.id)));
  api.put<ById>('/alarms/:id', { config: { policy: 'alarming:change alarm' } }, async (request) =>
    alarmView(await store.tx((tx) => updateAlarm(tx, callerOf(request), request.params.id, request.body))),
  );
  api.delete<ById>('/alarms/:id', { config: { policy: 'alarming:delete alarm' } }, async (request, reply) => {
    await store.tx((tx) => deleteAlarm(tx, callerOf(request), request.params.id));
    return reply.status(204).send();
  });
  api.get<ById>('/alarms/:id/state', { config: { policy: 'alarming:get alarm state' } }, async (request, reply) =>
    reply.type('application/json').send(JSON.stringify((await findAlarm(db, callerOf(request), request.params.id)).state)),
  );
  api.put<ById>('/alarms/:id/state', { config: { policy: 'alarming:change alarm state' } }, async (request, reply) => {
    const a = await store.tx((tx) => setState(tx, callerOf(request), request.params.id, request.body));
    return reply.type('application/json').send(JSON.stringify(a.state));
  });
  api.get<ById>('/alarms/:id/history', { config: { policy: 'alarming:alarm history' } }, async (request) => {
    const sort = one(request.query.sort);
    if (sort !== undefined && sort !== 'timestamp:asc' && sort !== 'timestamp:desc') throw badRequest('History sorts by timestamp:asc or timestamp:desc');
    const rows = await historyOf(db, callerOf(request), request.params.id, { limit: limitOf(one(request.query.limit)), ascending: sort === 'timestamp:asc' });
    return rows.map(historyView);
  });
}
