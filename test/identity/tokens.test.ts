import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshPostgres, startTestCloud, type TestCloud } from '../helpers/cloud.ts';

// The same behaviour on the embedded store and on a PostgreSQL server.
for (const backend of ['pglite', 'postgres'] as const) describe(`identity on ${backend}`, () => {
let c: TestCloud;
let admin: string;
let dropDb: (() => Promise<void>) | undefined;
before(async () => {
  const pg = backend === 'postgres' ? await freshPostgres() : undefined;
  dropDb = pg?.drop;
  c = await startTestCloud({ database: pg?.url });
  admin = await c.adminToken();
});
after(async () => {
  await c?.stop();
  await dropDb?.();
});

const passwordAuth = (name: string, password: string, scope?: unknown) => ({
  auth: { identity: { methods: ['password'], password: { user: { name, domain: { name: 'Default' }, password } } }, ...(scope ? { scope } : {}) },
});

async function makeUser(name: string, password: string, project: string, role = 'member') {
  const p = await c.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: project } } });
  assert.equal(p.status, 201);
  const u = await c.request('POST', '/identity/v3/users', { token: admin, body: { user: { name, password, default_project_id: p.body.project.id } } });
  assert.equal(u.status, 201);
  const roles = await c.request('GET', `/identity/v3/roles?name=${role}`, { token: admin });
  const g = await c.request('PUT', `/identity/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${roles.body.roles[0].id}`, { token: admin });
  assert.equal(g.status, 204);
  return { projectId: p.body.project.id as string, userId: u.body.user.id as string };
}

test('a scoped token carries the user, project, implied roles and the catalog', async () => {
  const res = await c.request('POST', '/identity/v3/auth/tokens', { body: passwordAuth('admin', c.cloud.credentials!.password, { project: { name: 'admin', domain: { id: 'default' } } }) });
  assert.equal(res.status, 201);
  const t = res.body.token;
  assert.equal(t.user.name, 'admin');
  assert.equal(t.project.name, 'admin');
  assert.deepEqual(t.roles.map((r: { name: string }) => r.name), ['admin', 'member', 'reader']);
  assert.ok(t.catalog.some((s: { type: string }) => s.type === 'identity'));
  assert.ok(new Date(t.expires_at).getTime() > Date.now());
  assert.ok(res.headers.get('x-openstack-request-id')?.startsWith('req-'));
});

test('unscoped, domain-scoped and default-project tokens', async () => {
  await makeUser('scopes', 'pw-scopes', 'scopes-project');
  const unscoped = await c.request('POST', '/identity/v3/auth/tokens', { body: { auth: { ...passwordAuth('scopes', 'pw-scopes').auth, scope: 'unscoped' } } });
  assert.equal(unscoped.status, 201);
  assert.equal(unscoped.body.token.project, undefined);
  assert.equal(unscoped.body.token.roles, undefined);
  const byDefault = await c.request('POST', '/identity/v3/auth/tokens', { body: passwordAuth('scopes', 'pw-scopes') });
  assert.equal(byDefault.body.token.project.name, 'scopes-project');
  const domain = await c.request('POST', '/identity/v3/auth/tokens', { body: passwordAuth('scopes', 'pw-scopes', { domain: { id: 'default' } }) });
  assert.equal(domain.status, 401, 'no role on the domain');
});

test('wrong password, unknown user and a project without a role are all 401 in Keystone format', async () => {
  for (const body of [
    passwordAuth('admin', 'wrong'),
    passwordAuth('nobody', 'x'),
    passwordAuth('admin', c.cloud.credentials!.password, { project: { name: 'missing', domain: { id: 'default' } } }),
  ]) {
    const res = await c.request('POST', '/identity/v3/auth/tokens', { body });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 401);
    assert.equal(res.body.error.title, 'Unauthorized');
  }
});

test('validate, revoke, and a revoked token is refused everywhere', async () => {
  const token = await c.adminToken();
  const check = await c.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } });
  assert.equal(check.status, 200);
  assert.equal(check.headers.get('x-subject-token'), token);
  assert.equal((await c.request('HEAD', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } })).status, 200);
  assert.equal((await c.request('DELETE', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } })).status, 204);
  assert.equal((await c.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } })).status, 404);
  assert.equal((await c.request('GET', '/identity/v3/projects', { token })).status, 401);
  assert.equal((await c.request('GET', '/identity/v3/projects', { token: admin })).status, 200, 'other tokens live on');
});

test('a tampered or garbage token is 401', async () => {
  const flipped = admin.slice(0, 40) + (admin[40] === 'A' ? 'B' : 'A') + admin.slice(41);
  for (const token of [flipped, 'garbage', 'x'.repeat(5000)]) {
    assert.equal((await c.request('GET', '/identity/v3/auth/catalog', { token })).status, 401);
  }
});

test('a token expires', async () => {
  const short = await startTestCloud({ tokenTtl: 1 });
  try {
    const token = await short.adminToken();
    assert.equal((await short.request('GET', '/identity/v3/auth/catalog', { token })).status, 200);
    await sleep(1100);
    const res = await short.request('GET', '/identity/v3/auth/catalog', { token });
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /expired/);
  } finally {
    await short.stop();
  }
});

test('rescoping a token keeps its expiry and chains its audit ids', async () => {
  const { projectId } = await makeUser('rescope', 'pw-r', 'rescope-project');
  const first = await c.request('POST', '/identity/v3/auth/tokens', { body: { auth: { ...passwordAuth('rescope', 'pw-r').auth, scope: 'unscoped' } } });
  const firstToken = first.headers.get('x-subject-token')!;
  const second = await c.request('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['token'], token: { id: firstToken } }, scope: { project: { id: projectId } } } },
  });
  assert.equal(second.status, 201);
  assert.equal(second.body.token.project.id, projectId);
  assert.equal(second.body.token.expires_at, first.body.token.expires_at);
  assert.deepEqual(second.body.token.audit_ids.slice(1), first.body.token.audit_ids);
  // Revoking the first token revokes the one rescoped from it.
  await c.request('DELETE', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': firstToken } });
  assert.equal((await c.request('GET', '/identity/v3/auth/catalog', { token: second.headers.get('x-subject-token')! })).status, 401);
});

test('a password change or a disabled user ends the sessions', async () => {
  const { userId } = await makeUser('changer', 'old-pw', 'changer-project');
  const token = await c.login('changer', 'old-pw', 'changer-project');
  const wrong = await c.request('POST', `/identity/v3/users/${userId}/password`, { token, body: { user: { password: 'new-pw', original_password: 'bad' } } });
  assert.equal(wrong.status, 401);
  const ok = await c.request('POST', `/identity/v3/users/${userId}/password`, { token, body: { user: { password: 'new-pw', original_password: 'old-pw' } } });
  assert.equal(ok.status, 204);
  assert.equal((await c.request('GET', '/identity/v3/auth/catalog', { token })).status, 401);
  const fresh = await c.login('changer', 'new-pw', 'changer-project');
  await c.request('PATCH', `/identity/v3/users/${userId}`, { token: admin, body: { user: { enabled: false } } });
  assert.equal((await c.request('GET', '/identity/v3/auth/catalog', { token: fresh })).status, 401);
});

test('application credentials: created with a subset of roles, used to authenticate, deleted', async () => {
  const { userId, projectId } = await makeUser('appuser', 'pw-app', 'app-project');
  const token = await c.login('appuser', 'pw-app', 'app-project');
  const created = await c.request('POST', `/identity/v3/users/${userId}/application_credentials`, {
    token,
    body: { application_credential: { name: 'ci', roles: [{ name: 'reader' }] } },
  });
  assert.equal(created.status, 201);
  const { id, secret } = created.body.application_credential;
  assert.ok(secret.length >= 32);
  const tooMuch = await c.request('POST', `/identity/v3/users/${userId}/application_credentials`, {
    token,
    body: { application_credential: { name: 'greedy', roles: [{ name: 'admin' }] } },
  });
  assert.equal(tooMuch.status, 403);

  const auth = await c.request('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } } },
  });
  assert.equal(auth.status, 201);
  assert.equal(auth.body.token.project.id, projectId);
  assert.deepEqual(auth.body.token.roles.map((r: { name: string }) => r.name), ['reader']);
  const bad = await c.request('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret: 'wrong' } } } },
  });
  assert.equal(bad.status, 401);

  const listed = await c.request('GET', `/identity/v3/users/${userId}/application_credentials`, { token });
  assert.deepEqual(listed.body.application_credentials.map((a: { name: string }) => a.name), ['ci']);
  assert.equal(listed.body.application_credentials[0].secret, undefined, 'the secret is shown once');
  assert.equal((await c.request('DELETE', `/identity/v3/users/${userId}/application_credentials/${id}`, { token })).status, 204);
  assert.equal((await c.request('GET', '/identity/v3/auth/catalog', { token: auth.headers.get('x-subject-token')! })).status, 401);
});

test('a member sees itself and its project, not the others', async () => {
  const { userId, projectId } = await makeUser('member1', 'pw-m', 'member-project');
  const token = await c.login('member1', 'pw-m', 'member-project');
  assert.equal((await c.request('GET', `/identity/v3/users/${userId}`, { token })).status, 200);
  assert.equal((await c.request('GET', `/identity/v3/projects/${projectId}`, { token })).status, 200);
  const adminUser = (await c.request('GET', '/identity/v3/users?name=admin', { token: admin })).body.users[0];
  for (const [method, path] of [
    ['GET', `/identity/v3/users/${adminUser.id}`],
    ['GET', '/identity/v3/projects'],
    ['POST', '/identity/v3/projects'],
    ['GET', '/identity/v3/role_assignments'],
    ['DELETE', `/identity/v3/projects/${projectId}`],
  ] as const) {
    const res = await c.request(method, path, { token, body: method === 'POST' ? { project: { name: 'x' } } : undefined });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal(res.body.error.code, 403);
  }
});
});
