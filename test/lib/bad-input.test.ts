import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';

let c: TestCloud;
let admin: string;
before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
});
after(() => c?.stop());

const json = { 'content-type': 'application/json' };

test('malformed, mistyped and oversize requests get a 4xx with a message, never a 500', async () => {
  const cases: { name: string; method: string; path: string; raw?: string; body?: unknown; headers?: Record<string, string>; status: number; auth?: boolean }[] = [
    { name: 'broken JSON', method: 'POST', path: '/identity/v3/projects', raw: '{"project": {', headers: json, status: 400 },
    { name: 'JSON that is not an object', method: 'POST', path: '/identity/v3/projects', raw: '[1,2]', headers: json, status: 400 },
    { name: 'empty body', method: 'POST', path: '/identity/v3/projects', raw: '', headers: json, status: 400 },
    { name: 'name of the wrong type', method: 'POST', path: '/identity/v3/projects', body: { project: { name: 42 } }, status: 400 },
    { name: 'enabled as a string', method: 'POST', path: '/identity/v3/projects', body: { project: { name: 'p', enabled: 'yes' } }, status: 400 },
    { name: 'missing wrapper', method: 'POST', path: '/identity/v3/users', body: { name: 'u' }, status: 400 },
    { name: 'empty name', method: 'POST', path: '/identity/v3/roles', body: { role: { name: '' } }, status: 400 },
    { name: 'oversize body', method: 'POST', path: '/identity/v3/projects', raw: JSON.stringify({ project: { name: 'p', description: 'x'.repeat(2 * 1024 * 1024) } }), headers: json, status: 413 },
    { name: 'form-encoded body', method: 'POST', path: '/identity/v3/projects', raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
    { name: 'bad enabled filter', method: 'GET', path: '/identity/v3/projects?enabled=maybe', status: 400 },
    { name: 'unknown project', method: 'GET', path: '/identity/v3/projects/nope', status: 404 },
    { name: 'grant on a missing user', method: 'PUT', path: '/identity/v3/projects/nope/users/nope/roles/nope', status: 404 },
    { name: 'auth without methods', method: 'POST', path: '/identity/v3/auth/tokens', body: { auth: { identity: {} } }, status: 400, auth: false },
    { name: 'auth with two methods', method: 'POST', path: '/identity/v3/auth/tokens', body: { auth: { identity: { methods: ['password', 'token'] } } }, status: 400, auth: false },
    { name: 'auth with an unknown method', method: 'POST', path: '/identity/v3/auth/tokens', body: { auth: { identity: { methods: ['kerberos'] } } }, status: 401, auth: false },
    { name: 'password method without a user', method: 'POST', path: '/identity/v3/auth/tokens', body: { auth: { identity: { methods: ['password'] } } }, status: 400, auth: false },
    { name: 'project scope by name without a domain', method: 'POST', path: '/identity/v3/auth/tokens', body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'x' } } }, scope: { project: { name: 'admin' } } } }, status: 401, auth: false },
    { name: 'system scope', method: 'POST', path: '/identity/v3/auth/tokens', body: { auth: { identity: { methods: ['token'], token: { id: 'x' } }, scope: { system: { all: true } } } }, status: 401, auth: false },
    { name: 'no token on a protected route', method: 'GET', path: '/identity/v3/users', status: 401, auth: false },
    { name: 'validate without a subject token', method: 'GET', path: '/identity/v3/auth/tokens', status: 404 },
    { name: 'unknown route', method: 'GET', path: '/identity/v3/nothing-here', status: 404 },
    { name: 'unknown top-level path', method: 'GET', path: '/nowhere', status: 404, auth: false },
    { name: 'duplicate role', method: 'POST', path: '/identity/v3/roles', body: { role: { name: 'admin' } }, status: 409 },
    { name: 'deleting an enabled domain', method: 'DELETE', path: '/identity/v3/domains/default', status: 403 },
    { name: 'huge limit', method: 'GET', path: '/identity/v3/users?name=' + 'a'.repeat(5000), status: 200 },
  ];
  for (const k of cases) {
    const res = await c.request(k.method, k.path, { token: k.auth === false ? undefined : admin, raw: k.raw, body: k.body, headers: k.headers });
    assert.equal(res.status, k.status, `${k.name}: ${JSON.stringify(res.body)}`);
    assert.ok(res.headers.get('x-openstack-request-id'), `${k.name}: request id`);
    if (k.status >= 400) {
      assert.equal(res.body.error.code, k.status, `${k.name}: Keystone error body`);
      assert.ok(res.body.error.message.length > 0, `${k.name}: a message`);
    }
  }
});

test('each service answers an unknown path in its own error format', async () => {
  const cases: [string, (b: any) => unknown][] = [
    ['/identity/v3/nothing', (b) => b.error.code],
    ['/compute/v2.1/nothing', (b) => b.itemNotFound.code],
    ['/networking/v2.0/nothing', (b) => b.NeutronError.type],
    ['/image/v2/nothing', (b) => b.code],
    ['/volume/v3/nothing', (b) => b.itemNotFound.code],
  ];
  for (const [path, pick] of cases) {
    const res = await c.request('GET', path, { token: admin });
    assert.equal(res.status, 404, path);
    assert.ok(pick(res.body), `${path}: ${JSON.stringify(res.body)}`);
  }
});

test('every service publishes its version document at its root', async () => {
  const keystone = await c.request('GET', '/identity/');
  assert.equal(keystone.status, 300);
  assert.equal(keystone.body.versions.values[0].id, 'v3.14');
  const nova = await c.request('GET', '/compute/');
  assert.equal(nova.body.versions[0].min_version, '2.1');
  assert.equal((await c.request('GET', '/image/')).body.versions[0].status, 'CURRENT');
  assert.equal((await c.request('GET', '/networking/')).body.versions[0].id, 'v2.0');
  assert.equal((await c.request('GET', '/volume/')).body.versions[0].id, 'v3.0');
});
