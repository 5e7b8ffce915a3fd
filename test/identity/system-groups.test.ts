import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cliAs, cliFails, nubo as nuboCli, spawnNubo, type SpawnedNubo } from '../helpers/cloud.ts';
import { assertSchema, obj, str, uri } from '../helpers/schema.ts';

// System role grants to groups and system assignments in /v3/role_assignments, through the real
// openstack CLI and nubo's own.
let nubo: SpawnedNubo;
let erin: { id: string };
let ops: { id: string };
before(async () => {
  nubo = await spawnNubo();
  const admin = cliAs(() => nubo.env);
  erin = JSON.parse(await admin('user', 'create', '--password', 'erin-pw', 'erin', '-f', 'json'));
  ops = JSON.parse(await admin('group', 'create', 'ops', '-f', 'json'));
  await admin('group', 'add', 'user', 'ops', 'erin');
});
after(async () => {
  await nubo?.stop();
});

const erinSystem = () => {
  const { OS_PROJECT_NAME: _, OS_PROJECT_DOMAIN_NAME: __, ...rest } = nubo.env;
  return { ...rest, OS_USERNAME: 'erin', OS_PASSWORD: 'erin-pw', OS_SYSTEM_SCOPE: 'all' };
};

async function call(method: string, path: string, token: string, subject?: string) {
  const headers: Record<string, string> = { accept: 'application/json', 'x-auth-token': token, ...(subject ? { 'x-subject-token': subject } : {}) };
  const res = await fetch(nubo.url + path, { method, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

// The api-ref's role assignment, in its system-scoped form.
const named = obj({ id: str, name: str, domain: obj({ id: str, name: str }, ['id']) }, ['id']);
const SystemAssignments = obj({
  role_assignments: {
    type: 'array',
    items: {
      ...obj(
        {
          role: obj({ id: str, name: str }, ['id']),
          user: named,
          group: named,
          scope: obj({ system: obj({ all: { const: true } }) }),
          links: obj({ assignment: uri, membership: uri }, ['assignment']),
        },
        ['role', 'scope', 'links'],
      ),
      oneOf: [{ required: ['user'] }, { required: ['group'] }],
    },
  },
  links: obj({ self: uri, previous: { type: ['string', 'null'] }, next: { type: ['string', 'null'] } }),
});

test("a group's system role gives its members a system-scoped token, until it is removed", async () => {
  const admin = cliAs(() => nubo.env);
  const adminToken = JSON.parse(await admin('token', 'issue', '-f', 'json')).id as string;
  assert.match(await cliFails(erinSystem(), 'token', 'issue'), /HTTP 401/);

  await admin('role', 'add', '--system', 'all', '--group', 'ops', 'reader');
  const reader = JSON.parse(await admin('role', 'show', 'reader', '-f', 'json'));
  const granted = await call('GET', `/identity/v3/system/groups/${ops.id}/roles`, adminToken);
  assert.deepEqual(
    granted.body.roles.map((r: { id: string }) => r.id),
    [reader.id],
  );
  assert.equal((await call('HEAD', `/identity/v3/system/groups/${ops.id}/roles/${reader.id}`, adminToken)).status, 204);

  const token = JSON.parse(await cliAs(erinSystem)('token', 'issue', '-f', 'json')).id as string;
  const body = (await call('GET', '/identity/v3/auth/tokens?nocatalog', token, token)).body.token;
  assert.deepEqual(body.system, { all: true });
  assert.deepEqual(
    body.roles.map((r: { name: string }) => r.name),
    ['reader'],
  );
  assert.deepEqual((await call('GET', '/identity/v3/auth/system', token)).body.system, [{ all: true }]);

  // The listing, as the CLI asks for it and as the API answers it.
  const listed = JSON.parse(await admin('role', 'assignment', 'list', '--system', 'all', '--names', '-f', 'json')) as Record<string, unknown>[];
  assert.ok(listed.some((a) => a.Role === 'reader' && a.Group === 'ops@Default' && a.System === 'all'));
  assert.ok(listed.some((a) => a.Role === 'admin' && a.User === 'admin@Default' && a.System === 'all'));
  assert.ok(listed.every((a) => a.Project === '' && a.Domain === ''));
  const direct = await call('GET', `/identity/v3/role_assignments?scope.system=all&group.id=${ops.id}&include_names`, adminToken);
  assertSchema(SystemAssignments, direct.body, 'role_assignments?scope.system=all');
  assert.deepEqual(direct.body.role_assignments[0].links.assignment, `${nubo.url}/identity/v3/system/groups/${ops.id}/roles/${reader.id}`);
  const effective = await call('GET', `/identity/v3/role_assignments?scope.system=all&user.id=${erin.id}&effective`, adminToken);
  assertSchema(SystemAssignments, effective.body, 'role_assignments?scope.system=all&effective');
  assert.deepEqual(
    effective.body.role_assignments.map((a: { role: { id: string } }) => a.role.id),
    [reader.id],
  );
  assert.equal(effective.body.role_assignments[0].links.membership, `${nubo.url}/identity/v3/groups/${ops.id}/users/${erin.id}`);
  const onProjects = await call('GET', `/identity/v3/role_assignments?group.id=${ops.id}&scope.domain.id=default`, adminToken);
  assert.deepEqual(onProjects.body.role_assignments, []);
  assert.equal((await call('GET', '/identity/v3/role_assignments?scope.system=some', adminToken)).status, 400);

  // nubo's own CLI lists and removes it in openstack's grammar.
  const nuboList = cliAs(() => nubo.env, nuboCli);
  const mine = JSON.parse(await nuboList('role', 'assignment', 'list', '--system', 'all', '--group', 'ops', '--names', '-f', 'json'));
  assert.deepEqual(mine, [{ Role: 'reader', User: '', Group: 'ops@Default', Project: '', Domain: '', System: 'all', Inherited: false }]);
  await nuboList('role', 'remove', '--system', 'all', '--group', 'ops', 'reader');
  assert.equal((await call('HEAD', `/identity/v3/system/groups/${ops.id}/roles/${reader.id}`, adminToken)).status, 404);
  assert.match(await cliFails(erinSystem(), 'token', 'issue'), /HTTP 401/);
  await nuboList('role', 'add', '--system', 'all', '--user', 'erin', 'reader');
  assert.equal((await call('HEAD', `/identity/v3/system/users/${erin.id}/roles/${reader.id}`, adminToken)).status, 204);
});

test('system grants to groups are for administrators, and name groups that exist', async () => {
  const admin = cliAs(() => nubo.env);
  const adminToken = JSON.parse(await admin('token', 'issue', '-f', 'json')).id as string;
  const reader = JSON.parse(await admin('role', 'show', 'reader', '-f', 'json'));
  const erinToken = JSON.parse(await cliAs(erinSystem)('token', 'issue', '-f', 'json')).id as string;
  assert.equal((await call('PUT', `/identity/v3/system/groups/${ops.id}/roles/${reader.id}`, erinToken)).status, 403);
  assert.equal((await call('GET', `/identity/v3/system/groups/${ops.id}/roles`, erinToken)).status, 403);
  const missing = await call('PUT', `/identity/v3/system/groups/nope/roles/${reader.id}`, adminToken);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 404);
  assert.equal((await call('DELETE', `/identity/v3/system/groups/${ops.id}/roles/${reader.id}`, adminToken)).status, 404);
});
