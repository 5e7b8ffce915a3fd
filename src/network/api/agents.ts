import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { NetworkApi } from '../index.ts';
import { deleteAgent, getAgent, isAlive, listAgents, updateAgent, zoneOf, ZONE, type AgentRow } from '../agents.ts';
import { listResponse, showResponse } from './listing.ts';

/** Neutron's agent timestamps: UTC, a space between date and time, no zone. */
const when = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

export const agentView = (a: AgentRow) => ({
  id: a.id,
  agent_type: a.agentType,
  binary: a.binary,
  topic: a.topic,
  host: a.host,
  admin_state_up: a.adminStateUp,
  alive: isAlive(a),
  availability_zone: zoneOf(a),
  configurations: a.configurations,
  description: a.description,
  created_at: when(a.createdAt),
  started_at: when(a.startedAt),
  heartbeat_timestamp: when(a.heartbeatAt),
  resources_synced: null,
});

/** What the api-ref documents of an agent, for the tests to hold every answer to. */
export const AgentSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    agent_type: Type.String(),
    binary: Type.String(),
    topic: Type.String(),
    host: Type.String(),
    admin_state_up: Type.Boolean(),
    alive: Type.Boolean(),
    availability_zone: Type.Union([Type.String(), Type.Null()]),
    configurations: Type.Record(Type.String(), Type.Unknown()),
    description: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$' }),
    started_at: Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$' }),
    heartbeat_timestamp: Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$' }),
    resources_synced: Type.Union([Type.Boolean(), Type.Null()]),
  },
  { additionalProperties: false },
);

export const AvailabilityZoneSchema = Type.Object(
  {
    name: Type.String(),
    resource: Type.Union([Type.Literal('network'), Type.Literal('router')]),
    state: Type.Union([Type.Literal('available'), Type.Literal('unavailable')]),
  },
  { additionalProperties: false },
);

const ById = Type.Object({ agent_id: Type.String() });
const UpdateBody = Type.Object({
  agent: Type.Object(
    { admin_state_up: Type.Optional(Type.Boolean()), description: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])) },
    { additionalProperties: false },
  ),
});

export function agentRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;

  api.get('/agents', { config: { policy: 'network:get_agent' } }, async (request) =>
    listResponse(request, 'agents', (await listAgents(store.db)).map(agentView)),
  );
  api.get('/agents/:agent_id', { config: { policy: 'network:get_agent' }, schema: { params: ById } }, async (request) =>
    showResponse(request, 'agent', agentView(await getAgent(store.db, request.params.agent_id))),
  );
  api.put('/agents/:agent_id', { config: { policy: 'network:update_agent' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const b = request.body.agent;
    return {
      agent: agentView(await store.tx((tx) => updateAgent(tx, request.params.agent_id, { adminStateUp: b.admin_state_up, description: b.description }))),
    };
  });
  api.delete('/agents/:agent_id', { config: { policy: 'network:delete_agent' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteAgent(tx, request.params.agent_id));
    return reply.status(204).send();
  });

  // A zone is available for networks (routers) while an alive, enabled DHCP (L3) agent serves it.
  api.get('/availability_zones', { config: { policy: 'network:get_availability_zone' } }, async (request) => {
    const rows = await listAgents(store.db);
    const zones = (['network', 'router'] as const).map((resource) => {
      const type = resource === 'network' ? 'DHCP agent' : 'L3 agent';
      const serving = rows.filter((a) => a.agentType === type && zoneOf(a) === ZONE);
      return { name: ZONE, resource, state: serving.some((a) => a.adminStateUp && isAlive(a)) ? 'available' : 'unavailable' };
    });
    return listResponse(request, 'availability_zones', zones);
  });
}
