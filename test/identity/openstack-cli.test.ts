import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnNubo, openstack, type SpawnedNubo } from '../helpers/cloud.ts';

// The real openstack CLI (Debian's python3-openstackclient) is the judge of compatibility.
let nubo: SpawnedNubo;
before(async () => {
  nubo = await spawnNubo();
});
after(async () => {
  await nubo?.stop();
});

const os = (...args: string[]) => openstack(nubo.env, ...args);
const ok = async (...args: string[]) => {
  const r = await os(...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};

test('the admin from openrc issues a token and reads the catalog', async () => {
  const token = JSON.parse(await ok('token', 'issue', '-f', 'json'));
  assert.match(token.id, /^[A-Za-z0-9_-]{100,}$/);
  assert.match(token.project_id, /^[0-9a-f]{32}$/);
  const catalog = JSON.parse(await ok('catalog', 'list', '-f', 'json')) as { Type: string; Endpoints: unknown }[];
  assert.deepEqual(catalog.map((s) => s.Type).sort(), ['alarming', 'block-storage', 'compute', 'identity', 'image', 'load-balancer', 'metric', 'network', 'orchestration', 'volumev3']);
  const identity = await ok('catalog', 'show', 'identity', '-f', 'json');
  assert.ok(identity.includes(`${nubo.url}/identity`));
});

test('project, user, role grant and role assignment list --names, then the new user is confined', async () => {
  const project = JSON.parse(await ok('project', 'create', 'demo', '-f', 'json'));
  assert.equal(project.name, 'demo');
  assert.equal(project.domain_id, 'default');
  const user = JSON.parse(await ok('user', 'create', '--project', 'demo', '--password', 'x', 'demo', '-f', 'json'));
  assert.equal(user.default_project_id, project.id);
  await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
  const assignments = JSON.parse(await ok('role', 'assignment', 'list', '--user', 'demo', '--names', '-f', 'json'));
  assert.deepEqual(assignments, [
    { Role: 'member', User: 'demo@Default', Group: '', Project: 'demo@Default', Domain: '', System: '', Inherited: false },
  ]);

  const demo = { ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'x', OS_PROJECT_NAME: 'demo' };
  const token = await openstack(demo, 'token', 'issue', '-f', 'json');
  assert.equal(token.code, 0, token.stderr);
  assert.equal(JSON.parse(token.stdout).project_id, project.id);

  const refused = await openstack(demo, 'user', 'list');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /HTTP 403/);

  const wrong = await openstack({ ...demo, OS_PASSWORD: 'nope' }, 'token', 'issue');
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /HTTP 401/);
});

test('role remove takes effect on the tokens already issued', async () => {
  await ok('project', 'create', 'p2');
  await ok('user', 'create', '--project', 'p2', '--password', 'pw2', 'u2');
  await ok('role', 'add', '--project', 'p2', '--user', 'u2', 'member');
  const u2 = { ...nubo.env, OS_USERNAME: 'u2', OS_PASSWORD: 'pw2', OS_PROJECT_NAME: 'p2' };
  assert.equal((await openstack(u2, 'token', 'issue')).code, 0);
  await ok('role', 'remove', '--project', 'p2', '--user', 'u2', 'member');
  const after = await openstack(u2, 'token', 'issue');
  assert.notEqual(after.code, 0);
  assert.match(after.stderr, /HTTP 401/);
});
