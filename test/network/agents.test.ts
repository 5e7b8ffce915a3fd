import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { AgentSchema, AvailabilityZoneSchema } from '../../src/network/api/agents.ts';
import { assertSchema } from '../helpers/schema.ts';

// The network agents a running cloud reports over HTTP, and the availability zones they serve.
let c: TestCloud;
let admin: string;
before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
});
after(() => c?.stop());

const get = (token: string, path: string) => c.request('GET', `/networking/v2.0${path}`, { token });

test('the running service reports its host’s agents, alive, to the admin only', async () => {
  const list = await get(admin, '/agents');
  assert.equal(list.status, 200);
  assertSchema(Type.Object({ agents: Type.Array(AgentSchema) }, { additionalProperties: false }), list.body);
  assert.deepEqual(list.body.agents.map((a: any) => a.agent_type).sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  assert.ok(list.body.agents.every((a: any) => a.alive && a.host === list.body.agents[0].host));
  const one = await get(admin, `/agents/${list.body.agents[0].id}`);
  assertSchema(Type.Object({ agent: AgentSchema }, { additionalProperties: false }), one.body);
  assert.equal((await get(admin, '/agents/nope')).status, 404);
  const unchanged = await c.request('PUT', `/networking/v2.0/agents/${list.body.agents[0].id}`, { token: admin, body: { agent: {} } });
  assert.equal(unchanged.status, 200, JSON.stringify(unchanged.body));
  const zones = await get(admin, '/availability_zones');
  assertSchema(Type.Object({ availability_zones: Type.Array(AvailabilityZoneSchema) }, { additionalProperties: false }), zones.body);
  const member = (await makeProject(c, admin, 'agents')).token;
  assert.equal((await get(member, '/agents')).status, 403);
  assert.equal((await get(member, '/availability_zones')).status, 200);
  const aliases = (await get(admin, '/extensions')).body.extensions.map((e: any) => e.alias);
  for (const alias of ['agent', 'availability_zone', 'rbac-policies', 'subnet_allocation', 'address-scope', 'default-subnetpools'])
    assert.ok(aliases.includes(alias), alias);
});
