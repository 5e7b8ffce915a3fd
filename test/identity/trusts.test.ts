import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cliAs, openstack, spawnNubo, type SpawnedNubo } from '../helpers/cloud.ts';

// A trust through the real openstack CLI: the trustee acts in the trustor's project with a
// trust-scoped token, and stops being able to once the trust is deleted.
let nubo: SpawnedNubo;
let projectId: string;
let alice: { id: string };
let bob: { id: string };
before(async () => {
  nubo = await spawnNubo();
  const admin = cliAs(() => nubo.env);
  projectId = JSON.parse(await admin('project', 'create', 'proj-a', '-f', 'json')).id;
  await admin('project', 'create', 'proj-b');
  alice = JSON.parse(await admin('user', 'create', '--project', 'proj-a', '--password', 'alice-pw', 'alice', '-f', 'json'));
  bob = JSON.parse(await admin('user', 'create', '--project', 'proj-b', '--password', 'bob-pw', 'bob', '-f', 'json'));
  await admin('role', 'add', '--project', 'proj-a', '--user', 'alice', 'member');
  await admin('role', 'add', '--project', 'proj-b', '--user', 'bob', 'member');
});
after(async () => {
  await nubo?.stop();
});

const as = (user: string, password: string, project?: string) => {
  const env: Record<string, string> = { ...nubo.env, OS_USERNAME: user, OS_PASSWORD: password };
  if (project) env.OS_PROJECT_NAME = project;
  else delete env.OS_PROJECT_NAME;
  return env;
};
/** The trustee's environment for a trust-scoped token: no project, the trust's id. */
const viaTrust = (trustId: string) => {
  const { OS_PROJECT_DOMAIN_NAME: _, ...env } = as('bob', 'bob-pw');
  return { ...env, OS_TRUST_ID: trustId };
};

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(nubo.url + path, {
    method,
    headers: { 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, token: res.headers.get('x-subject-token') };
}

async function tokenOf(env: Record<string, string>): Promise<string> {
  return JSON.parse(await cliAs(() => env)('token', 'issue', '-f', 'json')).id;
}

test('a trust lets the trustee see the trustor project, and ends when deleted', async () => {
  const aliceCli = cliAs(() => as('alice', 'alice-pw', 'proj-a'));
  // A private image of proj-a: bob cannot see it with his own token.
  const image = await api('POST', '/image/v2/images', await tokenOf(as('alice', 'alice-pw', 'proj-a')), {
    name: 'secret-a',
    disk_format: 'raw',
    container_format: 'bare',
  });
  assert.equal(image.status, 201);
  const own = JSON.parse(await cliAs(() => as('bob', 'bob-pw', 'proj-b'))('image', 'list', '-f', 'json')) as { Name: string }[];
  assert.ok(!own.some((i) => i.Name === 'secret-a'));

  // A trustor delegates only roles it holds on the project.
  const refused = await openstack(as('alice', 'alice-pw', 'proj-a'), 'trust', 'create', '--project', projectId, '--role', 'admin', alice.id, bob.id);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /HTTP 404/);

  const trust = JSON.parse(await aliceCli('trust', 'create', '--project', projectId, '--role', 'member', alice.id, bob.id, '-f', 'json'));
  assert.equal(trust.trustor_user_id, alice.id);
  assert.equal(trust.trustee_user_id, bob.id);
  assert.equal(trust.project_id, projectId);
  assert.equal(trust.impersonation, false);
  assert.match(trust.roles, /member/);
  const shown = JSON.parse(await aliceCli('trust', 'show', trust.id, '-f', 'json'));
  assert.equal(shown.id, trust.id);

  const bobTrust = cliAs(() => viaTrust(trust.id));
  const token = JSON.parse(await bobTrust('token', 'issue', '-f', 'json'));
  assert.equal(token.project_id, projectId);
  assert.equal(token.user_id, bob.id);
  const seen = JSON.parse(await bobTrust('image', 'list', '-f', 'json')) as { Name: string }[];
  assert.ok(
    seen.some((i) => i.Name === 'secret-a'),
    'the trust-scoped token sees the trustor project',
  );
  assert.equal((await openstack(viaTrust(trust.id), 'server', 'list')).code, 0);

  // The token's body says which trust it comes from.
  const check = await fetch(`${nubo.url}/identity/v3/auth/tokens?nocatalog`, { headers: { 'x-auth-token': token.id, 'x-subject-token': token.id } });
  assert.equal(check.status, 200);
  const t = ((await check.json()) as { token: Record<string, any> }).token;
  assert.deepEqual(t['OS-TRUST:trust'], { id: trust.id, trustor_user: { id: alice.id }, trustee_user: { id: bob.id }, impersonation: false });
  assert.deepEqual(t.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);

  await aliceCli('trust', 'delete', trust.id);
  const after = await openstack(viaTrust(trust.id), 'image', 'list');
  assert.notEqual(after.code, 0);
  assert.equal((await api('GET', '/image/v2/images', token.id)).status, 401);
});

test('impersonation: the token is the trustor, and a trustor that loses the role takes the trust tokens with it', async () => {
  const trust = JSON.parse(
    await cliAs(() => as('alice', 'alice-pw', 'proj-a'))(
      'trust',
      'create',
      '--project',
      projectId,
      '--role',
      'member',
      '--impersonate',
      alice.id,
      bob.id,
      '-f',
      'json',
    ),
  );
  assert.equal(trust.impersonation, true);
  const token = JSON.parse(await cliAs(() => viaTrust(trust.id))('token', 'issue', '-f', 'json'));
  assert.equal(token.user_id, alice.id);
  assert.equal((await api('GET', '/image/v2/images', token.id)).status, 200);

  const list = JSON.parse(await cliAs(() => nubo.env)('trust', 'list', '-f', 'json')) as { ID: string }[];
  assert.ok(list.some((t) => t.ID === trust.id));

  await cliAs(() => nubo.env)('role', 'remove', '--project', 'proj-a', '--user', 'alice', 'member');
  try {
    assert.equal((await api('GET', '/image/v2/images', token.id)).status, 401);
  } finally {
    await cliAs(() => nubo.env)('role', 'add', '--project', 'proj-a', '--user', 'alice', 'member');
  }
});

test('remaining uses, expiry, and who may see a trust', async () => {
  const aliceToken = await tokenOf(as('alice', 'alice-pw', 'proj-a'));
  const bobToken = await tokenOf(as('bob', 'bob-pw', 'proj-b'));
  const create = (extra: Record<string, unknown>) =>
    api('POST', '/identity/v3/OS-TRUST/trusts', aliceToken, {
      trust: { trustor_user_id: alice.id, trustee_user_id: bob.id, impersonation: false, project_id: projectId, roles: [{ name: 'member' }], ...extra },
    });
  const trustLogin = (id: string) =>
    api('POST', '/identity/v3/auth/tokens?nocatalog', '', {
      auth: { identity: { methods: ['password'], password: { user: { id: bob.id, password: 'bob-pw' } } }, scope: { 'OS-TRUST:trust': { id } } },
    });

  const once = await create({ remaining_uses: 1 });
  assert.equal(once.status, 201);
  assert.equal(once.body.trust.remaining_uses, 1);
  assert.deepEqual(Object.keys(once.body.trust).sort(), [
    'allow_redelegation',
    'deleted_at',
    'expires_at',
    'id',
    'impersonation',
    'links',
    'project_id',
    'redelegated_trust_id',
    'redelegation_count',
    'remaining_uses',
    'roles',
    'roles_links',
    'trustee_user_id',
    'trustor_user_id',
  ]);
  assert.equal((await trustLogin(once.body.trust.id)).status, 201);
  const spent = await trustLogin(once.body.trust.id);
  assert.equal(spent.status, 403);
  assert.equal(spent.body.error.message, `No remaining uses for trust: ${once.body.trust.id}.`);

  // Someone who is neither trustor nor trustee may not use or read it.
  const notTrustee = await api('POST', '/identity/v3/auth/tokens', '', {
    auth: {
      identity: { methods: ['password'], password: { user: { id: alice.id, password: 'alice-pw' } } },
      scope: { 'OS-TRUST:trust': { id: once.body.trust.id } },
    },
  });
  assert.equal(notTrustee.status, 403);
  assert.equal((await api('GET', `/identity/v3/OS-TRUST/trusts?trustor_user_id=${alice.id}`, bobToken)).status, 403);
  const forBob = await api('GET', `/identity/v3/OS-TRUST/trusts?trustee_user_id=${bob.id}`, bobToken);
  assert.equal(forBob.status, 200);
  assert.ok(forBob.body.trusts.some((t: { id: string }) => t.id === once.body.trust.id));
  assert.equal((await api('GET', '/identity/v3/OS-TRUST/trusts', bobToken)).status, 403);
  const roles = await api('GET', `/identity/v3/OS-TRUST/trusts/${once.body.trust.id}/roles`, bobToken);
  assert.deepEqual(
    roles.body.roles.map((r: { name: string }) => r.name),
    ['member'],
  );
  assert.equal((await api('DELETE', `/identity/v3/OS-TRUST/trusts/${once.body.trust.id}`, bobToken)).status, 403);

  const soon = new Date(Date.now() + 2000);
  const brief = await create({ expires_at: soon.toISOString() });
  assert.equal(brief.status, 201);
  assert.equal(brief.body.trust.expires_at, `${soon.toISOString().slice(0, 19)}.000000Z`);
  const login = await trustLogin(brief.body.trust.id);
  assert.equal(login.status, 201);
  assert.ok(new Date(login.body.token.expires_at).getTime() <= soon.getTime(), 'a trust token does not outlive its trust');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await trustLogin(brief.body.trust.id)).status, 404);
  assert.equal((await api('GET', `/identity/v3/OS-TRUST/trusts/${brief.body.trust.id}`, aliceToken)).status, 404);

  // A trust-scoped token cannot be rescoped, nor make another trust.
  const live = await create({});
  const scoped = (await trustLogin(live.body.trust.id)).token!;
  const rescope = await api('POST', '/identity/v3/auth/tokens', '', {
    auth: { identity: { methods: ['token'], token: { id: scoped } }, scope: { project: { id: projectId } } },
  });
  assert.equal(rescope.status, 403);
});
