import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startTestCloud, tempDir } from '../helpers/cloud.ts';

// Nubo's side of object storage without a radosgw: what the two settings put in the catalog and
// in Keystone, across restarts of a cloud whose database persists.
const dir = tempDir('nubo-object-settings-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('object_store_url must be an http(s) URL; the password file must be readable and not empty', () => {
  const load = (env: Record<string, string>) => loadConfig({ dataDir: dir }, env);
  assert.equal(load({ NUBO_OBJECT_STORE_URL: 'http://127.0.0.1:7480/' }).objectStoreUrl, 'http://127.0.0.1:7480');
  assert.throws(() => load({ NUBO_OBJECT_STORE_URL: 'radosgw:7480' }), /object_store_url: expected http\(s\) URL/);
  writeFileSync(join(dir, 'pw'), 'secret\n');
  assert.equal(load({ NUBO_OBJECT_STORE_PASSWORD_FILE: join(dir, 'pw') }).objectStorePassword, 'secret');
  assert.throws(() => load({ NUBO_OBJECT_STORE_PASSWORD_FILE: join(dir, 'nothing') }), /object_store_password_file: cannot read .*nothing/);
  writeFileSync(join(dir, 'empty'), '\n');
  assert.throws(() => load({ NUBO_OBJECT_STORE_PASSWORD_FILE: join(dir, 'empty') }), /object_store_password_file: .*empty is empty/);
});

test("the catalog names radosgw's Swift and S3 APIs, and radosgw's user follows its password file", async () => {
  const data = join(dir, 'data');
  const passwordFile = join(dir, 'radosgw-password');
  const start = (url: string) =>
    startTestCloud({ dataDir: data, database: join(data, 'db'), env: { NUBO_OBJECT_STORE_URL: url, NUBO_OBJECT_STORE_PASSWORD_FILE: passwordFile } });

  writeFileSync(passwordFile, 'first-password\n');
  let cloud = await start('http://127.0.0.1:7480');
  const token = await cloud.adminToken();
  const catalog = (await cloud.request('GET', `/identity/v3/auth/catalog`, { token })).body.catalog as { type: string; name: string; endpoints: { url: string }[] }[];
  const urls = (type: string) => catalog.filter((s) => s.type === type).flatMap((s) => s.endpoints.map((e) => e.url));
  // The token's own project is the Swift account, on both interfaces.
  const project = (await cloud.request('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } })).body.token.project.id;
  assert.deepEqual(urls('object-store'), [`http://127.0.0.1:7480/swift/v1/AUTH_${project}`, `http://127.0.0.1:7480/swift/v1/AUTH_${project}`]);
  assert.deepEqual(urls('s3'), ['http://127.0.0.1:7480', 'http://127.0.0.1:7480']);
  assert.equal(catalog.find((s) => s.type === 'object-store')?.name, 'swift');
  const service = await cloud.login('radosgw', 'first-password', 'service');
  const roles = (await cloud.request('GET', '/identity/v3/auth/tokens?nocatalog', { token: service, headers: { 'x-subject-token': service } })).body.token.roles;
  assert.deepEqual(roles.map((r: { name: string }) => r.name), ['service']);
  await cloud.stop();

  // radosgw moved and its password changed: the next start follows both, and makes nothing twice.
  writeFileSync(passwordFile, 'second-password\n');
  cloud = await start('http://127.0.0.1:7481');
  try {
    await assert.rejects(cloud.login('radosgw', 'first-password', 'service'), /401/);
    await cloud.login('radosgw', 'second-password', 'service');
    const again = await cloud.adminToken();
    const services = (await cloud.request('GET', '/identity/v3/services?type=object-store', { token: again })).body.services;
    assert.equal(services.length, 1);
    const endpoints = (await cloud.request('GET', `/identity/v3/endpoints?service_id=${services[0].id}`, { token: again })).body.endpoints;
    assert.deepEqual(endpoints.map((e: { url: string }) => e.url), ['http://127.0.0.1:7481/swift/v1/AUTH_$(project_id)s', 'http://127.0.0.1:7481/swift/v1/AUTH_$(project_id)s']);
    const users = (await cloud.request('GET', '/identity/v3/users?name=radosgw', { token: again })).body.users;
    assert.equal(users.length, 1);
  } finally {
    await cloud.stop();
  }
});
