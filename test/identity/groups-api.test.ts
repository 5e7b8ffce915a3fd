import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema, nullable, obj, str, uri } from '../helpers/schema.ts';

// Groups, grants (direct and OS-INHERIT), role assignments and the project tree over HTTP, each
// response checked against the shape Keystone's api-ref documents.
let c: TestCloud;
let token: string;
const V3 = '/identity/v3';

before(async () => {
  c = await startTestCloud();
  token = await c.adminToken();
});
after(() => c?.stop());

const call = (method: string, path: string, body?: unknown, asToken = token) => c.request(method, V3 + path, { token: asToken, body });
async function ok(method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200) {
  const res = await call(method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

// The api-ref's shapes, written as JSON schemas.
const ref = obj({ id: str, name: str }, ['id']);
const scopedRef = obj({ id: str, name: str, domain: ref }, ['id']);
const collectionLinks = obj({ self: uri, previous: nullable(str), next: nullable(str) }, ['self']);
const Group = obj({ id: str, name: str, domain_id: str, description: nullable(str), links: obj({ self: uri }) });
const Project = obj(
  {
    id: str,
    name: str,
    domain_id: nullable(str),
    description: nullable(str),
    enabled: { type: 'boolean' },
    parent_id: nullable(str),
    is_domain: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string', pattern: '^[^,/]*$', maxLength: 255 }, maxItems: 80, uniqueItems: true },
    options: { type: 'object' },
    links: obj({ self: uri }),
  },
  ['id', 'name', 'domain_id', 'enabled', 'parent_id', 'is_domain', 'tags', 'links'],
  true,
);
const Assignment = {
  ...obj(
    {
      role: obj({ id: str, name: str, domain: ref }, ['id']),
      user: scopedRef,
      group: scopedRef,
      scope: {
        ...obj({ project: scopedRef, domain: ref, 'OS-INHERIT:inherited_to': { const: 'projects' } }, []),
        oneOf: [{ required: ['project'] }, { required: ['domain'] }],
      },
      links: obj({ assignment: uri, membership: uri, prior_role: uri }, ['assignment']),
    },
    ['role', 'scope', 'links'],
  ),
  oneOf: [{ required: ['user'] }, { required: ['group'] }],
};
const Assignments = obj({ role_assignments: { type: 'array', items: Assignment }, links: collectionLinks });
const Roles = obj({ roles: { type: 'array', items: obj({ id: str, name: str }, ['id', 'name'], true) }, links: collectionLinks });
const Tags = obj({ tags: { type: 'array', items: str }, links: obj({ self: uri }) });

const assignments = async (query: string) => {
  const body = await ok('GET', `/role_assignments?${query}`);
  assertSchema(Assignments, body, `role_assignments?${query}`);
  return body.role_assignments as {
    role: { id: string; name?: string };
    user?: { id: string; name?: string };
    group?: { id: string };
    scope: Record<string, { id: string; name?: string }>;
    links: Record<string, string>;
  }[];
};

test('groups: CRUD, filters and members, as the api-ref shows them', async () => {
  const created = await ok('POST', '/groups', { group: { name: 'g1', description: 'first' } });
  assertSchema(obj({ group: Group }), created, 'POST /v3/groups');
  const g = created.group;
  assert.equal(g.domain_id, 'default');
  await ok('POST', '/groups', { group: { name: 'g2', description: null } });
  assert.equal((await call('POST', '/groups', { group: { name: 'g1' } })).status, 409);
  assert.equal((await call('POST', '/groups', { group: { name: 'g3', domain_id: 'nope' } })).status, 404);

  const listed = await ok('GET', '/groups?name=g1');
  assertSchema(obj({ groups: { type: 'array', items: Group }, links: collectionLinks }), listed, 'GET /v3/groups');
  assert.deepEqual(
    listed.groups.map((x: { id: string }) => x.id),
    [g.id],
  );
  assert.equal((await ok('GET', '/groups?domain_id=default')).groups.length, 2);
  assert.equal((await ok('GET', '/groups?domain_id=other')).groups.length, 0);

  const patched = await ok('PATCH', `/groups/${g.id}`, { group: { description: 'changed' } });
  assertSchema(obj({ group: Group }), patched, 'PATCH /v3/groups/{id}');
  assert.equal(patched.group.description, 'changed');

  const user = (await ok('POST', '/users', { user: { name: 'member1', password: 'pw1' } })).user;
  assert.equal((await call('HEAD', `/groups/${g.id}/users/${user.id}`)).status, 404);
  assert.equal((await call('PUT', `/groups/${g.id}/users/${user.id}`)).status, 204);
  assert.equal((await call('HEAD', `/groups/${g.id}/users/${user.id}`)).status, 204);
  assert.equal((await call('GET', `/groups/${g.id}/users/${user.id}`)).status, 204);
  assert.equal((await call('PUT', `/groups/${g.id}/users/nobody`)).status, 404);
  const members = await ok('GET', `/groups/${g.id}/users`);
  assertSchema(
    obj({ users: { type: 'array', items: obj({ id: str, name: str, domain_id: str }, ['id', 'name', 'domain_id'], true) }, links: collectionLinks }),
    members,
  );
  assert.deepEqual(
    members.users.map((u: { id: string }) => u.id),
    [user.id],
  );
  const groups = await ok('GET', `/users/${user.id}/groups`);
  assertSchema(obj({ groups: { type: 'array', items: Group }, links: collectionLinks }), groups);
  assert.deepEqual(
    groups.groups.map((x: { id: string }) => x.id),
    [g.id],
  );
  // A user reads its own groups, not another's.
  const own = await c.login('member1', 'pw1');
  assert.equal((await call('GET', `/users/${user.id}/groups`, undefined, own)).status, 200);
  assert.equal((await call('GET', `/groups`, undefined, own)).status, 403);

  assert.equal((await call('DELETE', `/groups/${g.id}/users/${user.id}`)).status, 204);
  assert.equal((await call('DELETE', `/groups/${g.id}/users/${user.id}`)).status, 404);
  assert.equal((await call('DELETE', `/groups/${g.id}`)).status, 204);
  assert.equal((await call('GET', `/groups/${g.id}`)).status, 404);
});

test('group grants on projects and domains, checked, listed, and in role_assignments with names', async () => {
  const g = (await ok('POST', '/groups', { group: { name: 'granted' } })).group;
  const p = (await ok('POST', '/projects', { project: { name: 'gproj' } })).project;
  const u = (await ok('POST', '/users', { user: { name: 'gmember', password: 'gpw' } })).user;
  const member = (await ok('GET', '/roles?name=member')).roles[0];
  await ok('PUT', `/groups/${g.id}/users/${u.id}`, undefined, 204);

  assert.equal((await call('HEAD', `/projects/${p.id}/groups/${g.id}/roles/${member.id}`)).status, 404);
  assert.equal((await call('PUT', `/projects/${p.id}/groups/${g.id}/roles/${member.id}`)).status, 204);
  assert.equal((await call('HEAD', `/projects/${p.id}/groups/${g.id}/roles/${member.id}`)).status, 204);
  assert.equal((await call('GET', `/projects/${p.id}/groups/${g.id}/roles/${member.id}`)).status, 204);
  const roles = await ok('GET', `/projects/${p.id}/groups/${g.id}/roles`);
  assertSchema(Roles, roles);
  assert.deepEqual(
    roles.roles.map((r: { name: string }) => r.name),
    ['member'],
  );
  assert.equal((await call('PUT', `/domains/default/groups/${g.id}/roles/${member.id}`)).status, 204);
  assert.equal((await call('HEAD', `/domains/default/groups/${g.id}/roles/${member.id}`)).status, 204);

  // The member's token on the project carries the group's role and those it implies.
  const scoped = await c.login('gmember', 'gpw', 'gproj');
  const validated = await c.request('GET', `${V3}/auth/tokens`, { token, headers: { 'x-subject-token': scoped } });
  assert.deepEqual(validated.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);

  const direct = await assignments(`group.id=${g.id}&include_names`);
  assert.equal(direct.length, 2);
  const onProject = direct.find((a) => a.scope.project)!;
  assert.deepEqual(onProject.group, { id: g.id, name: 'granted', domain: { id: 'default', name: 'Default' } });
  assert.equal(onProject.links.assignment, `${c.url}${V3}/projects/${p.id}/groups/${g.id}/roles/${member.id}`);

  const effective = await assignments(`user.id=${u.id}&effective`);
  assert.ok(effective.every((a) => a.user?.id === u.id && !a.group));
  const viaGroup = effective.find((a) => a.scope.project?.id === p.id && a.role.id === member.id)!;
  assert.equal(viaGroup.links.membership, `${c.url}${V3}/groups/${g.id}/users/${u.id}`);
  assert.equal((await call('GET', `/role_assignments?group.id=${g.id}&effective`)).status, 400);
  const filtered = await assignments(`role.id=${member.id}&scope.project.id=${p.id}`);
  assert.deepEqual(
    filtered.map((a) => [a.group?.id, a.role.id, a.scope.project?.id]),
    [[g.id, member.id, p.id]],
  );

  assert.equal((await call('DELETE', `/projects/${p.id}/groups/${g.id}/roles/${member.id}`)).status, 204);
  assert.equal((await call('DELETE', `/projects/${p.id}/groups/${g.id}/roles/${member.id}`)).status, 404);
  assert.equal((await c.request('GET', `${V3}/auth/tokens`, { token, headers: { 'x-subject-token': scoped } })).status, 404);
});

test('OS-INHERIT grants reach the projects below their target, in tokens and in effective assignments', async () => {
  const d = (await ok('POST', '/domains', { domain: { name: 'inh', description: null } })).domain;
  assert.equal(d.description, '');
  const top = (await ok('POST', '/projects', { project: { name: 'top', domain_id: d.id, description: null } })).project;
  const mid = (await ok('POST', '/projects', { project: { name: 'mid', parent_id: top.id } })).project;
  const leaf = (await ok('POST', '/projects', { project: { name: 'leaf', parent_id: mid.id } })).project;
  assert.equal(mid.domain_id, d.id);
  assert.equal(leaf.parent_id, mid.id);
  const u = (await ok('POST', '/users', { user: { name: 'heir', domain_id: d.id, password: 'hpw' } })).user;
  const member = (await ok('GET', '/roles?name=member')).roles[0];
  const login = async (project: { id: string }) =>
    c.request('POST', `${V3}/auth/tokens`, {
      body: { auth: { identity: { methods: ['password'], password: { user: { id: u.id, password: 'hpw' } } }, scope: { project: { id: project.id } } } },
    });

  const inherit = `/OS-INHERIT/projects/${mid.id}/users/${u.id}/roles/${member.id}/inherited_to_projects`;
  assert.equal((await call('PUT', inherit)).status, 204);
  assert.equal((await call('HEAD', inherit)).status, 204);
  assert.equal((await call('GET', inherit)).status, 204);
  assert.equal((await login(leaf)).status, 201);
  assert.equal((await login(mid)).status, 401);
  assert.equal((await login(top)).status, 401);
  const inherited = await assignments(`scope.OS-INHERIT:inherited_to=projects&user.id=${u.id}`);
  assert.equal(inherited.length, 1);
  assert.equal(inherited[0]!.scope['OS-INHERIT:inherited_to'] as unknown, 'projects');
  assert.equal(inherited[0]!.links.assignment, `${c.url}${V3}${inherit}`);
  assert.equal((await call('DELETE', inherit)).status, 204);
  assert.equal((await login(leaf)).status, 401);

  const g = (await ok('POST', '/groups', { group: { name: 'heirs', domain_id: d.id } })).group;
  await ok('PUT', `/groups/${g.id}/users/${u.id}`, undefined, 204);
  const onDomain = `/OS-INHERIT/domains/${d.id}/groups/${g.id}/roles/${member.id}/inherited_to_projects`;
  assert.equal((await call('PUT', onDomain)).status, 204);
  const listedRoles = await ok('GET', `/OS-INHERIT/domains/${d.id}/groups/${g.id}/roles/inherited_to_projects`);
  assertSchema(Roles, listedRoles);
  assert.deepEqual(
    listedRoles.roles.map((r: { id: string }) => r.id),
    [member.id],
  );
  for (const p of [top, mid, leaf]) assert.equal((await login(p)).status, 201);
  const effective = await assignments(`user.id=${u.id}&effective&include_names`);
  const reached = effective
    .filter((a) => a.role.id === member.id)
    .map((a) => a.scope.project!.name)
    .sort();
  assert.deepEqual(reached, ['leaf', 'mid', 'top']);
  // The projects a user may scope to follow the same grants.
  const projects = await ok('GET', `/users/${u.id}/projects`);
  assert.deepEqual(projects.projects.map((p: { name: string }) => p.name).sort(), ['leaf', 'mid', 'top']);
  const subtree = await assignments(`scope.project.id=${top.id}&include_subtree&effective`);
  assert.equal(subtree.filter((a) => a.user?.id === u.id && a.role.id === member.id).length, 3);
  assert.equal((await call('GET', '/role_assignments?include_subtree')).status, 400);
});

test('the project tree: parents and subtree as lists and as ids, depth, leaves, is_domain', async () => {
  const a = (await ok('POST', '/projects', { project: { name: 'ta' } })).project;
  const b = (await ok('POST', '/projects', { project: { name: 'tb', parent_id: a.id } })).project;
  const cc = (await ok('POST', '/projects', { project: { name: 'tc', parent_id: b.id } })).project;
  const adminId = (await ok('GET', '/users?name=admin')).users[0].id;
  const reader = (await ok('GET', '/roles?name=reader')).roles[0];
  // The lists hold only the projects the caller holds a role on.
  for (const p of [a, cc]) await ok('PUT', `/projects/${p.id}/users/${adminId}/roles/${reader.id}`, undefined, 204);

  const withLists = await ok('GET', `/projects/${b.id}?parents_as_list&subtree_as_list`);
  const wrapped = { type: 'array', items: obj({ project: Project }) };
  assertSchema(obj({ project: { ...Project, properties: { ...Project.properties, parents: wrapped, subtree: wrapped } } }), withLists);
  assert.deepEqual(
    withLists.project.parents.map((p: { project: { id: string } }) => p.project.id),
    [a.id],
  );
  assert.deepEqual(
    withLists.project.subtree.map((p: { project: { id: string } }) => p.project.id),
    [cc.id],
  );
  const withIds = await ok('GET', `/projects/${cc.id}?parents_as_ids`);
  assert.deepEqual(withIds.project.parents, { [b.id]: { [a.id]: { default: null } } });
  assert.deepEqual((await ok('GET', `/projects/${a.id}?subtree_as_ids`)).project.subtree, { [b.id]: { [cc.id]: null } });
  assert.equal((await call('GET', `/projects/${a.id}?parents_as_list&parents_as_ids`)).status, 400);
  assert.deepEqual(
    (await ok('GET', `/projects?parent_id=${a.id}`)).projects.map((p: { id: string }) => p.id),
    [b.id],
  );

  // Keystone's default depth of 5, counted from the domain's top projects.
  const d = (await ok('POST', '/projects', { project: { name: 'td', parent_id: cc.id } })).project;
  const e = (await ok('POST', '/projects', { project: { name: 'te', parent_id: d.id } })).project;
  const tooDeep = await call('POST', '/projects', { project: { name: 'tf', parent_id: e.id } });
  assert.equal(tooDeep.status, 403);
  assert.match(tooDeep.body.error.message, /Max hierarchy depth reached/);
  assert.equal((await call('POST', '/projects', { project: { name: 'tx', parent_id: a.id, domain_id: 'elsewhere' } })).status, 400);
  // A project stays where it was made; it is enabled only under enabled parents, disabled only
  // over a disabled subtree, and nothing is made under a disabled one.
  assert.equal((await call('PATCH', `/projects/${b.id}`, { project: { parent_id: cc.id } })).status, 403);
  assert.equal((await call('PATCH', `/projects/${b.id}`, { project: { parent_id: a.id, description: 'same place' } })).status, 200);
  assert.equal((await call('PATCH', `/projects/${b.id}`, { project: { domain_id: 'elsewhere' } })).status, 400);
  assert.equal((await call('PATCH', `/projects/${a.id}`, { project: { enabled: false } })).status, 403);
  assert.equal((await call('PATCH', `/projects/${e.id}`, { project: { enabled: false } })).status, 200);
  assert.equal((await call('PATCH', `/projects/${d.id}`, { project: { enabled: false } })).status, 200);
  const underDisabled = await call('POST', '/projects', { project: { name: 'under-disabled', parent_id: d.id } });
  assert.equal(underDisabled.status, 400);
  assert.match(underDisabled.body.error.message, /disabled project/);
  assert.equal((await call('PATCH', `/projects/${e.id}`, { project: { enabled: true } })).status, 403);
  assert.equal((await call('PATCH', `/projects/${d.id}`, { project: { enabled: true } })).status, 200);
  const notLeaf = await call('DELETE', `/projects/${b.id}`);
  assert.equal(notLeaf.status, 403);
  assert.match(notLeaf.body.error.message, /not a leaf/);

  const asDomain = await ok('POST', '/projects', { project: { name: 'pdom', is_domain: true, description: null } });
  assertSchema(obj({ project: Project }), asDomain);
  assert.equal(asDomain.project.is_domain, true);
  assert.equal(asDomain.project.domain_id, null);
  assert.equal((await ok('GET', `/domains/${asDomain.project.id}`)).domain.name, 'pdom');
  assert.ok((await ok('GET', '/projects?is_domain=true')).projects.some((p: { id: string }) => p.id === asDomain.project.id));
  assert.ok(!(await ok('GET', '/projects')).projects.some((p: { id: string }) => p.id === asDomain.project.id));
});

test('project tags: the set and one tag, filters, bounds; nulls; domain configuration', async () => {
  const p = (await ok('POST', '/projects', { project: { name: 'tagged', tags: ['a', 'b'], description: null } })).project;
  assert.equal(p.description, '');
  const tags = `/projects/${p.id}/tags`;
  assertSchema(Tags, await ok('GET', tags));
  assert.deepEqual((await ok('GET', tags)).tags, ['a', 'b']);
  const put = await c.request('PUT', `${V3}${tags}/c`, { token });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('location'), `${c.url}${V3}${tags}/c`);
  assert.equal((await call('HEAD', `${tags}/c`)).status, 204);
  assert.equal((await call('GET', `${tags}/c`)).status, 204);
  assert.equal((await call('GET', `${tags}/zz`)).status, 404);
  assert.equal((await call('DELETE', `${tags}/a`)).status, 204);
  assert.equal((await call('DELETE', `${tags}/a`)).status, 404);
  const replaced = await ok('PUT', tags, { tags: ['x', 'y'] });
  assertSchema(Tags, replaced);
  assert.deepEqual(replaced.tags, ['x', 'y']);
  assert.equal((await call('PUT', tags, { tags: ['bad,tag'] })).status, 400);
  assert.equal((await call('PUT', tags, { tags: Array.from({ length: 81 }, (_, i) => `t${i}`) })).status, 400);
  assert.equal((await call('PUT', tags, { tags: ['z'.repeat(256)] })).status, 400);
  // One tag in the path may be as long as in a body, whatever its characters.
  const long = 'é'.repeat(255);
  assert.equal((await call('PUT', `${tags}/${encodeURIComponent(long)}`)).status, 201);
  assert.equal((await call('GET', `${tags}/${encodeURIComponent(long)}`)).status, 204);
  assert.equal((await call('PUT', `${tags}/${encodeURIComponent(long + 'é')}`)).status, 400);
  assert.equal((await call('DELETE', `${tags}/${encodeURIComponent(long)}`)).status, 204);

  await ok('POST', '/projects', { project: { name: 'tagged2', tags: ['x'] } });
  const names = async (q: string) =>
    (await ok('GET', `/projects?${q}`)).projects
      .map((x: { name: string }) => x.name)
      .filter((n: string) => n.startsWith('tagged'))
      .sort();
  assert.deepEqual(await names('tags=x,y'), ['tagged']);
  assert.deepEqual(await names('tags-any=x,y'), ['tagged', 'tagged2']);
  assert.deepEqual(await names('not-tags=x,y'), ['tagged2']);
  assert.deepEqual(await names('not-tags-any=y'), ['tagged2']);
  const patched = await ok('PATCH', `/projects/${p.id}`, { project: { tags: ['q'], description: null } });
  assertSchema(obj({ project: Project }), patched);
  assert.deepEqual(patched.project.tags, ['q']);
  assert.equal((await call('DELETE', tags)).status, 204);
  assert.deepEqual((await ok('GET', tags)).tags, []);

  assert.equal((await ok('PATCH', '/domains/default', { domain: { description: null } })).domain.description, '');
  const config = await call('GET', '/domains/default/config');
  assert.equal(config.status, 404);
  assert.equal(config.body.error.message, 'Could not find any options in domain configuration for domain default.');
  assert.equal((await call('GET', '/domains/nope/config')).status, 404);
});
