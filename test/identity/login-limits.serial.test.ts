import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Flags } from '../../src/config.ts';
import { startCloud, type Cloud } from '../../src/main.ts';
import { createLogger } from '../../src/lib/log.ts';
import { kdfStats } from '../../src/identity/passwords.ts';
import { freePort, tempDir } from '../helpers/cloud.ts';

/** A cloud in this process with the given login and hashing settings. */
async function start(flags: Flags) {
  const dataDir = tempDir();
  const port = await freePort();
  const cloud: Cloud = await startCloud(
    loadConfig({ port: String(port), dataDir, database: 'memory://', computeDriver: 'fake', networkDataplane: 'fake', ...flags }, {}),
    createLogger('silent'),
  );
  const request = async (method: string, path: string, o: { token?: string; body?: unknown } = {}) => {
    const res = await fetch(cloud.config.publicUrl + path, {
      method,
      headers: { ...(o.token ? { 'x-auth-token': o.token } : {}), ...(o.body ? { 'content-type': 'application/json' } : {}) },
      body: o.body ? JSON.stringify(o.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const login = (name: string, password: string, scope?: unknown) =>
    request('POST', '/identity/v3/auth/tokens?nocatalog', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } }, ...(scope ? { scope } : {}) } },
    });
  const admin = async () => {
    const res = await login('admin', cloud.credentials!.password, { project: { name: 'admin', domain: { id: 'default' } } });
    assert.equal(res.status, 201);
    return res.headers.get('x-subject-token')!;
  };
  const token = await admin();
  const makeUser = async (name: string, password?: string) => {
    const res = await request('POST', '/identity/v3/users', { token, body: { user: { name, ...(password ? { password } : {}) } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.user.id as string;
  };
  return {
    cloud,
    request,
    login,
    admin,
    token,
    makeUser,
    async stop() {
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** How many password hashes a call runs, by the pool's count of finished jobs. */
async function hashesOf(fn: () => Promise<unknown>): Promise<number> {
  const before = kdfStats().completed;
  await fn();
  return kdfStats().completed - before;
}

const assertTooMany = (res: { status: number; headers: Headers; body: any }, window: number) => {
  assert.equal(res.status, 429);
  assert.equal(res.body.error.code, 429);
  assert.equal(res.body.error.title, 'Too Many Requests');
  const after = Number(res.headers.get('retry-after'));
  assert.ok(after >= 1 && after <= window, `Retry-After ${res.headers.get('retry-after')}`);
  return after;
};

describe('failed logins per user', () => {
  let c: Awaited<ReturnType<typeof start>>;
  before(async () => {
    c = await start({ loginUserFailures: '3', loginAddressAttempts: '1000', loginWindow: '2', kdfThreads: '1' });
  });
  after(() => c?.stop());

  test('a user is refused with 429 and Retry-After after N failures; another user still logs in; the right password works after the window', async () => {
    await c.makeUser('alice', 'alice-pw');
    await c.makeUser('bob', 'bob-pw');
    for (let i = 0; i < 3; i++) assert.equal((await c.login('alice', 'wrong')).status, 401);
    const refused = await c.login('alice', 'alice-pw');
    const wait = assertTooMany(refused, 2);
    assert.equal(await hashesOf(() => c.login('alice', 'wrong')), 0, 'a refused login hashes nothing');
    assert.equal((await c.login('bob', 'bob-pw')).status, 201);
    await sleep(wait * 1000 + 100);
    assert.equal((await c.login('alice', 'alice-pw')).status, 201);
  });

  test('an unknown user and a wrong password are answered alike, after the same hashing', async () => {
    await c.makeUser('carol', 'carol-pw');
    await c.makeUser('dave');
    const answers = [];
    for (const [name, password] of [
      ['carol', 'wrong'],
      ['nobody', 'wrong'],
      ['dave', 'anything'],
    ] as const) {
      let res: Awaited<ReturnType<typeof c.login>> | undefined;
      assert.equal(await hashesOf(async () => (res = await c.login(name, password))), 1, `${name}: one hash`);
      answers.push({ status: res!.status, body: res!.body, www: res!.headers.get('www-authenticate') });
    }
    assert.equal(answers[0]!.status, 401);
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    // Unknown names are limited as known ones are: a 429 tells nothing either.
    for (let i = 0; i < 2; i++) await c.login('nobody', 'wrong');
    assertTooMany(await c.login('nobody', 'wrong'), 2);
  });

  test('names, ids and secrets longer than Keystone takes are a 400, before any hashing or counting', async () => {
    for (const [name, password] of [
      ['n'.repeat(256), 'pw'],
      ['erin', 'p'.repeat(4097)],
    ]) {
      let res: Awaited<ReturnType<typeof c.login>> | undefined;
      assert.equal(await hashesOf(async () => (res = await c.login(name!, password!))), 0);
      assert.equal(res!.status, 400, JSON.stringify(res!.body));
    }
  });

  test('application credentials: by name, an unknown one costs the same hashing; a real one still logs in', async () => {
    const adminId = (await c.request('GET', '/identity/v3/users?name=admin', { token: c.token })).body.users[0].id;
    const created = await c.request('POST', `/identity/v3/users/${adminId}/application_credentials`, {
      token: c.token,
      body: { application_credential: { name: 'ci' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const secret = created.body.application_credential.secret as string;
    const byName = (name: string, user: string, s: string) =>
      c.request('POST', '/identity/v3/auth/tokens?nocatalog', {
        body: {
          auth: {
            identity: { methods: ['application_credential'], application_credential: { name, secret: s, user: { name: user, domain: { id: 'default' } } } },
          },
        },
      });
    let ok: Awaited<ReturnType<typeof byName>> | undefined;
    assert.equal(await hashesOf(async () => (ok = await byName('ci', 'admin', secret))), 1);
    assert.equal(ok!.status, 201);
    const answers = [];
    for (const [name, user] of [
      ['ci', 'admin'],
      ['missing', 'admin'],
      ['ci', 'nobody-at-all'],
    ] as const) {
      let res: Awaited<ReturnType<typeof byName>> | undefined;
      assert.equal(await hashesOf(async () => (res = await byName(name, user, 'wrong'))), 1, `${name} of ${user}: one hash`);
      answers.push({ status: res!.status, body: res!.body });
    }
    assert.equal(answers[0]!.status, 401);
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
  });
});

describe('unsuccessful logins per address', () => {
  let c: Awaited<ReturnType<typeof start>>;
  before(async () => {
    c = await start({ loginUserFailures: '1000', loginAddressAttempts: '3', loginWindow: '60', kdfThreads: '1' });
  });
  after(() => c?.stop());

  test('an address is refused with 429 and Retry-After after N failures, whichever users it tries', async () => {
    await c.makeUser('erin', 'erin-pw');
    for (const name of ['erin', 'frank', 'grace']) assert.equal((await c.login(name, 'wrong')).status, 401);
    assertTooMany(await c.login('erin', 'erin-pw'), 60);
  });
});

describe('password hashing beside I/O', () => {
  let c: Awaited<ReturnType<typeof start>>;
  before(async () => {
    c = await start({ loginUserFailures: '1000', loginAddressAttempts: '1000', kdfThreads: '1', kdfQueue: '100' });
  });
  after(() => c?.stop());

  test('an image downloads while a flood of logins waits for the hashing thread', async () => {
    const image = await c.request('POST', '/image/v2/images', { token: c.token, body: { name: 'flood', disk_format: 'raw', container_format: 'bare' } });
    const data = randomBytes(4 * 1024 * 1024);
    const put = await fetch(`${c.cloud.config.publicUrl}/image/v2/images/${image.body.id}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': c.token, 'content-type': 'application/octet-stream' },
      body: data,
    });
    assert.equal(put.status, 204);
    let answered = 0;
    const flood = Array.from({ length: 24 }, () => c.login('admin', 'wrong').then((r) => (answered++, r.status)));
    // Every login has reached the hashing thread: running, waiting, or (on a fast machine, the
    // first ones while the last still arrive) already answered.
    const queued = () => kdfStats().running + kdfStats().waiting + answered;
    for (let i = 0; queued() < 24; i++) {
      assert.ok(i < 1000, 'the logins never queued for the hashing thread');
      await sleep(10);
    }
    const res = await fetch(`${c.cloud.config.publicUrl}/image/v2/images/${image.body.id}/file`, { headers: { 'x-auth-token': c.token } });
    const got = Buffer.from(await res.arrayBuffer());
    const pending = kdfStats();
    assert.ok(got.equals(data));
    // Served beside the hashing thread, not behind the logins that were queued before it.
    assert.ok(pending.waiting >= 12, `most logins still wait once the download is done: ${JSON.stringify(pending)}`);
    assert.deepEqual(new Set(await Promise.all(flood)), new Set([401]));
  });

  test('past the queue bound a login is answered 503 at once, with Retry-After', async () => {
    const small = await start({ kdfThreads: '1', kdfQueue: '2', loginAddressAttempts: '1000' });
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => small.login(`queued${i}`, 'wrong')));
      const busy = answers.filter((r) => r.status === 503);
      assert.ok(busy.length > 0, 'some logins found the queue full');
      assert.equal(busy.length + answers.filter((r) => r.status === 401).length, 12);
      assert.equal(busy[0]!.body.error.code, 503);
      assert.equal(busy[0]!.headers.get('retry-after'), '1');
    } finally {
      await small.stop();
    }
  });
});
