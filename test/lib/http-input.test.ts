import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { openSync, writeSync, closeSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startTestCloud, openstack, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { openstackMessage } from '../helpers/error-format.ts';
import { createApp } from '../../src/lib/http/app.ts';
import { useErrorStyle } from '../../src/lib/http/errors.ts';

/** A logger that keeps its lines, to check what rejected input leaves in the log. */
function capturingLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

const prefixOf = (path: string) => path.split('/')[1]!;

let c: TestCloud;
let admin: string;
let logs: string[];
before(async () => {
  const { log, lines } = capturingLog();
  logs = lines;
  c = await startTestCloud({ log });
  admin = await c.adminToken();
});
after(() => c?.stop());

/** Every route of every service, its path parameters filled with a name that exists nowhere. */
const routes = () =>
  c.cloud.app.routeIndex.routes
    .filter((r) => r.method !== 'HEAD')
    .map((r) => ({ method: r.method, path: r.url.replace(/:[^/]+/g, 'nothing-here') }));

test('a JSON content type without a body is taken as no body, on every route of every service', async () => {
  const all = routes();
  assert.ok(all.length > 100, `routes found: ${all.length}`);
  for (const { method, path } of all) {
    for (const headers of [{ 'content-type': 'application/json' }, {}] as Record<string, string>[]) {
      const res = await c.request(method, path, { token: admin, headers });
      const where = `${method} ${path} ${JSON.stringify(headers)}: ${res.status} ${JSON.stringify(res.body)}`;
      assert.ok(res.status < 500, where);
      if (res.status >= 400) {
        const message = openstackMessage(prefixOf(path), res.body);
        assert.ok(message, `OpenStack error body: ${where}`);
        assert.doesNotMatch(message, /empty/i, where);
      }
    }
  }
  // Where a body is required, its absence is the usual validation message.
  const res = await c.request('POST', '/compute/v2.1/flavors', { token: admin, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 400);
  assert.match(res.body.badRequest.message, /^Invalid input for body: must be object/);
  // Keystone grants a role with such a request.
  const project = (await c.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: 'grant-target' } } })).body.project;
  const user = (await c.request('POST', '/identity/v3/users', { token: admin, body: { user: { name: 'grantee', password: 'pw-1234567' } } })).body.user;
  const role = (await c.request('GET', '/identity/v3/roles?name=member', { token: admin })).body.roles[0];
  const grant = await c.request('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${role.id}`, { token: admin, headers: { 'content-type': 'application/json' } });
  assert.equal(grant.status, 204, JSON.stringify(grant.body));
});

test('NUL characters and unpaired surrogates are refused with a 400 in the service format, before the database and without a stack in the log', async () => {
  logs.length = 0;
  const nul = 'a\u0000b';
  const json = { 'content-type': 'application/json' };
  const cases: { method: string; path: string; body?: unknown; raw?: string; auth?: boolean }[] = [
    { method: 'GET', path: '/identity/v3/projects/%00' },
    { method: 'GET', path: '/identity/v3/users/%00' },
    { method: 'GET', path: '/identity/v3/users?name=%00' },
    { method: 'POST', path: '/identity/v3/projects', body: { project: { name: nul } } },
    { method: 'POST', path: '/identity/v3/users', raw: '{"user": {"name": "u\\ud800"}}' },
    { method: 'GET', path: '/identity/v3/users/x/application_credentials/%00' },
    { method: 'POST', path: '/identity/v3/auth/tokens', auth: false, body: { auth: { identity: { methods: ['password'], password: { user: { name: nul, domain: { id: 'default' }, password: 'x' } } } } } },
    { method: 'GET', path: '/networking/v2.0/networks/%00' },
    { method: 'GET', path: '/networking/v2.0/networks?name=a%00' },
    { method: 'POST', path: '/networking/v2.0/networks', body: { network: { name: nul } } },
    { method: 'POST', path: '/networking/v2.0/networks', raw: '{"network": {"name": "n", "description": "\\udc00"}}' },
    { method: 'GET', path: '/image/v2/images/%00' },
    { method: 'POST', path: '/image/v2/images', body: { name: nul } },
    { method: 'POST', path: '/image/v2/images', body: { name: 'i', [nul]: 'key' } },
    { method: 'GET', path: '/compute/v2.1/servers/%00' },
    { method: 'GET', path: '/compute/v2.1/servers?name=%00' },
    { method: 'POST', path: '/compute/v2.1/os-keypairs', body: { keypair: { name: nul } } },
    { method: 'GET', path: '/volume/v3/%00/os-quota-sets/x' },
  ];
  for (const k of cases) {
    const res = await c.request(k.method, k.path, { token: k.auth === false ? undefined : admin, body: k.body, raw: k.raw, headers: k.raw ? json : undefined });
    const where = `${k.method} ${k.path}: ${res.status} ${JSON.stringify(res.body)}`;
    assert.equal(res.status, 400, where);
    assert.match(openstackMessage(prefixOf(k.path), res.body) ?? '', /NUL characters and unpaired surrogates are not allowed/, where);
  }
  const logged = logs.filter((l) => /"level":(40|50|60)/.test(l) || l.includes('"stack"'));
  assert.deepEqual(logged, []);
});

test('an update with nothing to change, or with keys that are no attribute, changes nothing (found by the fuzz test)', async () => {
  const domain = (await c.request('POST', '/identity/v3/domains', { token: admin, body: { domain: { name: 'elsewhere' } } })).body.domain;
  const project = (await c.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: 'stays' } } })).body.project;
  const role = (await c.request('POST', '/identity/v3/roles', { token: admin, body: { role: { name: 'unchanged' } } })).body.role;
  const user = (await c.request('POST', '/identity/v3/users', { token: admin, body: { user: { name: 'unchanged' } } })).body.user;
  const cases: [string, unknown][] = [
    [`/identity/v3/users/${user.id}`, { user: {} }],
    [`/identity/v3/roles/${role.id}`, { role: { '99999999999999999999': 'x' } }],
    [`/identity/v3/domains/${domain.id}`, { domain: {} }],
    [`/identity/v3/projects/${project.id}`, { project: { id: 'hijacked', domainId: domain.id } }],
  ];
  for (const [path, body] of cases) {
    const res = await c.request('PATCH', path, { token: admin, body });
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
  }
  const after = (await c.request('GET', `/identity/v3/projects/${project.id}`, { token: admin })).body.project;
  assert.equal(after.domain_id, 'default');
});

test('a body nested thousands of levels deep is a 400, not a stack overflow', async () => {
  const raw = '{"project":'.repeat(10_000) + '{}' + '}'.repeat(10_000);
  const res = await c.request('POST', '/identity/v3/projects', { token: admin, raw, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /nested deeper than/);
});

/** What the server answers to bytes written on a raw connection. */
function rawExchange(data: string): Promise<string> {
  const { port } = new URL(c.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(data));
    let got = '';
    socket.on('data', (d) => (got += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

/** The last response of a raw exchange: its status and parsed body. */
function lastResponse(text: string): { status: number; body: any } {
  const at = text.lastIndexOf('HTTP/1.1 ');
  const [head, body] = [text.slice(at, text.indexOf('\r\n\r\n', at)), text.slice(text.indexOf('\r\n\r\n', at) + 4)];
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) };
}

test('requests that Node refuses before any route are answered in the style of the service they were for', async () => {
  // A body longer than its Content-Length: the rest reads as a broken second request.
  const tooLong = await rawExchange(
    `POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${admin}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}{"server": {}}`,
  );
  const second = lastResponse(tooLong);
  assert.equal(second.status, 400, tooLong);
  assert.equal(second.body.badRequest.code, 400, tooLong);

  const garbage = lastResponse(await rawExchange('GET /networking/v2.0/networks HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
  assert.equal(garbage.status, 400);
  assert.equal(garbage.body.NeutronError.type, 'HTTPBadRequest');

  const huge = lastResponse(await rawExchange(`GET /volume/v3/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
  assert.equal(huge.status, 431);
  // Nova and Cinder name no fault for 431: computeFault, as for any status without a name.
  assert.equal(huge.body.computeFault.code, 431);

  const unknown = lastResponse(await rawExchange('\x01\x02 nonsense\r\n\r\n'));
  assert.equal(unknown.body.error.code, 400);
});

test('a path that cannot be decoded, a parameter too long and a method not served are answered in the service format', async () => {
  const badUrl = await c.request('GET', '/networking/v2.0/networks/%C0', { token: admin });
  assert.equal(badUrl.status, 400);
  assert.ok(badUrl.body.NeutronError.message);
  const longParam = await c.request('GET', `/compute/v2.1/servers/${'a'.repeat(500)}`, { token: admin });
  assert.ok(longParam.status >= 400 && longParam.status < 500, JSON.stringify(longParam.body));
  assert.ok(openstackMessage('compute', longParam.body), JSON.stringify(longParam.body));
  const wrongMethod = await c.request('PATCH', '/compute/v2.1/servers', { token: admin, body: {} });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.body.badMethod.code, 405);
  assert.match(wrongMethod.headers.get('allow') ?? '', /GET/);
  const glanceWrong = await c.request('POST', '/image/v2/images/x/file', { token: admin });
  assert.equal(glanceWrong.status, 405);
  assert.equal(glanceWrong.body.code, '405 Method Not Allowed');
});

test('a union-typed body that matches no alternative says which alternatives exist', async () => {
  const unknownAccess = await c.request('POST', '/compute/v2.1/flavors/1/action', { token: admin, body: { grantAccess: { tenant: 'p' } } });
  assert.equal(unknownAccess.status, 400);
  assert.match(unknownAccess.body.badRequest.message, /expected exactly one of addTenantAccess, removeTenantAccess, got grantAccess/);
  const empty = await c.request('POST', '/compute/v2.1/flavors/1/action', { token: admin, body: {} });
  assert.match(empty.body.badRequest.message, /expected exactly one of addTenantAccess/);
  // Server actions are named before their schema is checked, in Nova's words.
  const unknownAction = await c.request('POST', '/compute/v2.1/servers/x/action', { token: admin, body: { frobnicate: {} } });
  assert.equal(unknownAction.status, 400);
  assert.match(unknownAction.body.badRequest.message, /^There is no such action: frobnicate\. The actions served are: os-stop, os-start, .*reboot/);
  // A known action with a bad argument is explained by that action's own schema.
  const reboot = await c.request('POST', '/compute/v2.1/servers/x/action', { token: admin, body: { reboot: { type: 'GENTLE' } } });
  assert.match(reboot.body.badRequest.message, /^Invalid input for body\.reboot\.type: must match pattern/);
  // A union of scalars names the types it takes.
  const sort = await c.request('GET', '/compute/v2.1/servers?sort_dir=sideways', { token: admin });
  assert.match(sort.body.badRequest.message, /querystring\.sort_dir(\.0)?: must be one of "asc", "desc"/);
});

test('python-glanceclient and the openstack CLI print Glance errors cleanly', async () => {
  const creds = c.cloud.credentials!;
  const env = {
    OS_AUTH_URL: creds.authUrl,
    OS_AUTH_TYPE: 'password',
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: 'admin',
    OS_PASSWORD: creds.password,
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
  };
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const missing = '0b8a1a8e-0000-4000-8000-000000000000';
  const glance = await promisify(execFile)('glance', ['image-show', missing], { env: { ...clean, ...env } }).then(
    () => assert.fail('glance image-show should fail'),
    (e: { stderr: string }) => e.stderr,
  );
  assert.match(glance, new RegExp(`404 Not Found: No image found with ID ${missing}`));
  assert.doesNotMatch(glance, /has no attribute/);
  const osc = await openstack(env, 'image', 'show', 'nonexistent');
  assert.notEqual(osc.code, 0);
  assert.match(osc.stderr, /No Image found for nonexistent/);
  // openstacksdk reads the page too, and reports the server's message.
  const image = (await c.request('POST', '/image/v2/images', { token: admin, body: { name: 'reserved' } })).body;
  const reserved = await openstack(env, 'image', 'set', '--property', 'os_glance_x=1', image.id);
  assert.notEqual(reserved.code, 0);
  assert.match(reserved.stderr, /Attribute 'os_glance_x' is reserved/);
  assert.doesNotMatch(reserved.stderr, /has no attribute|Traceback/);
});

test('an error that no mapper knows is a bare 500 whose details stay in the log; storage errors are a 503 (Glance: 413)', async () => {
  const { log, lines } = capturingLog();
  const app = createApp({ log, publicUrl: 'http://127.0.0.1', validate: async () => assert.fail('no token expected') });
  for (const [prefix, style] of [['/compute', 'nova'], ['/image', 'glance']] as const) {
    await app.register(
      async (svc) => {
        useErrorStyle(svc, style);
        svc.get('/bug', { config: { public: true } }, async () => {
          throw new Error('password=hunter2 in a failed query');
        });
        // A real ENOSPC from the kernel, as a full disk gives it.
        svc.get('/full', { config: { public: true } }, async () => writeFileSync('/dev/full', 'x'));
      },
      { prefix },
    );
  }
  const bug = await app.inject({ method: 'GET', url: '/compute/bug' });
  assert.equal(bug.statusCode, 500);
  assert.doesNotMatch(bug.body, /hunter2/);
  assert.equal(bug.json().computeFault.code, 500);
  assert.ok(lines.some((l) => l.includes('hunter2') && l.includes('unhandled error')));
  const full = await app.inject({ method: 'GET', url: '/compute/full' });
  assert.equal(full.statusCode, 503);
  assert.match(full.json().serviceUnavailable.message, /storage of this cloud is full/);
  const glanceFull = await app.inject({ method: 'GET', url: '/image/full', headers: { accept: 'application/json' } });
  assert.equal(glanceFull.statusCode, 413);
  assert.equal(glanceFull.json().message, 'Image storage media is full.');
  assert.ok(lines.some((l) => l.includes('"code":"ENOSPC"') && !l.includes('"stack"')));
  await app.close();
});

test('a full disk under the database and the images gives a clean 503/413, and the cloud recovers once space is back', async () => {
  const mountPoint = tempDir('nubo-full-');
  await promisify(execFile)('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountPoint]);
  let full: TestCloud | undefined;
  try {
    const dataDir = join(mountPoint, 'data');
    mkdirSync(dataDir);
    full = await startTestCloud({ dataDir, database: join(dataDir, 'db') });
    const token = await full.adminToken();
    const image = (await full.request('POST', '/image/v2/images', { token, body: { name: 'img', disk_format: 'raw', container_format: 'bare' } })).body;
    const filler = join(mountPoint, 'filler');
    const fd = openSync(filler, 'w');
    for (const size of [1024 * 1024, 4096]) {
      try {
        for (;;) writeSync(fd, Buffer.alloc(size));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
    }
    closeSync(fd);

    const upload = await full.request('PUT', `/image/v2/images/${image.id}/file`, { token, raw: 'x'.repeat(1024 * 1024), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 413, JSON.stringify(upload.body));
    assert.match(upload.body.message, /Image storage media is full/);

    let refused: { status: number; body: any } | undefined;
    for (let i = 0; i < 5000 && !refused; i++) {
      const res = await full.request('POST', '/identity/v3/projects', { token, body: { project: { name: `p${i}`, description: 'x'.repeat(4000) } } });
      if (res.status !== 201) refused = res;
    }
    assert.ok(refused, 'the database never ran out of space');
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.match(refused.body.error.message, /storage of this cloud is full/);

    rmSync(filler);
    const after = await full.request('POST', '/identity/v3/projects', { token, body: { project: { name: 'after' } } });
    assert.equal(after.status, 201, JSON.stringify(after.body));
    const again = await full.request('PUT', `/image/v2/images/${image.id}/file`, { token, raw: 'x'.repeat(1024 * 1024), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(again.status, 204, JSON.stringify(again.body));
  } finally {
    await full?.stop();
    await promisify(execFile)('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});
