import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestCloud, openstack, nubo, cliAs, cliFails, type TestCloud } from '../helpers/cloud.ts';

// Groups, group grants and inherited grants through the real openstack CLI: what a group or an
// inherited grant gives shows in the member's tokens, and stops when it is taken back.
let c: TestCloud;
let adminEnv: Record<string, string>;
const os = cliAs(() => adminEnv);
const json = async (...args: string[]) => JSON.parse(await os(...args, '-f', 'json'));

before(async () => {
  c = await startTestCloud();
  adminEnv = {
    OS_AUTH_URL: `${c.url}/identity`,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: 'admin',
    OS_PASSWORD: c.cloud.credentials!.password,
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
  };
});
after(() => c?.stop());

const as = (user: string, password: string, project: string, domain = 'Default') => ({
  ...adminEnv,
  OS_USERNAME: user,
  OS_PASSWORD: password,
  OS_PROJECT_NAME: project,
  OS_USER_DOMAIN_NAME: domain,
  OS_PROJECT_DOMAIN_NAME: domain,
});

test('a role granted to a group is in its member tokens, and leaves them with the membership', async () => {
  const group = await json('group', 'create', 'devs', '--description', 'the developers');
  assert.equal(group.name, 'devs');
  assert.equal(group.domain_id, 'default');
  assert.equal(group.description, 'the developers');
  const project = await json('project', 'create', 'gp');
  await os('user', 'create', '--password', 'gpw', 'gu');
  await os('group', 'add', 'user', 'devs', 'gu');
  assert.match(await os('group', 'contains', 'user', 'devs', 'gu'), /gu in group devs/);
  assert.deepEqual(
    (await json('user', 'list', '--group', 'devs')).map((u: { Name: string }) => u.Name),
    ['gu'],
  );

  // Without a grant the member has no token on the project.
  assert.match(await cliFails(as('gu', 'gpw', 'gp'), 'token', 'issue'), /HTTP 401/);
  await os('role', 'add', '--project', 'gp', '--group', 'devs', 'member');
  assert.deepEqual(await json('role', 'assignment', 'list', '--group', 'devs', '--names'), [
    { Role: 'member', User: '', Group: 'devs@Default', Project: 'gp@Default', Domain: '', System: '', Inherited: false },
  ]);
  // Effective: the group's grant as the member holds it, with the role it implies.
  const effective = await json('role', 'assignment', 'list', '--user', 'gu', '--effective', '--names');
  assert.deepEqual(effective.map((a: { Role: string; Project: string }) => `${a.Role} ${a.Project}`).sort(), ['member gp@Default', 'reader gp@Default']);

  const gu = as('gu', 'gpw', 'gp');
  const token = JSON.parse(await cliAs(() => gu)('token', 'issue', '-f', 'json'));
  assert.equal(token.project_id, project.id);
  assert.equal((await openstack(gu, 'project', 'show', 'gp')).code, 0);
  assert.equal((await openstack(gu, 'network', 'list')).code, 0);
  const roles = await c.request('GET', '/identity/v3/auth/tokens', { token: token.id, headers: { 'x-subject-token': token.id } });
  assert.deepEqual(roles.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);

  await os('group', 'remove', 'user', 'devs', 'gu');
  const contains = await openstack(adminEnv, 'group', 'contains', 'user', 'devs', 'gu');
  assert.match(contains.stdout + contains.stderr, /gu not in group devs/);
  // The token already issued is no longer valid, and no new one is issued.
  assert.equal((await c.request('GET', '/identity/v3/auth/tokens', { token: token.id, headers: { 'x-subject-token': token.id } })).status, 401);
  assert.match(await cliFails(gu, 'token', 'issue'), /HTTP 401/);

  // Back in the group, then the grant itself taken away.
  await os('group', 'add', 'user', 'devs', 'gu');
  assert.equal((await openstack(gu, 'token', 'issue')).code, 0);
  await os('role', 'remove', '--project', 'gp', '--group', 'devs', 'member');
  assert.match(await cliFails(gu, 'token', 'issue'), /HTTP 401/);
  assert.deepEqual(await json('role', 'assignment', 'list', '--group', 'devs'), []);

  await os('group', 'set', 'devs', '--name', 'developers', '--description', 'renamed');
  const shown = await json('group', 'show', 'developers');
  assert.equal(shown.description, 'renamed');
  assert.deepEqual(
    (await json('group', 'list', '--user', 'gu')).map((g: { Name: string }) => g.Name),
    ['developers'],
  );
  await os('group', 'delete', 'developers');
  assert.deepEqual(await json('group', 'list'), []);
});

test('a role inherited from a domain or a project reaches the projects below, in tokens too', async () => {
  await os('domain', 'create', 'd1');
  const top = await json('project', 'create', '--domain', 'd1', 'top');
  const child = await json('project', 'create', '--domain', 'd1', '--parent', 'top', 'child');
  assert.equal(child.parent_id, top.id);
  await os('user', 'create', '--domain', 'd1', '--password', 'ipw', 'iu');
  const iu = (project: string) => as('iu', 'ipw', project, 'd1');
  assert.match(await cliFails(iu('child'), 'token', 'issue'), /HTTP 401/);

  await os('role', 'add', '--domain', 'd1', '--user', 'iu', '--user-domain', 'd1', '--inherited', 'member');
  const listed = await json('role', 'assignment', 'list', '--user', 'iu', '--user-domain', 'd1', '--names');
  assert.deepEqual(listed, [{ Role: 'member', User: 'iu@d1', Group: '', Project: '', Domain: 'd1', System: '', Inherited: true }]);
  const ids = await json('role', 'assignment', 'list', '--user', 'iu', '--user-domain', 'd1', '--inherited');
  assert.deepEqual(ids, [
    {
      ...listed[0],
      Role: (await json('role', 'show', 'member')).id,
      User: (await json('user', 'show', '--domain', 'd1', 'iu')).id,
      Domain: (await json('domain', 'show', 'd1')).id,
    },
  ]);
  for (const project of ['top', 'child']) {
    const token = JSON.parse(await cliAs(() => iu(project))('token', 'issue', '-f', 'json'));
    assert.equal(token.project_id, project === 'top' ? top.id : child.id);
  }
  // An inherited grant is not a grant on the domain itself.
  const onDomain = await cliFails({ ...iu('top'), OS_PROJECT_NAME: '', OS_PROJECT_DOMAIN_NAME: '', OS_DOMAIN_NAME: 'd1' }, 'token', 'issue');
  assert.match(onDomain, /HTTP 401/);
  const effective = await json('role', 'assignment', 'list', '--user', 'iu', '--user-domain', 'd1', '--effective', '--names');
  assert.deepEqual(
    effective
      .filter((a: { Role: string }) => a.Role === 'member')
      .map((a: { Project: string }) => a.Project)
      .sort(),
    ['child@d1', 'top@d1'],
  );

  await os('role', 'remove', '--domain', 'd1', '--user', 'iu', '--user-domain', 'd1', '--inherited', 'member');
  assert.match(await cliFails(iu('child'), 'token', 'issue'), /HTTP 401/);

  // Inherited from a project: the projects below it, not the project itself; a group's likewise.
  await os('group', 'create', '--domain', 'd1', 'ops');
  await os('group', 'add', 'user', '--group-domain', 'd1', '--user-domain', 'd1', 'ops', 'iu');
  await os('role', 'add', '--project', 'top', '--project-domain', 'd1', '--group', 'ops', '--group-domain', 'd1', '--inherited', 'member');
  assert.equal((await openstack(iu('child'), 'token', 'issue')).code, 0);
  assert.match(await cliFails(iu('top'), 'token', 'issue'), /HTTP 401/);
});

test('project tags filter the list, and a project shows its parents and its subtree', async () => {
  await os('project', 'create', '--tag', 'blue', '--tag', 'big', 'tagged1');
  await os('project', 'create', '--tag', 'blue', 'tagged2');
  await os('project', 'create', '--parent', 'tagged1', 'under1');
  await os('project', 'create', '--parent', 'under1', 'under2');
  const names = async (...filter: string[]) => (await json('project', 'list', ...filter)).map((p: { Name: string }) => p.Name).sort();
  assert.deepEqual(await names('--tags', 'blue,big'), ['tagged1']);
  assert.deepEqual(await names('--tags-any', 'big,blue'), ['tagged1', 'tagged2']);
  assert.deepEqual((await names('--not-tags', 'blue,big')).includes('tagged1'), false);
  assert.deepEqual(
    (await names('--not-tags-any', 'blue')).filter((n: string) => n.startsWith('tagged')),
    [],
  );

  // openstackclient adds the tag to the project's through a set: their order is its own.
  await os('project', 'set', '--tag', 'red', 'tagged2');
  assert.deepEqual((await json('project', 'show', 'tagged2')).tags.sort(), ['blue', 'red']);

  // openstack asks for the ids: the path up to the domain, the tree below.
  const [tagged1, under1, under2] = await Promise.all(['tagged1', 'under1', 'under2'].map((n) => json('project', 'show', n)));
  const shown = await json('project', 'show', '--parents', '--children', 'under1');
  assert.deepEqual(shown.parents, { [tagged1.id]: { default: null } });
  assert.deepEqual(shown.subtree, { [under2.id]: null });
  assert.deepEqual((await json('project', 'show', '--children', 'tagged1')).subtree, { [under1.id]: { [under2.id]: null } });
  // A project that has children is not deleted.
  assert.match(await cliFails(adminEnv, 'project', 'delete', 'under1'), /not a leaf/);
});

test('nubo speaks the same group grammar and prints what openstack prints', async () => {
  const n = cliAs(() => adminEnv, nubo);
  const created = JSON.parse(await n('group', 'create', 'ngroup', '--description', 'from nubo', '-f', 'json'));
  assert.deepEqual(created, await json('group', 'show', 'ngroup'));
  await n('project', 'create', 'nproj');
  await n('user', 'create', '--password', 'npw', 'nuser');
  await n('group', 'add', 'user', 'ngroup', 'nuser');
  assert.equal(await n('group', 'contains', 'user', 'ngroup', 'nuser'), 'nuser in group ngroup\n');
  await n('role', 'add', '--project', 'nproj', '--group', 'ngroup', 'member');
  await n('role', 'add', '--domain', 'default', '--group', 'ngroup', '--inherited', 'reader');
  for (const args of [
    ['role', 'assignment', 'list', '--group', 'ngroup', '--names'],
    ['role', 'assignment', 'list', '--group', 'ngroup', '--inherited'],
    ['role', 'assignment', 'list', '--user', 'nuser', '--effective', '--names'],
    ['group', 'list', '--user', 'nuser', '--long'],
    ['user', 'list', '--group', 'ngroup'],
  ])
    assert.deepEqual(JSON.parse(await n(...args, '-f', 'json')), await json(...args), args.join(' '));
  assert.equal((await openstack(as('nuser', 'npw', 'nproj'), 'token', 'issue')).code, 0);

  await n('role', 'remove', '--project', 'nproj', '--group', 'ngroup', 'member');
  await n('role', 'remove', '--domain', 'default', '--group', 'ngroup', '--inherited', 'reader');
  await n('group', 'remove', 'user', 'ngroup', 'nuser');
  const not = await nubo(adminEnv, 'group', 'contains', 'user', 'ngroup', 'nuser');
  assert.equal(not.stderr, 'nuser not in group ngroup\n');
  await n('group', 'set', 'ngroup', '--description', 'changed');
  assert.equal((await json('group', 'show', 'ngroup')).description, 'changed');
  await n('group', 'delete', 'ngroup');
  assert.match(await cliFails(adminEnv, 'group', 'show', 'ngroup'), /No group with a name or ID of 'ngroup' exists/);
});

test("openstacksdk's create_project and create_domain, which send description null, succeed", async () => {
  // The SDK that openstackclient ships, as Ansible's modules call it.
  const script = `
import json, openstack
c = openstack.connect()
d = c.create_domain('sdk-domain')
p = c.create_project('sdk-project', domain_id=d.id)
c.update_project(p.id, description='now described')
child = c.identity.create_project(name='sdk-child', parent_id=p.id, description=None, tags=['t1'])
print(json.dumps({'domain': d.description, 'project': c.get_project(p.id).description, 'parent': child.parent_id == p.id, 'tags': child.tags}))
`;
  const run = promisify(execFile);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { env: { ...env, ...adminEnv } });
  assert.deepEqual(JSON.parse(stdout), { domain: '', project: 'now described', parent: true, tags: ['t1'] });
});
