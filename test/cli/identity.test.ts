import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openstack, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { nuboArgv } from '../helpers/nubo-command.ts';

const root = new URL('../..', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let cloud: TestCloud;
let home: string;
let admin: Record<string, string>;

/** The nubo CLI as a child process, with only the given OS_* variables and an empty HOME, so
 * that no clouds.yaml of the machine's user gets in. */
function nubo(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [...nuboArgv, ...args], { cwd: root, env: { ...clean, HOME: home, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const ok = async (env: Record<string, string>, ...args: string[]) => {
  const r = await nubo(env, ...args);
  assert.equal(r.code, 0, `nubo ${args.join(' ')} failed: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
};
const json = async (env: Record<string, string>, ...args: string[]) => JSON.parse(await ok(env, ...args, '-f', 'json'));

/** A failure prints one line on stderr, nothing on stdout, and exits with 1. */
function failsWith(r: Run, line: RegExp) {
  assert.equal(r.code, 1, `expected a failure, got: ${r.stdout}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n').length, 2, `one line expected on stderr, got:\n${r.stderr}`);
  assert.match(r.stderr.trimEnd(), line);
}

before(async () => {
  cloud = await startTestCloud();
  home = tempDir('nubo-cli-home-');
  const c = cloud.cloud.credentials!;
  admin = {
    OS_AUTH_URL: c.authUrl,
    OS_USERNAME: c.username,
    OS_PASSWORD: c.password,
    OS_PROJECT_NAME: c.projectName,
    OS_USER_DOMAIN_NAME: c.userDomainName,
    OS_PROJECT_DOMAIN_NAME: c.projectDomainName,
    OS_REGION_NAME: c.regionName,
  };
});
after(async () => {
  await cloud?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('token issue from OS_* variables, and from --os-cloud with the clouds.yaml the cloud wrote', async () => {
  const adminProject = (await cloud.request('GET', '/identity/v3/projects?name=admin', { token: await cloud.adminToken() })).body.projects[0].id;
  const fromEnv = await json(admin, 'token', 'issue');
  assert.deepEqual(Object.keys(fromEnv), ['expires', 'id', 'project_id', 'user_id']);
  assert.match(fromEnv.expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
  assert.equal(fromEnv.project_id, adminProject);

  const fromFile = await json({ OS_CLIENT_CONFIG_FILE: cloud.cloud.files!.cloudsYaml }, '--os-cloud', 'nubo', 'token', 'issue');
  assert.equal(fromFile.project_id, adminProject);
  assert.equal(fromFile.user_id, fromEnv.user_id);
  // The token is real: the cloud validates it.
  const check = await cloud.request('GET', '/identity/v3/auth/tokens?nocatalog', { token: fromFile.id, headers: { 'x-subject-token': fromFile.id } });
  assert.equal(check.status, 200);

  // A flag beats the file: the wrong password given on the command line is the one used.
  const wrong = await nubo({ OS_CLIENT_CONFIG_FILE: cloud.cloud.files!.cloudsYaml, OS_CLOUD: 'nubo' }, '--os-password', 'wrong', 'token', 'issue');
  failsWith(wrong, /^nubo: The request you have made requires authentication\. \(HTTP 401\)/);
});

test('project, user, role add and role assignment list --names: the same as the openstack CLI shows', async () => {
  const project = await json(admin, 'project', 'create', 'demo', '--description', 'Demo project', '--tag', 'a', '-f', 'json');
  assert.equal(project.name, 'demo');
  assert.equal(project.domain_id, 'default');
  assert.deepEqual(project.tags, ['a']);
  const user = await json(admin, 'user', 'create', '--project', 'demo', '--password', 'x', '--email', 'demo@example.org', 'demo');
  assert.equal(user.default_project_id, project.id);
  assert.equal(await ok(admin, 'role', 'add', '--project', 'demo', '--user', 'demo', 'member'), '');

  const assignments = await json(admin, 'role', 'assignment', 'list', '--user', 'demo', '--names');
  assert.deepEqual(assignments, [{ Role: 'member', User: 'demo@Default', Group: '', Project: 'demo@Default', Domain: '', System: '', Inherited: false }]);
  const ids = await json(admin, 'role', 'assignment', 'list', '--project', project.id);
  assert.deepEqual(ids.map((a: { User: string; Project: string }) => [a.User, a.Project]), [[user.id, project.id]]);

  // The real openstack CLI, the judge, shows exactly the same, as JSON and as a table.
  const osc = async (...args: string[]) => {
    const r = await openstack(admin, ...args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const same = [
    ['project', 'show', 'demo'],
    ['project', 'show', 'demo', '-f', 'json'],
    ['user', 'show', 'demo', '-f', 'json'],
    ['role', 'assignment', 'list', '--user', 'demo', '--names', '-f', 'json'],
    ['role', 'assignment', 'list', '--project', 'demo', '--names'],
    ['project', 'list', '--long'],
  ];
  for (const args of same) assert.equal(await ok(admin, ...args), await osc(...args), args.join(' '));

  // The user now works in the project, and is refused what only an admin may do.
  const demo = { ...admin, OS_USERNAME: 'demo', OS_PASSWORD: 'x', OS_PROJECT_NAME: 'demo' };
  assert.equal((await json(demo, 'token', 'issue')).project_id, project.id);
  failsWith(await nubo(demo, 'user', 'list'), /^nubo: Policy doesn't allow identity:list_users to be performed\. \(HTTP 403\)( \(Request-ID: [\w-]+\))?$/);
  failsWith(await nubo({ ...demo, OS_PASSWORD: 'nope' }, 'token', 'issue'), /^nubo: .* \(HTTP 401\)/);

  await ok(admin, 'role', 'remove', '--project', 'demo', '--user', 'demo', 'member');
  assert.deepEqual(await json(admin, 'role', 'assignment', 'list', '--user', 'demo'), []);
  assert.equal(await ok(admin, 'role', 'assignment', 'list', '--user', 'demo'), '\n', 'an empty list prints an empty line');
});

test('-f value -c id, -f yaml, -f shell, and -c that names nothing', async () => {
  const id = (await json(admin, 'project', 'create', 'formats')).id;
  assert.equal(await ok(admin, 'project', 'show', 'formats', '-f', 'value', '-c', 'id'), `${id}\n`);
  // -c keeps the resource's order of fields, not the order asked, as cliff does.
  assert.equal(await ok(admin, 'project', 'show', id, '-f', 'value', '-c', 'name', '-c', 'enabled'), 'True\nformats\n');
  assert.equal(await ok(admin, 'project', 'show', 'formats', '-f', 'shell', '-c', 'name', '-c', 'tags', '--prefix', 'p_'), 'p_name="formats"\np_tags="[]"\n');
  assert.match(await ok(admin, 'project', 'show', 'formats', '-f', 'yaml'), /^description: ''\ndomain_id: default\nenabled: true\n/);
  assert.match(await ok(admin, 'project', 'list', '-f', 'value', '-c', 'Name'), /^admin\n(.*\n)*formats\n/);
  assert.match(await ok(admin, 'project', 'list', '-c', 'ID'), /^\+-{34}\+\n\| ID {31}\|\n\+-{34}\+\n/);
  failsWith(await nubo(admin, 'project', 'list', '-c', 'nope'), /^nubo: No recognized column names in \['nope'\]\. Recognized columns are \('ID', 'Name'\)\.$/);
});

test('names that match nothing, and deleting several at once', async () => {
  failsWith(await nubo(admin, 'project', 'show', 'no-such-project'), /^nubo: No project with a name or ID of 'no-such-project' exists\.$/);
  failsWith(await nubo(admin, 'role', 'add', '--project', 'admin', '--user', 'admin', 'no-such-role'), /^nubo: No role with a name or ID of 'no-such-role' exists\.$/);
  failsWith(await nubo({ ...admin, OS_AUTH_URL: '' }, 'token', 'issue'), /^nubo: Missing value auth-url required for auth plugin password$/);

  await ok(admin, 'project', 'create', 'gone');
  const r = await nubo(admin, 'project', 'delete', 'gone', 'never-was');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to delete project with name or ID 'never-was': No project with a name or ID of 'never-was' exists.\nnubo: 1 of 2 projects failed to delete.\n");
  failsWith(await nubo(admin, 'project', 'show', 'gone'), /No project with a name or ID of 'gone' exists/);
});

test('set changes a project, a user and a domain', async () => {
  await ok(admin, 'project', 'create', 'before', '--tag', 'x', '--tag', 'y');
  await ok(admin, 'project', 'set', 'before', '--name', 'after', '--disable', '--description', 'changed', '--remove-tag', 'x');
  const p = await json(admin, 'project', 'show', 'after');
  assert.deepEqual([p.enabled, p.description, p.tags], [false, 'changed', ['y']]);

  await ok(admin, 'user', 'create', 'settable', '--password', 'one');
  await ok(admin, 'user', 'set', 'settable', '--email', 'e@example.org', '--project', 'after', '--password', 'two');
  const u = await json(admin, 'user', 'show', 'settable');
  assert.equal(u.email, 'e@example.org');
  assert.equal(u.default_project_id, p.id);

  const d = await json(admin, 'domain', 'create', 'dom', '--description', 'a domain');
  assert.deepEqual([d.name, d.enabled, d.description], ['dom', true, 'a domain']);
  await ok(admin, 'domain', 'set', 'dom', '--disable');
  assert.equal((await json(admin, 'domain', 'show', d.id)).enabled, false);
  await ok(admin, 'domain', 'delete', 'dom');
  assert.ok(!(await json(admin, 'domain', 'list')).some((x: { Name: string }) => x.Name === 'dom'));
});

test('an application credential logs in, and a token from OS_TOKEN is rescoped, then revoked', async () => {
  const cred = await json(admin, 'application', 'credential', 'create', 'ci', '--secret', 's3cret', '--role', 'member', '--description', 'for CI');
  assert.equal(cred.roles, 'member');
  assert.equal(cred.secret, 's3cret');
  const viaCred = await json(
    { OS_AUTH_URL: admin.OS_AUTH_URL!, OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: cred.id, OS_APPLICATION_CREDENTIAL_SECRET: 's3cret' },
    'token',
    'issue',
  );
  assert.equal(viaCred.project_id, cred.project_id);
  const listed = await json(admin, 'application', 'credential', 'list');
  assert.deepEqual(listed, [{ ID: cred.id, Name: 'ci', 'Project ID': cred.project_id, Description: 'for CI', 'Expires At': null }]);
  await ok(admin, 'application', 'credential', 'delete', 'ci');

  const first = await json(admin, 'token', 'issue');
  const rescoped = await json({ OS_AUTH_URL: admin.OS_AUTH_URL!, OS_TOKEN: first.id, OS_PROJECT_NAME: 'admin' }, 'token', 'issue');
  assert.equal(rescoped.project_id, first.project_id);
  assert.notEqual(rescoped.id, first.id);
  await ok(admin, 'token', 'revoke', first.id);
  failsWith(await nubo({ OS_AUTH_URL: admin.OS_AUTH_URL!, OS_TOKEN: first.id, OS_PROJECT_NAME: 'admin' }, 'token', 'issue'), /\(HTTP 401\)/);
});

test('a command reuses the token of the one before, validated, and logs in again once it is revoked', async () => {
  const cache = tempDir('nubo-cli-cache-');
  const env = { ...admin, XDG_CACHE_HOME: cache };
  const logins = (r: Run) => r.stderr.split('\n').filter((l) => l.startsWith('REQ: POST') && l.includes('/auth/tokens')).length;
  const debug = async (e: Record<string, string>) => {
    const r = await nubo(e, '--debug', 'project', 'list');
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  assert.equal(logins(await debug(env)), 1);
  const dir = join(cache, 'nubo', 'tokens');
  const [file] = readdirSync(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, file!)).mode & 0o777, 0o600);
  const kept = JSON.parse(readFileSync(join(dir, file!), 'utf8')).token;
  const second = await debug(env);
  assert.equal(logins(second), 0, 'the second command logged in again');
  assert.ok(!second.stderr.includes(admin.OS_PASSWORD!) && !second.stderr.includes(kept), 'the debug output shows a secret');
  // Another password is another login, whatever is kept; token issue always makes a new token.
  failsWith(await nubo({ ...env, OS_PASSWORD: 'wrong' }, 'project', 'list'), /\(HTTP 401\)/);
  assert.notEqual((await json(env, 'token', 'issue')).id, kept);
  assert.equal(logins(await debug({ ...env, NUBO_TOKEN_CACHE: 'off' })), 1);
  // A revoked token costs a login, not a failure.
  await ok(env, 'token', 'revoke', kept);
  assert.equal(logins(await debug(env)), 1);
  assert.notEqual(JSON.parse(readFileSync(join(dir, file!), 'utf8')).token, kept);
  rmSync(cache, { recursive: true, force: true });
});

test('catalog, endpoints, services and regions', async () => {
  const catalog = await json(admin, 'catalog', 'list');
  assert.deepEqual(catalog.map((s: { Type: string }) => s.Type).sort(), ['alarming', 'block-storage', 'compute', 'identity', 'image', 'load-balancer', 'metric', 'network', 'orchestration', 'volumev3']);
  const identity = await json(admin, 'catalog', 'show', 'identity');
  assert.ok(identity.endpoints.some((e: { interface: string; url: string }) => e.interface === 'public' && e.url === `${cloud.url}/identity`));
  assert.match(await ok(admin, 'catalog', 'show', 'keystone'), /\| endpoints \| RegionOne {2,}\|\n\| {11}\| {3}internal: http/);
  failsWith(await nubo(admin, 'catalog', 'show', 'nothing'), /^nubo: service nothing not found$/);

  const endpoints = await json(admin, 'endpoint', 'list', '--interface', 'public');
  assert.equal(endpoints.length, 10);
  assert.ok(endpoints.every((e: Record<string, unknown>) => e.Interface === 'public' && e.Region === 'RegionOne' && e.Enabled === true));
  assert.ok(endpoints.some((e: Record<string, unknown>) => e['Service Name'] === 'keystone' && e['Service Type'] === 'identity'));
  assert.deepEqual((await json(admin, 'service', 'list')).map((s: { Type: string }) => s.Type).sort(), ['alarming', 'block-storage', 'compute', 'identity', 'image', 'load-balancer', 'metric', 'network', 'orchestration', 'volumev3']);
  assert.deepEqual(await json(admin, 'region', 'list'), [{ Region: 'RegionOne', 'Parent Region': null, Description: '' }]);
  failsWith(await nubo({ ...admin, OS_REGION_NAME: 'Elsewhere' }, 'project', 'list'), /^nubo: public endpoint for identity service in Elsewhere region not found$/);
});
