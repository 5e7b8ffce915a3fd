import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { inArray } from 'drizzle-orm';
import { badRequest, notFound } from '../../lib/errors.ts';
import { notify, type Store } from '../../lib/store/db.ts';
import { SERVERS_CHANNEL } from '../servers.ts';
import { servers } from '../tables.ts';
import { versionOf, type Microversion } from './microversion.ts';

/** The event names each microversion takes. */
const NAMES: [string, string][] = [
  ['network-changed', '2.1'],
  ['network-vif-plugged', '2.1'],
  ['network-vif-unplugged', '2.1'],
  ['network-vif-deleted', '2.1'],
  ['volume-extended', '2.51'],
  ['power-update', '2.76'],
  ['accelerator-request-bound', '2.82'],
  ['volume-reimaged', '2.93'],
];
const namesAt = (v: Microversion) => NAMES.filter(([, since]) => v.atLeast(since)).map(([name]) => name);

const Status = Type.Union([Type.Literal('completed'), Type.Literal('failed'), Type.Literal('in-progress')]);
const Body = Type.Object(
  {
    events: Type.Array(
      Type.Object(
        { name: Type.String(), server_uuid: Type.String(), status: Type.Optional(Status), tag: Type.Optional(Type.String({ maxLength: 255 })) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

/**
 * /os-server-external-events: what Neutron and Cinder tell Nova about a server. Each event is
 * answered on its own (200, 404 for an unknown server, 422 for one on no host yet, 400 for a
 * power-update without POWER_ON or POWER_OFF); the whole is 200 when all were accepted, 207 when
 * some were not, 404 when none was. An accepted event wakes the server's agent, which re-reads
 * the server, its ports and volumes.
 */
export function externalEventRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/os-server-external-events', { config: { policy: 'compute:os-server-external-events:create' }, schema: { body: Body } }, async (request, reply) => {
    const names = namesAt(versionOf(request));
    const { events } = request.body;
    for (const e of events)
      if (!names.includes(e.name))
        throw badRequest(`Invalid input for field/attribute name. Value: ${e.name}. '${e.name}' is not one of ${JSON.stringify(names)}`);
    const answered = await store.tx(async (tx) => {
      const ids = [...new Set(events.map((e) => e.server_uuid))];
      const rows = await tx.select({ id: servers.id, host: servers.host }).from(servers).where(inArray(servers.id, ids));
      const hostOf = new Map(rows.map((r) => [r.id, r.host]));
      const out = events.map((e) => {
        // A power-update names the new power state in its tag.
        const bad = e.name === 'power-update' && e.tag !== 'POWER_ON' && e.tag !== 'POWER_OFF';
        const code = !hostOf.has(e.server_uuid) ? 404 : bad ? 400 : hostOf.get(e.server_uuid) === null ? 422 : 200;
        return { ...e, status: code === 200 ? (e.status ?? 'completed') : 'failed', code };
      });
      for (const id of new Set(out.filter((e) => e.code === 200).map((e) => e.server_uuid))) await notify(tx, SERVERS_CHANNEL, id);
      return out;
    });
    if (answered.every((e) => e.code !== 200)) throw notFound('No instances found for any event');
    return reply.status(answered.every((e) => e.code === 200) ? 200 : 207).send({ events: answered });
  });
}
