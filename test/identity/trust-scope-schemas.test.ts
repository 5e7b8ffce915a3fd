import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema, bool, nullable, obj, str, uri } from '../helpers/schema.ts';

// Trusts, the trust-scoped and domain-scoped tokens, system scope discovery and grants, and a user's own password
// change, each answer checked against the shape Keystone's api-ref documents.
let c: TestCloud;
let admin: string;
let project: { id: string };
let alice: { id: string };
let bob: { id: string };
let member: { id: string };
const V3 = '/identity/v3';

async function ok(method: string, path: string, token: string | undefined, body?: unknown, status = method === 'POST' ? 201 : 200) {
  const res = await c.request(method, V3 + path, { token, body });
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res;
}

before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  project = (await ok('POST', '/projects', admin, { project: { name: 'trusted' } })).body.project;
  alice = (await ok('POST', '/users', admin, { user: { name: 'alice', password: 'alice-pw-1' } })).body.user;
  bob = (await ok('POST', '/users', admin, { user: { name: 'bob', password: 'bob-pw-1' } })).body.user;
  member = (await ok('GET', '/roles?name=member', admin)).body.roles[0];
  await ok('PUT', `/projects/${project.id}/users/${alice.id}/roles/${member.id}`, admin, undefined, 204);
});
after(() => c?.stop());

// The api-ref's shapes, written as JSON schemas.
const time = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$' };
const self = obj({ self: uri });
const collectionLinks = obj({ self: uri, previous: nullable(str), next: nullable(str) });
const Role = obj({ id: str, name: str, domain_id: nullable(str), description: nullable(str), options: { type: 'object' }, links: self }, [
  'id',
  'name',
  'links',
]);
const trustFields = {
  id: str,
  trustor_user_id: str,
  trustee_user_id: str,
  project_id: nullable(str),
  impersonation: bool,
  expires_at: nullable(time),
  remaining_uses: nullable({ type: 'integer', minimum: 0 }),
  allow_redelegation: bool,
  redelegation_count: { type: 'integer', minimum: 0 },
  redelegated_trust_id: nullable(str),
  deleted_at: nullable(time),
  links: self,
};
const required = ['id', 'trustor_user_id', 'trustee_user_id', 'project_id', 'impersonation', 'expires_at', 'remaining_uses', 'links'];
const Trust = obj({ ...trustFields, roles: { type: 'array', items: Role }, roles_links: collectionLinks }, [...required, 'roles', 'roles_links']);
const TrustBody = obj({ trust: Trust });
const Trusts = obj({
  trusts: { type: 'array', items: obj({ ...trustFields, roles: { type: 'array', items: Role }, roles_links: collectionLinks }, required) },
  links: collectionLinks,
});
const domainRef = obj({ id: str, name: str });
const TrustToken = obj({
  token: obj(
    {
      methods: { type: 'array', items: str, minItems: 1 },
      user: obj({ id: str, name: str, domain: domainRef, password_expires_at: nullable(time) }, ['id', 'name', 'domain']),
      audit_ids: { type: 'array', items: str, minItems: 1, maxItems: 2 },
      expires_at: time,
      issued_at: time,
      project: obj({ id: str, name: str, domain: domainRef }),
      is_domain: bool,
      roles: { type: 'array', items: obj({ id: str, name: str }), minItems: 1 },
      catalog: { type: 'array' },
      'OS-TRUST:trust': obj({ id: str, impersonation: bool, trustee_user: obj({ id: str }), trustor_user: obj({ id: str }) }),
    },
    ['methods', 'user', 'audit_ids', 'expires_at', 'issued_at', 'project', 'roles', 'OS-TRUST:trust'],
  ),
});
const AuthSystem = obj({ system: { type: 'array', items: obj({ all: { const: true } }), maxItems: 1 }, links: self });
const DomainToken = obj({
  token: obj(
    {
      methods: { type: 'array', items: str, minItems: 1 },
      user: obj({ id: str, name: str, domain: domainRef, password_expires_at: nullable(time) }, ['id', 'name', 'domain']),
      audit_ids: { type: 'array', items: str, minItems: 1, maxItems: 2 },
      expires_at: time,
      issued_at: time,
      domain: domainRef,
      roles: { type: 'array', items: obj({ id: str, name: str }), minItems: 1 },
      catalog: { type: 'array' },
    },
    ['methods', 'user', 'audit_ids', 'expires_at', 'issued_at', 'domain', 'roles'],
  ),
});
const SystemRoles = obj({ roles: { type: 'array', items: Role }, links: collectionLinks });

test('a trust as created, shown and listed, and the trust-scoped token it gives', async () => {
  const aliceToken = await c.login('alice', 'alice-pw-1', 'trusted');
  const created = await ok('POST', '/OS-TRUST/trusts', aliceToken, {
    trust: { trustor_user_id: alice.id, trustee_user_id: bob.id, project_id: project.id, impersonation: false, roles: [{ name: 'member' }], remaining_uses: 3 },
  });
  assertSchema(TrustBody, created.body, 'POST /v3/OS-TRUST/trusts');
  const trust = created.body.trust;
  assert.equal(trust.remaining_uses, 3);
  assert.deepEqual(
    trust.roles.map((r: { id: string }) => r.id),
    [member.id],
  );
  assertSchema(TrustBody, (await ok('GET', `/OS-TRUST/trusts/${trust.id}`, aliceToken)).body, 'GET /v3/OS-TRUST/trusts/{id}');
  assertSchema(SystemRoles, (await ok('GET', `/OS-TRUST/trusts/${trust.id}/roles`, aliceToken)).body, 'GET /v3/OS-TRUST/trusts/{id}/roles');
  assertSchema(
    obj({ role: Role }),
    (await ok('GET', `/OS-TRUST/trusts/${trust.id}/roles/${member.id}`, aliceToken)).body,
    'GET /v3/OS-TRUST/trusts/{id}/roles/{r}',
  );
  const listed = (await ok('GET', `/OS-TRUST/trusts?trustor_user_id=${alice.id}`, aliceToken)).body;
  assertSchema(Trusts, listed, 'GET /v3/OS-TRUST/trusts');
  assert.deepEqual(
    listed.trusts.map((t: { id: string }) => t.id),
    [trust.id],
  );

  const bobToken = (
    await ok('POST', '/auth/tokens', undefined, { auth: { identity: { methods: ['password'], password: { user: { id: bob.id, password: 'bob-pw-1' } } } } })
  ).headers.get('x-subject-token')!;
  const scoped = await ok('POST', '/auth/tokens', undefined, {
    auth: { identity: { methods: ['token'], token: { id: bobToken } }, scope: { 'OS-TRUST:trust': { id: trust.id } } },
  });
  assertSchema(TrustToken, scoped.body, 'POST /v3/auth/tokens (trust scope)');
  assert.equal(scoped.body.token.user.id, bob.id);
  assert.equal(scoped.body.token['OS-TRUST:trust'].trustor_user.id, alice.id);
  const trustToken = scoped.headers.get('x-subject-token')!;
  const validated = await c.request('GET', `${V3}/auth/tokens?nocatalog`, { token: trustToken, headers: { 'x-subject-token': trustToken } });
  assert.equal(validated.status, 200);
  assertSchema(TrustToken, validated.body, 'GET /v3/auth/tokens (trust scope)');
});

test('system scope discovery, a domain-scoped token and system grants', async () => {
  assertSchema(AuthSystem, (await ok('GET', '/auth/system', admin)).body, 'GET /v3/auth/system (admin)');
  const aliceToken = await c.login('alice', 'alice-pw-1', 'trusted');
  const none = (await ok('GET', '/auth/system', aliceToken)).body;
  assertSchema(AuthSystem, none, 'GET /v3/auth/system (no grant)');
  await ok('PUT', `/domains/default/users/${alice.id}/roles/${member.id}`, admin, undefined, 204);
  const domainScoped = await ok('POST', '/auth/tokens', undefined, {
    auth: { identity: { methods: ['password'], password: { user: { id: alice.id, password: 'alice-pw-1' } } }, scope: { domain: { id: 'default' } } },
  });
  assertSchema(DomainToken, domainScoped.body, 'POST /v3/auth/tokens (domain scope)');
  assert.deepEqual(none.system, []);
  const adminId = (await ok('GET', '/users?name=admin', admin)).body.users[0].id;
  const roles = (await ok('GET', `/system/users/${adminId}/roles`, admin)).body;
  assertSchema(SystemRoles, roles, 'GET /v3/system/users/{u}/roles');
  assert.ok(roles.roles.some((r: { name: string }) => r.name === 'admin'));
});

test("a user's own password change answers 204 with no body", async () => {
  const res = await c.request('POST', `${V3}/users/${bob.id}/password`, { body: { user: { original_password: 'bob-pw-1', password: 'bob-pw-2' } } });
  assert.equal(res.status, 204);
  assert.equal(res.body, undefined);
  assert.equal(res.headers.get('content-length') ?? '0', '0');
  const wrong = await c.request('POST', `${V3}/users/${bob.id}/password`, { body: { user: { original_password: 'bob-pw-1', password: 'bob-pw-3' } } });
  assert.equal(wrong.status, 401);
  assertSchema(obj({ error: obj({ code: { const: 401 }, title: str, message: str }) }), wrong.body, 'POST /v3/users/{u}/password (wrong original)');
});
