import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fromCloud, resolveOptions, sessionOptions } from '../../src/client/config.ts';
import { searchPath } from '../../src/client/clouds.ts';
import { tempDir } from '../helpers/cloud.ts';

const cloud = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ auth: { auth_url: 'http://file/identity', ...auth }, ...extra });
const writeClouds = (path: string, clouds: Record<string, unknown>) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, stringify({ clouds }));
};

test('flags beat OS_* variables, which beat the cloud of clouds.yaml', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'clouds.yaml');
    writeClouds(file, { c: cloud({ username: 'from-file', project_name: 'file-project', password: 'pw' }, { region_name: 'FileRegion', interface: 'internal' }) });
    const env = { HOME: dir, OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 'c', OS_USERNAME: 'from-env', OS_PROJECT_NAME: 'env-project', OS_REGION_NAME: '' };
    const o = await resolveOptions({ project_name: 'flag-project' }, env, dir);
    assert.equal(o.username, 'from-env');
    assert.equal(o.project_name, 'flag-project');
    assert.equal(o.auth_url, 'http://file/identity');
    assert.equal(o.region_name, 'FileRegion', 'an empty variable counts as unset');
    assert.equal(o.interface, 'internal');
    assert.equal(o.password, 'pw');
    // --os-cloud names another cloud than OS_CLOUD.
    await assert.rejects(resolveOptions({ cloud: 'other' }, env, dir), /Cloud other was not found in .*clouds\.yaml\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clouds.yaml is searched like openstacksdk: OS_CLIENT_CONFIG_FILE, ./, the user config dir, /etc/openstack', async () => {
  const dir = tempDir();
  try {
    const home = join(dir, 'home');
    const cwd = join(dir, 'work');
    const env: NodeJS.ProcessEnv = { HOME: home, OS_CLOUD: 'c' };
    assert.deepEqual(searchPath('clouds', env, cwd).filter((p) => p.endsWith('.yaml')), [
      join(cwd, 'clouds.yaml'),
      join(home, '.config/openstack/clouds.yaml'),
      '/etc/openstack/clouds.yaml',
    ]);

    writeClouds(join(home, '.config/openstack/clouds.yaml'), { c: cloud({ username: 'in-home' }) });
    assert.equal((await resolveOptions({}, env, cwd)).username, 'in-home');
    writeClouds(join(cwd, 'clouds.yaml'), { c: cloud({ username: 'in-cwd' }) });
    assert.equal((await resolveOptions({}, env, cwd)).username, 'in-cwd');
    const named = join(dir, 'named.yaml');
    writeClouds(named, { c: cloud({ username: 'named' }) });
    assert.equal((await resolveOptions({}, { ...env, OS_CLIENT_CONFIG_FILE: named }, cwd)).username, 'named');
    assert.equal((await resolveOptions({}, { ...env, XDG_CONFIG_HOME: join(home, '.config') }, dir)).username, 'in-home');

    // secure.yaml beside it adds the secrets.
    writeFileSync(join(cwd, 'secure.yaml'), stringify({ clouds: { c: { auth: { password: 'secret' } } } }));
    const o = await resolveOptions({}, env, cwd);
    assert.equal(o.password, 'secret');
    assert.equal(o.username, 'in-cwd');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a clouds.yaml entry: auth keys, settings beside auth, and the first of regions', () => {
  assert.deepEqual(fromCloud({ auth: { auth_url: 'u', username: 'a', extra_thing: 'x' }, regions: ['R1', 'R2'], identity_api_version: 3, auth_type: 'password' }), {
    auth_url: 'u',
    username: 'a',
    region_name: 'R1',
    identity_api_version: '3',
    auth_type: 'password',
  });
  assert.equal(fromCloud({ auth: {}, regions: [{ name: 'R3' }], region_name: 'R0' }).region_name, 'R0');
});

test('password options become credentials and a scope, with the default domain filled in', () => {
  const base = { auth_url: 'http://x/identity', username: 'u', password: 'p' };
  assert.deepEqual(sessionOptions({ ...base, project_name: 'p1', region_name: 'R' }), {
    authUrl: 'http://x/identity',
    credentials: { method: 'password', user: { name: 'u', domain: { id: 'default' } }, password: 'p' },
    scope: { project: { name: 'p1', domain: { id: 'default' } } },
    region: 'R',
    interface: undefined,
  });
  const named = sessionOptions({ ...base, user_domain_name: 'D', project_name: 'p1', project_domain_id: 'd2' });
  assert.deepEqual(named.credentials, { method: 'password', user: { name: 'u', domain: { name: 'D' } }, password: 'p' });
  assert.deepEqual(named.scope, { project: { name: 'p1', domain: { id: 'd2' } } });
  assert.deepEqual(sessionOptions({ ...base, project_id: 'pid', project_name: 'ignored' }).scope, { project: { id: 'pid' } });
  assert.deepEqual(sessionOptions({ ...base, domain_name: 'D' }).scope, { domain: { name: 'D' } });
  assert.equal(sessionOptions(base).scope, undefined, 'no scope asked: the server picks the default project');
  assert.deepEqual(sessionOptions({ ...base, default_domain: 'other' }).credentials, { method: 'password', user: { name: 'u', domain: { id: 'other' } }, password: 'p' });
  assert.throws(() => sessionOptions({ ...base, project_name: 'p', domain_name: 'D' }), /cannot be scoped to multiple targets/);
  assert.throws(() => sessionOptions({ username: 'u', password: 'p' }), /^ClientError: Missing value auth-url required for auth plugin password$/);
  assert.throws(() => sessionOptions({ auth_url: 'x', username: 'u' }), /Missing value password required/);
  assert.throws(() => sessionOptions({ ...base, auth_type: 'v2password' }), /Unsupported auth type v2password/);
});

test('token and application credential options', () => {
  const url = { auth_url: 'http://x/identity' };
  assert.deepEqual(sessionOptions({ ...url, token: 't', project_id: 'p' }).credentials, { method: 'token', token: 't' });
  assert.deepEqual(sessionOptions({ ...url, token: 't', project_id: 'p' }).scope, { project: { id: 'p' } });
  const ac = sessionOptions({ ...url, auth_type: 'v3applicationcredential', application_credential_id: 'a', application_credential_secret: 's', project_name: 'p' });
  assert.deepEqual(ac.credentials, { method: 'application_credential', id: 'a', name: undefined, user: undefined, secret: 's' });
  const byName = sessionOptions({ ...url, application_credential_name: 'n', application_credential_secret: 's', username: 'u' });
  assert.deepEqual(byName.credentials, { method: 'application_credential', id: undefined, name: 'n', user: { name: 'u', domain: { id: 'default' } }, secret: 's' });
  assert.throws(() => sessionOptions({ ...url, auth_type: 'v3applicationcredential', application_credential_id: 'a' }), /Missing value application_credential_secret required for auth plugin v3applicationcredential/);
});

test('the compute microversion: from clouds.yaml, a variable or a flag, within what nubo implements; latest and none are negotiated', async () => {
  const { COMPUTE_MAX } = await import('../../src/client/microversion.ts');
  const base = { auth_url: 'http://x/identity', username: 'u', password: 'p' };
  assert.equal(sessionOptions({ ...base, compute_api_version: '2.60' }).computeApiVersion, '2.60');
  assert.equal(sessionOptions({ ...base, compute_api_version: '2' }).computeApiVersion, '2.1');
  assert.equal(sessionOptions({ ...base, compute_api_version: '2.latest' }).computeApiVersion, undefined);
  assert.equal(sessionOptions(base).computeApiVersion, undefined);
  assert.throws(() => sessionOptions({ ...base, compute_api_version: '2.999' }), { message: `versions supported by client: 2.1 - ${COMPUTE_MAX}` });
  assert.equal(fromCloud({ auth: base, compute_api_version: 2.53 }).compute_api_version, '2.53');
});
