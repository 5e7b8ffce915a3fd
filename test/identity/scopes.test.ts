import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cliAs, cliFails, openstack, spawnNubo, type SpawnedNubo } from '../helpers/cloud.ts';

// Domain- and system-scoped tokens, rescoping, and a user's own domain, through the real
// openstack CLI where it has the command.
let nubo: SpawnedNubo;
let dave: { id: string };
before(async () => {
  nubo = await spawnNubo();
  const admin = cliAs(() => nubo.env);
  await admin('project', 'create', 'daves');
  dave = JSON.parse(await admin('user', 'create', '--project', 'daves', '--password', 'dave-pw', 'dave', '-f', 'json'));
  await admin('role', 'add', '--project', 'daves', '--user', 'dave', 'member');
});
after(async () => {
  await nubo?.stop();
});

const daveEnv = () => ({ ...nubo.env, OS_USERNAME: 'dave', OS_PASSWORD: 'dave-pw', OS_PROJECT_NAME: 'daves' });
/** Without a project: the scope comes from the other variables given. */
const unprojected = (env: Record<string, string>) => {
  const { OS_PROJECT_NAME: _, OS_PROJECT_DOMAIN_NAME: __, ...rest } = env;
  return rest;
};

async function call(method: string, path: string, opts: { token?: string; subject?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers['x-auth-token'] = opts.token;
  if (opts.subject) headers['x-subject-token'] = opts.subject;
  if (opts.body) headers['content-type'] = 'application/json';
  const res = await fetch(nubo.url + path, { method, headers, body: opts.body ? JSON.stringify(opts.body) : undefined });
  const text = await res.text();
  return { status: res.status, token: res.headers.get('x-subject-token') ?? '', body: text ? JSON.parse(text) : undefined };
}

test('a domain-scoped token, by domain name, for a user with a role on the domain', async () => {
  const env = { ...unprojected(daveEnv()), OS_DOMAIN_NAME: 'Default' };
  assert.match(await cliFails(env, 'token', 'issue'), /HTTP 401/);
  await cliAs(() => nubo.env)('role', 'add', '--domain', 'default', '--user', 'dave', 'reader');
  const token = JSON.parse(await cliAs(() => env)('token', 'issue', '-f', 'json'));
  assert.equal(token.domain_id, 'default');
  const body = (await call('GET', '/identity/v3/auth/tokens?nocatalog', { token: token.id, subject: token.id })).body.token;
  assert.deepEqual(body.domain, { id: 'default', name: 'Default' });
  assert.deepEqual(
    body.roles.map((r: { name: string }) => r.name),
    ['reader'],
  );
  assert.equal(body.project, undefined);
  const domains = await call('GET', '/identity/v3/auth/domains', { token: token.id });
  assert.deepEqual(
    domains.body.domains.map((d: { id: string }) => d.id),
    ['default'],
  );
  // By id too.
  const byId = await call('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { id: dave.id, password: 'dave-pw' } } }, scope: { domain: { id: 'default' } } } },
  });
  assert.equal(byId.status, 201);
});

test('a user reads its own domain with a project-scoped token, and no other', async () => {
  const shown = JSON.parse(await cliAs(daveEnv)('domain', 'show', 'default', '-f', 'json'));
  assert.equal(shown.name, 'Default');
  await cliAs(() => nubo.env)('domain', 'create', 'elsewhere');
  const token = (
    await call('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { id: dave.id, password: 'dave-pw' } } } } },
    })
  ).token;
  const other = JSON.parse(await cliAs(() => nubo.env)('domain', 'show', 'elsewhere', '-f', 'json'));
  assert.equal((await call('GET', `/identity/v3/domains/${other.id}`, { token })).status, 403);
});

test('system scope: the admin has it from the bootstrap, others only once granted', async () => {
  const adminSystem = { ...unprojected(nubo.env), OS_SYSTEM_SCOPE: 'all' };
  const users = JSON.parse(await cliAs(() => adminSystem)('user', 'list', '-f', 'json')) as { Name: string }[];
  assert.ok(users.some((u) => u.Name === 'dave'));
  const token = JSON.parse(await cliAs(() => adminSystem)('token', 'issue', '-f', 'json'));
  const body = (await call('GET', '/identity/v3/auth/tokens?nocatalog', { token: token.id, subject: token.id })).body.token;
  assert.deepEqual(body.system, { all: true });
  assert.deepEqual(
    body.roles.map((r: { name: string }) => r.name),
    ['admin', 'member', 'reader'],
  );
  assert.deepEqual((await call('GET', '/identity/v3/auth/system', { token: token.id })).body.system, [{ all: true }]);

  const daveSystem = { ...unprojected(daveEnv()), OS_SYSTEM_SCOPE: 'all' };
  assert.match(await cliFails(daveSystem, 'token', 'issue'), /HTTP 401/);
  const daveToken = (
    await call('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { id: dave.id, password: 'dave-pw' } } } } },
    })
  ).token;
  assert.deepEqual((await call('GET', '/identity/v3/auth/system', { token: daveToken })).body.system, []);

  await cliAs(() => nubo.env)('role', 'add', '--system', 'all', '--user', 'dave', 'reader');
  const reader = (await call('GET', '/identity/v3/roles?name=reader', { token: token.id })).body.roles[0];
  const granted = await call('GET', `/identity/v3/system/users/${dave.id}/roles`, { token: token.id });
  assert.deepEqual(
    granted.body.roles.map((r: { id: string }) => r.id),
    [reader.id],
  );
  assert.equal((await call('HEAD', `/identity/v3/system/users/${dave.id}/roles/${reader.id}`, { token: token.id })).status, 204);
  const daveSys = JSON.parse(await cliAs(() => daveSystem)('token', 'issue', '-f', 'json'));
  assert.equal((await call('GET', '/identity/v3/auth/tokens?nocatalog', { token: daveSys.id, subject: daveSys.id })).status, 200);
  // A reader of the system is no administrator.
  assert.notEqual((await openstack(daveSystem, 'user', 'list')).code, 0);
  assert.equal((await call('PUT', `/identity/v3/system/users/${dave.id}/roles/${reader.id}`, { token: daveToken })).status, 403);
});

test('rescoping keeps the audit chain and names the token method', async () => {
  const first = await call('POST', '/identity/v3/auth/tokens?nocatalog', {
    body: { auth: { identity: { methods: ['password'], password: { user: { id: dave.id, password: 'dave-pw' } } }, scope: 'unscoped' } },
  });
  assert.equal(first.status, 201);
  const [original] = first.body.token.audit_ids;
  assert.deepEqual(first.body.token.methods, ['password']);
  const rescope = (token: string, scope: unknown) =>
    call('POST', '/identity/v3/auth/tokens?nocatalog', { body: { auth: { identity: { methods: ['token'], token: { id: token } }, scope } } });
  const second = await rescope(first.token, { project: { name: 'daves', domain: { id: 'default' } } });
  assert.equal(second.status, 201);
  assert.deepEqual(second.body.token.methods, ['token', 'password']);
  assert.equal(second.body.token.audit_ids.length, 2);
  assert.equal(second.body.token.audit_ids[1], original);
  assert.notEqual(second.body.token.audit_ids[0], original);
  const third = await rescope(second.token, { domain: { name: 'Default' } });
  assert.equal(third.status, 201);
  assert.deepEqual(third.body.token.methods, ['token', 'password']);
  assert.equal(third.body.token.audit_ids[1], original, "the second id is the chain's first, not the parent's");
  assert.ok(!second.body.token.audit_ids.includes(third.body.token.audit_ids[0]));
  // Revoking the original by its audit id ends every token of the chain.
  const admin = (
    await call('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: nubo.env.OS_PASSWORD } } } } },
    })
  ).token;
  assert.equal((await call('DELETE', '/identity/v3/auth/tokens', { token: admin, subject: first.token })).status, 204);
  assert.equal((await call('GET', '/identity/v3/auth/tokens', { token: admin, subject: third.token })).status, 404);
});

test("application credentials' expires_at is written as Keystone writes it", async () => {
  const cred = JSON.parse(await cliAs(daveEnv)('application', 'credential', 'create', '--expiration', '2030-12-05T16:30:00', 'ac1', '-f', 'json'));
  assert.equal(cred.expires_at, '2030-12-05T16:30:00.000000');
  const listed = JSON.parse(await cliAs(daveEnv)('application', 'credential', 'show', 'ac1', '-f', 'json'));
  assert.equal(listed.expires_at, '2030-12-05T16:30:00.000000');
});
