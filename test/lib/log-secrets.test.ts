import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config.ts';
import { startCloud } from '../../src/main.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createApp } from '../../src/lib/http/app.ts';
import { createUser } from '../../src/identity/users.ts';
import { applicationCredentials, users } from '../../src/identity/tables.ts';
import { freePort, tempDir } from '../helpers/cloud.ts';

// Everything the cloud logs, at its most talkative, while passwords, tokens and application
// credential secrets go through it and a query holding a password hash fails.

test('no password, hash, token or secret reaches the log, even at trace level with request logging', async () => {
  process.env.NUBO_LOG_REQUESTS = '1';
  let logged = '';
  const log = createLogger('trace', { write: (line: string) => void (logged += line) });
  const dataDir = tempDir();
  const config = loadConfig({ port: String(await freePort()), dataDir, database: 'memory://', computeDriver: 'fake', networkDataplane: 'fake' }, {});
  const cloud = await startCloud(config, log);
  const failing = createApp({ log, publicUrl: 'http://failing', validate: cloud.identity.validate });
  try {
    const call = async (method: string, path: string, body?: unknown, token?: string, subject?: string) => {
      const res = await fetch(config.publicUrl + path, {
        method,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(token ? { 'x-auth-token': token } : {}),
          ...(subject ? { 'x-subject-token': subject } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, token: res.headers.get('x-subject-token'), body: (await res.json().catch(() => undefined)) as any };
    };
    const login = async (identity: unknown, scope?: unknown) => {
      const res = await call('POST', '/identity/v3/auth/tokens', { auth: { identity, ...(scope ? { scope } : {}) } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { token: res.token!, userId: res.body.token.user.id as string };
    };
    const project = { project: { name: 'admin', domain: { id: 'default' } } };
    const adminPassword = cloud.credentials!.password;
    const { token: admin, userId: adminId } = await login(
      { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } },
      project,
    );

    const alicePassword = 'alice-Pa55word-in-a-body';
    const created = await call('POST', '/identity/v3/users', { user: { name: 'alice', domain_id: 'default', password: alicePassword } }, admin);
    assert.equal(created.status, 201);
    const { token: alice } = await login({ methods: ['password'], password: { user: { id: created.body.user.id, password: alicePassword } } });
    const cred = await call('POST', `/identity/v3/users/${adminId}/application_credentials`, { application_credential: { name: 'ci' } }, admin);
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    const secret: string = cred.body.application_credential.secret;
    const { token: viaCred } = await login({
      methods: ['application_credential'],
      application_credential: { id: cred.body.application_credential.id, secret },
    });
    assert.equal((await call('GET', '/identity/v3/auth/tokens', undefined, admin, viaCred)).status, 200);
    assert.equal((await call('GET', '/identity/v3/users', undefined, 'a-token-that-is-wrong-but-secret')).status, 401);
    const wrong = await call('POST', '/identity/v3/auth/tokens', {
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'a-wrong-password' } } } },
    });
    assert.equal(wrong.status, 401);

    // A query that fails once the password is hashed: its parameters, and PostgreSQL's "Failing
    // row contains (…)", hold the hash; the error handler logs the error of a 500.
    const failedPassword = 'password-of-a-failed-insert';
    failing.post('/create-user', { config: { public: true } }, async (request) => {
      try {
        await createUser(cloud.store.db, { name: null as never, domainId: 'default', password: failedPassword });
      } catch (err) {
        // Logged bare too, where pino takes the line's msg from the error's message.
        request.log.warn(err);
        throw err;
      }
      return {};
    });
    const res = await failing.inject({ method: 'POST', url: '/create-user' });
    assert.equal(res.statusCode, 500);
    assert.match(logged, /unhandled error/);
    assert.match(logged, /"level":40,.*"msg":"Failed query: insert into/, 'the bare error was logged');
    assert.match(logged, /Failed query: insert into \\"identity_users\\"/, 'the statement itself is still logged');
    assert.match(logged, /violates not-null constraint/, 'and why it failed');

    const hashes = [
      ...(await cloud.store.db.select({ h: users.passwordHash }).from(users)).map((r) => r.h!),
      ...(await cloud.store.db.select({ h: applicationCredentials.secretHash }).from(applicationCredentials)).map((r) => r.h),
    ];
    assert.equal(hashes.length, 3);
    const secrets = {
      adminPassword,
      alicePassword,
      failedPassword,
      secret,
      admin,
      alice,
      viaCred,
      wrongToken: 'a-token-that-is-wrong-but-secret',
      wrongPassword: 'a-wrong-password',
    };
    for (const [name, value] of Object.entries(secrets)) assert.ok(!logged.includes(value), `${name} was logged`);
    for (const hash of hashes) assert.ok(!logged.includes(hash.split('$').at(-1)!), 'a stored hash was logged');
    assert.doesNotMatch(logged, /scrypt\$/, 'a password hash was logged');
    assert.match(logged, /"url":"\/identity\/v3\/auth\/tokens"/, 'requests were logged');
  } finally {
    delete process.env.NUBO_LOG_REQUESTS;
    await failing.close();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('errors whose properties are getters of their own class (DOMException) are logged, not thrown', () => {
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  log.error({ err: new DOMException('aborted', 'AbortError') }, 'with err');
  log.error(new DOMException('not cloneable', 'DataCloneError'));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /"type":"DOMException","message":"aborted"/);
  assert.match(lines[1]!, /not cloneable/);
});
