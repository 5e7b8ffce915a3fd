import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freshPostgres, spawnNubo, startTestCloud, tempDir } from '../helpers/cloud.ts';

async function tokenFor(url: string, user: string, password: string) {
  const res = await fetch(`${url}/identity/v3/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  assert.equal(res.status, 201);
  return res.headers.get('x-subject-token')!;
}

const get = (url: string, token: string) => fetch(url, { headers: { 'x-auth-token': token } });

test('a restart, clean or after kill -9, keeps the credentials, the data and the issued tokens', async () => {
  const dataDir = tempDir();
  const first = await spawnNubo({ dataDir });
  const password = first.env.OS_PASSWORD ?? '';
  assert.ok(password.length >= 12);
  assert.equal(statSync(join(dataDir, 'clouds.yaml')).mode & 0o077, 0, 'credentials are private to their owner');
  assert.match(readFileSync(join(dataDir, 'openrc'), 'utf8'), new RegExp(`OS_AUTH_URL='${first.url}/identity'`));
  const token = await tokenFor(first.url, 'admin', password);
  const created = await fetch(`${first.url}/identity/v3/projects`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify({ project: { name: 'kept' } }),
  });
  assert.equal(created.status, 201);
  await first.stop('SIGTERM');

  const second = await spawnNubo({ dataDir, port: Number(new URL(first.url).port) });
  assert.equal(second.env.OS_PASSWORD, password, 'the second start reuses the credentials');
  assert.match(second.output(), /admin password/);
  assert.equal((await get(`${second.url}/identity/v3/projects?name=kept`, token)).status, 200, 'a token survives a restart');
  const projects = await (await get(`${second.url}/identity/v3/projects?name=kept`, token)).json();
  assert.equal(projects.projects.length, 1);
  await second.stop('SIGKILL');

  const third = await spawnNubo({ dataDir });
  const again = await tokenFor(third.url, 'admin', password);
  const users = await (await get(`${third.url}/identity/v3/users?name=admin`, again)).json();
  assert.equal(users.users.length, 1, 'one admin, not a second bootstrap');
  const catalog = await (await get(`${third.url}/identity/v3/auth/catalog`, again)).json();
  assert.ok(
    catalog.catalog.every((s: { endpoints: { url: string }[] }) => s.endpoints.every((e) => e.url.startsWith(third.url))),
    'endpoints follow the new port',
  );
  await third.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('two controllers on one PostgreSQL share tokens, and a revocation in one reaches the other', async () => {
  const pg = await freshPostgres();
  const a = await startTestCloud({ database: pg.url });
  const b = await startTestCloud({ database: pg.url });
  try {
    assert.equal(b.cloud.credentials, undefined, 'only the first controller created the admin');
    const token = await a.adminToken();
    assert.equal((await b.request('GET', '/identity/v3/users', { token })).status, 200, 'b validates a token a issued');
    const other = await a.adminToken();
    assert.equal((await b.request('GET', '/identity/v3/users', { token: other })).status, 200);
    assert.equal((await a.request('DELETE', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': other } })).status, 204);
    // b learns of the revocation through LISTEN/NOTIFY, shortly after the commit.
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await b.request('GET', '/identity/v3/users', { token: other })).status;
    }
    assert.equal(status, 401);
  } finally {
    await a.stop();
    await b.stop();
    await pg.drop();
  }
});
