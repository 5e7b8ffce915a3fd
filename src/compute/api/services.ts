import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import {
  DEFAULT_ZONE,
  deleteService,
  findService,
  getService,
  hostZones,
  INTERNAL_ZONE,
  isUp,
  listServices,
  updateService,
  type Service,
  type ServiceChange,
} from '../services.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { naive } from './naive-time.ts';

const ListQuery = Type.Object({ binary: Type.Optional(Type.String()), host: Type.Optional(Type.String()) });
const ById = Type.Object({ id: Type.String() });
const ByAction = Type.Object({ action: Type.String() });
// The body's shape depends on the microversion (host and binary before 2.53), so it is checked in the handler.
const Body = Type.Object({
  host: Type.Optional(Type.String()),
  binary: Type.Optional(Type.String()),
  status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
  disabled_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  forced_down: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
});

const TRUE = ['true', '1', 't', 'yes', 'y', 'on'];
const FALSE = ['false', '0', 'f', 'no', 'n', 'off'];
function boolOf(v: boolean | string): boolean {
  if (typeof v === 'boolean') return v;
  if (TRUE.includes(v.toLowerCase())) return true;
  if (FALSE.includes(v.toLowerCase())) return false;
  throw badRequest(`Invalid input for field/attribute forced_down. Value: ${v}.`);
}

/** A service as os-services shows it: up while its heartbeat is fresh and an admin has not forced it down. */
export function serviceView(s: Service & { zone: string }, v: Microversion) {
  return {
    id: v.atLeast('2.53') ? s.uuid : s.id,
    binary: s.binary,
    host: s.host,
    zone: s.zone,
    status: s.disabled ? 'disabled' : 'enabled',
    state: isUp(s) ? 'up' : 'down',
    // Nova's updated_at moves with each report, which is what tells an admin a service is alive.
    updated_at: naive(s.heartbeatAt > s.updatedAt ? s.heartbeatAt : s.updatedAt),
    disabled_reason: s.disabledReason,
    ...(v.atLeast('2.11') ? { forced_down: s.forcedDown } : {}),
  };
}

/** /os-services: list, enable/disable (with a reason), force down, delete. */
export function serviceRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const withZone = async (s: Service) => ({ ...s, zone: s.binary === 'nova-compute' ? ((await hostZones(db)).get(s.host) ?? DEFAULT_ZONE) : INTERNAL_ZONE });

  api.get('/os-services', { config: { policy: 'compute:os-services:list' }, schema: { querystring: ListQuery } }, async (request) => {
    const { binary, host } = request.query;
    const v = versionOf(request);
    const rows = (await listServices(db)).filter((s) => (binary === undefined || s.binary === binary) && (host === undefined || s.host === host));
    return { services: rows.map((s) => serviceView(s, v)) };
  });

  // Before 2.53: PUT /os-services/{enable,disable,disable-log-reason,force-down} naming host and binary.
  // From 2.53: PUT /os-services/{uuid} with the new status, reason and forced_down.
  api.put('/os-services/:action', { config: { policy: 'compute:os-services:update' }, schema: { params: ByAction, body: Body } }, async (request) => {
    const v = versionOf(request);
    if (v.atLeast('2.53')) {
      const b = request.body;
      const extra = Object.keys(b).find((k) => k === 'host' || k === 'binary');
      if (extra) throw badRequest(`Invalid input for field/attribute body. Additional properties are not allowed ('${extra}' was unexpected)`);
      if (b.disabled_reason !== undefined && b.status !== 'disabled')
        throw badRequest('Specifying a disabled reason is only allowed when the status is disabled.');
      if (b.status === undefined && b.forced_down === undefined)
        throw badRequest("At least one of 'status' or 'forced_down' must be specified in the request body.");
      const s = await getService(db, request.params.action, true);
      const change: ServiceChange = {};
      if (b.status !== undefined)
        Object.assign(change, { disabled: b.status === 'disabled', disabledReason: b.status === 'disabled' ? (b.disabled_reason ?? null) : null });
      if (b.forced_down !== undefined) change.forcedDown = boolOf(b.forced_down);
      return { service: serviceView(await withZone(await updateService(db, s, change)), v) };
    }
    const b = request.body;
    if (b.host === undefined || b.binary === undefined) throw badRequest("Invalid input for field/attribute body: 'host' and 'binary' are required.");
    const action = request.params.action;
    const s = await findService(db, b.host, b.binary);
    const head = { host: s.host, binary: s.binary };
    switch (action) {
      case 'enable':
        await updateService(db, s, { disabled: false, disabledReason: null });
        return { service: { ...head, status: 'enabled' } };
      case 'disable':
        await updateService(db, s, { disabled: true, disabledReason: null });
        return { service: { ...head, status: 'disabled' } };
      case 'disable-log-reason': {
        if (!b.disabled_reason) throw badRequest('Missing disabled reason field');
        await updateService(db, s, { disabled: true, disabledReason: b.disabled_reason });
        return { service: { ...head, status: 'disabled', disabled_reason: b.disabled_reason } };
      }
      case 'force-down': {
        if (v.below('2.11')) break;
        if (b.forced_down === undefined) throw badRequest('Missing forced_down field');
        const forced = boolOf(b.forced_down);
        await updateService(db, s, { forcedDown: forced });
        return { service: { ...head, forced_down: forced } };
      }
    }
    throw badRequest(`Unknown action ${action}`);
  });

  api.delete('/os-services/:id', { config: { policy: 'compute:os-services:delete' }, schema: { params: ById } }, async (request, reply) => {
    const v = versionOf(request);
    await store.tx(async (tx) => deleteService(tx, await getService(tx, request.params.id, v.atLeast('2.53'))));
    return reply.status(204).send();
  });
}
