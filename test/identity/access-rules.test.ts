import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestCloud, openstack, nubo, type TestCloud } from '../helpers/cloud.ts';

// Application credentials confined by access rules, enforced on every service's routes.
let c: TestCloud;
let admin: string;
let user: { id: string; projectId: string; token: string };
let env: Record<string, string>;

before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  const p = await c.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: 'apps' } } });
  const u = await c.request('POST', '/identity/v3/users', {
    token: admin,
    body: { user: { name: 'dev', password: 'dev-pw', default_project_id: p.body.project.id } },
  });
  const member = (await c.request('GET', '/identity/v3/roles?name=member', { token: admin })).body.roles[0];
  assert.equal((await c.request('PUT', `/identity/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${member.id}`, { token: admin })).status, 204);
  user = { id: u.body.user.id, projectId: p.body.project.id, token: await c.login('dev', 'dev-pw', 'apps') };
  env = {
    OS_AUTH_URL: `${c.url}/identity`,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: 'dev',
    OS_PASSWORD: 'dev-pw',
    OS_PROJECT_NAME: 'apps',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
  };
});
after(async () => {
  await c?.stop();
});

type Rule = { service: string; method: string; path: string } | { id: string };

async function createCredential(name: string, extra: { access_rules?: Rule[]; unrestricted?: boolean } = {}, token = user.token) {
  const res = await c.request('POST', `/identity/v3/users/${user.id}/application_credentials`, { token, body: { application_credential: { name, ...extra } } });
  return res;
}

/** A token from a new application credential of the user. */
async function credentialToken(name: string, extra: { access_rules?: Rule[]; unrestricted?: boolean } = {}) {
  const created = await createCredential(name, extra);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id, secret } = created.body.application_credential;
  const auth = await c.request('POST', '/identity/v3/auth/tokens?nocatalog', {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } } },
  });
  assert.equal(auth.status, 201);
  return {
    id: id as string,
    secret: secret as string,
    created: created.body.application_credential,
    token: auth.headers.get('x-subject-token')!,
    body: auth.body,
  };
}

const status = async (method: string, path: string, token: string, body?: unknown) => (await c.request(method, path, { token, body })).status;

test('a credential allowed only to list servers lists them, and nothing else', async () => {
  const rules = [{ service: 'compute', method: 'GET', path: '/v2.1/servers' }];
  const cred = await credentialToken('servers-only', { access_rules: rules });
  assert.deepEqual(
    cred.created.access_rules.map(({ id, ...r }: { id: string }) => (assert.match(id, /^[0-9a-f]{32}$/), r)),
    rules,
  );
  assert.deepEqual(cred.body.token.application_credential.access_rules, cred.created.access_rules, 'the token shows its rules');
  assert.equal(cred.body.token.application_credential.restricted, true);

  const key = await c.request('POST', '/compute/v2.1/os-keypairs', { token: user.token, body: { keypair: { name: 'kept' } } });
  assert.equal(key.status, 200);

  assert.equal(await status('GET', '/compute/v2.1/servers', cred.token), 200);
  const network = await c.request('POST', '/networking/v2.0/networks', { token: cred.token, body: { network: { name: 'sneaky' } } });
  assert.equal(network.status, 401);
  assert.equal(network.body.NeutronError.type, 'HTTPUnauthorized', 'answered in the service error format');
  assert.equal(await status('DELETE', '/compute/v2.1/os-keypairs/kept', cred.token), 401);
  assert.equal(await status('GET', '/image/v2/images', cred.token), 401);
  assert.equal(await status('GET', '/compute/v2.1/servers/detail', cred.token), 401);
  assert.equal(await status('GET', `/identity/v3/users/${user.id}/application_credentials`, cred.token), 401);
  // A token may always be validated, whatever its rules.
  const validated = await c.request('GET', '/identity/v3/auth/tokens', { token: cred.token, headers: { 'x-subject-token': cred.token } });
  assert.equal(validated.status, 200);

  // Nothing was done: the key pair is there and no network was made.
  assert.equal(await status('GET', '/compute/v2.1/os-keypairs/kept', user.token), 200);
  const networks = (await c.request('GET', '/networking/v2.0/networks?name=sneaky', { token: user.token })).body.networks;
  assert.deepEqual(networks, []);

  // The same calls with a credential without rules are open as before.
  const open = await credentialToken('open');
  assert.equal(open.body.token.application_credential.access_rules, undefined);
  assert.equal(await status('GET', '/image/v2/images', open.token), 200);
  assert.equal(await status('DELETE', '/compute/v2.1/os-keypairs/kept', open.token), 202);
});

test('`*` matches one path segment and `**` any number of them', async () => {
  const cred = await credentialToken('globs', {
    access_rules: [
      { service: 'compute', method: 'GET', path: '/v2.1/servers/*' },
      { service: 'compute', method: 'GET', path: '/v2.1/os-keypairs/**' },
      { service: 'network', method: 'GET', path: '/v2.0/networks/{network_id}' },
      { service: 'image', method: 'GET', path: '/v2/**' },
    ],
  });
  assert.equal(await status('GET', '/compute/v2.1/servers/detail', cred.token), 200);
  assert.equal(await status('GET', '/compute/v2.1/servers', cred.token), 401);
  assert.equal(await status('GET', '/compute/v2.1/servers/x/metadata', cred.token), 401);
  assert.equal(await status('DELETE', '/compute/v2.1/servers/x', cred.token), 401, 'the method must match too');
  assert.equal(await status('GET', '/compute/v2.1/os-keypairs/nope', cred.token), 404);
  assert.equal(await status('GET', '/compute/v2.1/os-keypairs', cred.token), 401);
  assert.equal(await status('GET', '/networking/v2.0/networks/00000000-0000-0000-0000-000000000000', cred.token), 404);
  assert.equal(await status('GET', '/networking/v2.0/networks', cred.token), 401);
  assert.equal(await status('GET', '/image/v2/images', cred.token), 200);
  assert.equal(await status('GET', '/image/v2/schemas/image', cred.token), 200);
  assert.equal(await status('GET', '/compute/v2.1/flavors', cred.token), 401, 'a rule of one service opens nothing of another');
});

/** A request whose path is sent as written, a fragment included (fetch would drop it). */
function rawStatus(method: string, path: string, token: string): Promise<number> {
  const { hostname, port } = new URL(c.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: { 'x-auth-token': token } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a rule of many wildcards is matched in linear time, and a fragment in the URL opens nothing', async () => {
  const cred = await credentialToken('hostile', {
    access_rules: [
      // As a regular expression, this backtracks for hours against any path that fails to match.
      { service: 'compute', method: 'GET', path: '/' + '**'.repeat(40) + 'x' },
      { service: 'compute', method: 'DELETE', path: '/v2.1/os-keypairs/*/x' },
    ],
  });
  assert.equal(await status('GET', '/compute/v2.1/servers/detail', cred.token), 401);
  assert.equal(await status('GET', '/compute/v2.1/servers/x', cred.token), 404, 'a path that ends in x matches');
  // The router ends a path at '#': the rules see the path it routes, not the text after it.
  assert.equal(await rawStatus('GET', `/identity/v3/users/${user.id}#/v3/auth/tokens`, cred.token), 401);
  const key = await c.request('POST', '/compute/v2.1/os-keypairs', { token: user.token, body: { keypair: { name: 'kept' } } });
  assert.equal(key.status, 200, JSON.stringify(key.body));
  assert.equal(await rawStatus('DELETE', '/compute/v2.1/os-keypairs/kept#/x', cred.token), 401);
  assert.equal((await c.request('GET', '/compute/v2.1/os-keypairs/kept', { token: user.token })).status, 200);
});

test("access rules are the user's, shared by id and by equality, and kept while in use", async () => {
  const first = await credentialToken('shares-1', { access_rules: [{ service: 'identity', method: 'GET', path: '/v3/users/*/access_rules' }] });
  const ruleId = first.created.access_rules[0].id;
  const byId = await createCredential('shares-2', { access_rules: [{ id: ruleId }, { service: 'identity', method: 'GET', path: '/v3/users/*/access_rules' }] });
  assert.equal(byId.status, 201);
  assert.deepEqual(
    byId.body.application_credential.access_rules.map((r: { id: string }) => r.id),
    [ruleId],
  );

  const listed = await c.request('GET', `/identity/v3/users/${user.id}/access_rules`, { token: user.token });
  assert.equal(listed.status, 200);
  assert.ok(
    listed.body.access_rules.some(
      (r: { id: string; service: string; method: string; path: string }) =>
        r.id === ruleId && r.service === 'identity' && r.path === '/v3/users/*/access_rules',
    ),
  );
  // The credential may call what its rule names, here the list of its user's rules.
  assert.equal(await status('GET', `/identity/v3/users/${user.id}/access_rules`, first.token), 200);
  assert.equal(await status('GET', `/identity/v3/users/${user.id}/access_rules/${ruleId}`, first.token), 401);
  const one = await c.request('GET', `/identity/v3/users/${user.id}/access_rules/${ruleId}`, { token: user.token });
  assert.deepEqual([one.body.access_rule.service, one.body.access_rule.method], ['identity', 'GET']);
  const shown = await c.request('GET', `/identity/v3/users/${user.id}/application_credentials/${first.id}`, { token: user.token });
  assert.deepEqual(shown.body.application_credential.access_rules, first.created.access_rules);

  // Another user can neither see nor reuse them.
  assert.equal(await status('GET', `/identity/v3/users/${user.id}/access_rules`, admin), 200, 'the admin may');
  const adminId = (await c.request('GET', '/identity/v3/users?name=admin', { token: admin })).body.users[0].id;
  const theirs = await c.request('POST', `/identity/v3/users/${adminId}/application_credentials`, {
    token: admin,
    body: { application_credential: { name: 'borrowed', access_rules: [{ id: ruleId }] } },
  });
  assert.equal(theirs.status, 404);

  assert.equal(await status('DELETE', `/identity/v3/users/${user.id}/access_rules/${ruleId}`, user.token), 403);
  for (const cred of [first.id, byId.body.application_credential.id]) {
    assert.equal(await status('DELETE', `/identity/v3/users/${user.id}/application_credentials/${cred}`, user.token), 204);
  }
  assert.equal(await status('DELETE', `/identity/v3/users/${user.id}/access_rules/${ruleId}`, user.token), 204);
  assert.equal(await status('GET', `/identity/v3/users/${user.id}/access_rules/${ruleId}`, user.token), 404);

  const incomplete = await createCredential('incomplete', { access_rules: [{ service: 'compute', method: 'GET' } as Rule] });
  assert.equal(incomplete.status, 400);
  const badMethod = await createCredential('bad-method', { access_rules: [{ service: 'compute', method: 'FETCH', path: '/v2.1/servers' }] });
  assert.equal(badMethod.status, 400);
});

test('a restricted credential neither creates nor deletes application credentials', async () => {
  const victim = await createCredential('victim');
  assert.equal(victim.status, 201);
  const restricted = await credentialToken('restricted');
  const path = `/identity/v3/users/${user.id}/application_credentials`;
  assert.equal(await status('DELETE', `${path}/${victim.body.application_credential.id}`, restricted.token), 403);
  assert.equal(await status('POST', path, restricted.token, { application_credential: { name: 'child' } }), 403);
  assert.equal(await status('GET', `${path}/${victim.body.application_credential.id}`, user.token), 200, 'still there');

  const unrestricted = await credentialToken('unrestricted', { unrestricted: true });
  assert.equal(unrestricted.body.token.application_credential.restricted, false);
  assert.equal(await status('DELETE', `${path}/${victim.body.application_credential.id}`, unrestricted.token), 204);
});

test('a login with an application credential may name its own project only', async () => {
  const { id, secret } = (await createCredential('scoped')).body.application_credential;
  const login = (scope: unknown) =>
    c.request('POST', '/identity/v3/auth/tokens?nocatalog', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } }, scope } },
    });
  const other = await login({ project: { name: 'admin', domain: { id: 'default' } } });
  assert.equal(other.status, 401);
  assert.equal(other.body.error.message, 'Application credentials cannot request a scope.');
  assert.equal((await login({ domain: { id: 'default' } })).status, 401);
  const own = await login({ project: { id: user.projectId } });
  assert.equal(own.status, 201);
  assert.equal(own.body.token.project.id, user.projectId);
});

test('the openstack CLI creates a credential with --access-rules, lists the rules, and the credential is confined', async () => {
  const rules = [{ service: 'compute', method: 'GET', path: '/v2.1/os-keypairs' }];
  const created = await openstack(
    env,
    'application',
    'credential',
    'create',
    'cli-rules',
    '--secret',
    'cli-secret',
    '--access-rules',
    JSON.stringify(rules),
    '-f',
    'json',
  );
  assert.equal(created.code, 0, created.stderr);
  const cred = JSON.parse(created.stdout);
  assert.deepEqual(
    cred.access_rules.map(({ id, ...r }: { id: string }) => r),
    rules,
  );
  const listed = await openstack(env, 'access', 'rule', 'list', '-f', 'json');
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(
    JSON.parse(listed.stdout).some(
      (r: Record<string, string>) => r.ID === cred.access_rules[0].id && r.Service === 'compute' && r.Path === '/v2.1/os-keypairs',
    ),
  );

  const asCred = {
    OS_AUTH_URL: env.OS_AUTH_URL!,
    OS_AUTH_TYPE: 'v3applicationcredential',
    OS_APPLICATION_CREDENTIAL_ID: cred.id,
    OS_APPLICATION_CREDENTIAL_SECRET: 'cli-secret',
    OS_REGION_NAME: 'RegionOne',
  };
  const keypairs = await openstack(asCred, 'keypair', 'list');
  assert.equal(keypairs.code, 0, keypairs.stderr);
  const networks = await openstack(asCred, 'network', 'list');
  assert.notEqual(networks.code, 0);
  assert.match(networks.stderr, /HTTP 401|401/);
});

test('nubo application credential create --access-rules', async () => {
  const rules = [{ service: 'image', method: 'GET', path: '/v2/images' }];
  const created = await nubo(env, 'application', 'credential', 'create', 'nubo-rules', '--access-rules', JSON.stringify(rules), '-f', 'json');
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(
    JSON.parse(created.stdout).access_rules.map(({ id, ...r }: { id: string }) => r),
    rules,
  );
  const bad = await nubo(env, 'application', 'credential', 'create', 'nubo-bad', '--access-rules', '/no/such/file');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Access rules is not valid JSON string or file does not exist/);
});
