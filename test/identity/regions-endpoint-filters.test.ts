import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNubo, openstack, cliAs, tempDir, type SpawnedNubo, httpClient } from '../helpers/cloud.ts';
import { assertShape } from './shape.ts';

// Regions, OS-EP-FILTER and /v3/policies, driven by the real openstack CLI; the shapes of the
// answers are checked against Keystone's api-ref.
let nubo: SpawnedNubo;
let admin: string;
before(async () => {
  nubo = await spawnNubo();
  admin = await login('admin', nubo.env.OS_PASSWORD!, 'admin');
});
after(async () => {
  await nubo?.stop();
});

/** The identity API under /identity/v3, and a login that scopes to a project. */
const call = (method: string, path: string, token?: string, body?: unknown) => httpClient(nubo.url).request(method, `/identity/v3${path}`, { token, body });
const login = (user: string, password: string, project: string) => httpClient(nubo.url).login(user, password, project);

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('regions: create with a chosen or a generated id, a tree, set, and the delete rules of Keystone', async () => {
  const listed = await json('region', 'list');
  assert.deepEqual(listed, [{ Region: 'RegionOne', 'Parent Region': null, Description: '' }]);

  // openstackclient sends enabled, which Keystone keeps and shows back.
  assert.deepEqual(await json('region', 'create', '--description', 'the top', 'Top'), {
    description: 'the top',
    enabled: true,
    parent_region: null,
    region: 'Top',
  });
  await ok('region', 'create', '--parent-region', 'Top', 'Child');
  assert.deepEqual(await json('region', 'show', 'Child'), { description: '', enabled: true, parent_region: 'Top', region: 'Child' });
  assert.deepEqual(await json('region', 'list', '--parent-region', 'Top'), [{ Region: 'Child', 'Parent Region': 'Top', Description: '' }]);
  await ok('region', 'set', '--description', 'below', 'Child');
  assert.equal((await json('region', 'show', 'Child')).description, 'below');

  const generated = await call('POST', '/regions', admin, { region: { description: 'no id given' } });
  assert.equal(generated.status, 201);
  assert.match(generated.body.region.id, /^[0-9a-f]{32}$/);
  assertShape(generated.body.region, ['id', 'description', 'parent_region_id']);
  const put = await call('PUT', '/regions/ByPut', admin, { region: { description: 'x' } });
  assert.equal(put.status, 201);
  assert.equal(put.body.region.id, 'ByPut');
  // Other attributes are kept, shown, and merged by an update.
  const extra = await call('PATCH', '/regions/ByPut', admin, { region: { enabled: false, site: 'north' } });
  assert.deepEqual([extra.body.region.enabled, extra.body.region.site, extra.body.region.description], [false, 'north', 'x']);
  assert.equal((await call('PATCH', '/regions/ByPut', admin, { region: { site: 'south' } })).body.region.enabled, false);
  assert.equal((await call('GET', '/regions/ByPut', admin)).body.region.site, 'south');
  assert.equal((await call('POST', '/regions', admin, { region: { id: 'Top' } })).status, 409);
  assert.equal((await call('POST', '/regions', admin, { region: { id: 'Orphan', parent_region_id: 'Nowhere' } })).status, 404);
  // Top under its own child would make a circle.
  const circle = await call('PATCH', '/regions/Top', admin, { region: { parent_region_id: 'Child' } });
  assert.equal(circle.status, 400);
  assert.match(circle.body.error.message, /circular/);

  const inUse = await openstack(nubo.env, 'region', 'delete', 'RegionOne');
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /associated endpoints.*HTTP 403|HTTP 403/s);

  // An endpoint in the child keeps the parent too; without it, deleting the parent takes the child.
  const endpoint = await json('endpoint', 'create', '--region', 'Child', 'compute', 'public', 'http://127.0.0.1:1/child');
  const blocked = await call('DELETE', '/regions/Top', admin);
  assert.equal(blocked.status, 403);
  assert.equal(blocked.body.error.message, 'Unable to delete region Top because it or its child regions have associated endpoints.');
  await ok('endpoint', 'delete', endpoint.id);
  await ok('region', 'delete', 'Top');
  assert.equal((await call('GET', '/regions/Child', admin)).status, 404);

  const member = await call('GET', '/regions', admin);
  for (const r of member.body.regions) assertShape(r, ['id', 'description', 'parent_region_id', ...(r.id === 'ByPut' ? ['enabled', 'site'] : [])]);
});

test('endpoint filters: a project given an endpoint group and an endpoint sees only those in its catalog', async () => {
  await ok('project', 'create', 'filtered');
  await ok('user', 'create', '--project', 'filtered', '--password', 'pw', 'fuser');
  await ok('role', 'add', '--project', 'filtered', '--user', 'fuser', 'member');
  const fuser = { ...nubo.env, OS_USERNAME: 'fuser', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'filtered' };
  const catalogOf = async () => ((await json('catalog', 'list')) as { Type: string }[]).map((s) => s.Type).sort();
  const userCatalog = async () =>
    JSON.parse(await cliAs(() => fuser)('catalog', 'list', '-f', 'json')) as { Type: string; Endpoints: { interface: string }[] }[];
  const everything = await catalogOf();
  assert.ok(everything.length > 2);
  assert.deepEqual((await userCatalog()).map((s) => s.Type).sort(), everything);

  const compute = (await json('service', 'show', 'compute')).id;
  const filters = join(tempDir(), 'filters.json');
  writeFileSync(filters, JSON.stringify({ service_id: compute, interface: 'public' }));
  const group = await json('endpoint', 'group', 'create', '--description', 'public compute', 'public-compute', filters);
  assert.deepEqual(group, { description: 'public compute', filters: { service_id: compute, interface: 'public' }, id: group.id, name: 'public-compute' });
  await ok('endpoint', 'group', 'add', 'project', 'public-compute', 'filtered');
  const identityPublic = ((await json('endpoint', 'list', '--service', 'identity', '--interface', 'public')) as { ID: string }[])[0]!.ID;
  await ok('endpoint', 'add', 'project', identityPublic, 'filtered');

  const filtered = await userCatalog();
  assert.deepEqual(filtered.map((s) => s.Type).sort(), ['compute', 'identity']);
  for (const s of filtered)
    assert.deepEqual(
      s.Endpoints.map((e) => e.interface),
      ['public'],
    );
  // Other projects keep the whole catalog.
  assert.deepEqual(await catalogOf(), everything);

  assert.deepEqual(
    (await json('endpoint', 'group', 'list', '--project', 'filtered')).map((g: { Name: string }) => g.Name),
    ['public-compute'],
  );
  const projectEndpoints = (await json('endpoint', 'list', '--project', 'filtered')) as { 'Service Type': string; Interface: string }[];
  assert.deepEqual(projectEndpoints.map((e) => `${e['Service Type']}/${e.Interface}`).sort(), ['compute/public', 'identity/public']);
  assert.deepEqual(
    (await json('endpoint', 'group', 'list', '--endpointgroup', 'public-compute')).map((p: { Name: string }) => p.Name),
    ['filtered'],
  );

  // The raw API, shapes as the api-ref gives them.
  const projectId = (await json('project', 'show', 'filtered')).id;
  const g = await call('GET', `/OS-EP-FILTER/endpoint_groups/${group.id}`, admin);
  assertShape(g.body.endpoint_group, ['id', 'name', 'description', 'filters']);
  const assoc = await call('GET', `/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${projectId}`, admin);
  assert.equal(assoc.status, 200);
  assertShape(assoc.body.project_endpoint_group, ['endpoint_group_id', 'project_id']);
  const inGroup = await call('GET', `/OS-EP-FILTER/endpoint_groups/${group.id}/endpoints`, admin);
  assert.equal(inGroup.body.endpoints.length, 1);
  assertShape(inGroup.body.endpoints[0], ['id', 'service_id', 'interface', 'region', 'region_id', 'url', 'enabled']);
  const head = await fetch(`${nubo.url}/identity/v3/OS-EP-FILTER/projects/${projectId}/endpoints/${identityPublic}`, {
    method: 'HEAD',
    headers: { 'x-auth-token': admin },
  });
  assert.equal(head.status, 204);
  assert.equal((await call('GET', `/OS-EP-FILTER/projects/${projectId}/endpoints/${inGroup.body.endpoints[0].id}`, admin)).status, 404);
  const endpointProjects = await call('GET', `/OS-EP-FILTER/endpoints/${identityPublic}/projects`, admin);
  assert.deepEqual(
    endpointProjects.body.projects.map((p: { id: string }) => p.id),
    [projectId],
  );
  assert.equal((await call('PUT', `/OS-EP-FILTER/projects/${projectId}/endpoints/${identityPublic}`, admin)).status, 409);
  assert.equal((await call('POST', '/OS-EP-FILTER/endpoint_groups', admin, { endpoint_group: { name: 'bad', filters: { url: 'x' } } })).status, 400);
  assert.equal((await call('POST', '/OS-EP-FILTER/endpoint_groups', admin, { endpoint_group: { name: 'empty', filters: {} } })).status, 400);
  const userToken = await login('fuser', 'pw', 'filtered');
  assert.equal((await call('GET', '/OS-EP-FILTER/endpoint_groups', userToken)).status, 403);

  await ok('endpoint', 'group', 'remove', 'project', 'public-compute', 'filtered');
  assert.deepEqual(
    (await userCatalog()).map((s) => s.Type),
    ['identity'],
  );
  await ok('endpoint', 'remove', 'project', identityPublic, 'filtered');
  assert.deepEqual((await userCatalog()).map((s) => s.Type).sort(), everything);
  await ok('endpoint', 'group', 'delete', 'public-compute');
  assert.equal((await call('GET', `/OS-EP-FILTER/endpoint_groups/${group.id}`, admin)).status, 404);
});

test('policies: admin keeps documents with their type; others may not', async () => {
  const file = join(tempDir(), 'policy.json');
  writeFileSync(file, '{"compute:create": ""}');
  const created = await json('policy', 'create', '--type', 'application/json', file);
  assert.equal(created.type, 'application/json');
  assert.equal(created.rules, '{"compute:create": ""}');
  const got = await call('GET', `/policies/${created.id}`, admin);
  assertShape(got.body.policy, ['id', 'type', 'blob']);
  await ok('policy', 'set', '--type', 'text/plain', created.id);
  assert.equal((await json('policy', 'show', created.id)).type, 'text/plain');
  assert.equal((await call('GET', '/policies?type=text/plain', admin)).body.policies.length, 1);
  assert.equal((await call('GET', '/policies?type=application/json', admin)).body.policies.length, 0);
  assert.equal((await call('POST', '/policies', admin, { policy: { type: 'x' } })).status, 400);

  await ok('project', 'create', 'plain');
  await ok('user', 'create', '--project', 'plain', '--password', 'pw', 'puser');
  await ok('role', 'add', '--project', 'plain', '--user', 'puser', 'member');
  assert.equal((await call('GET', '/policies', await login('puser', 'pw', 'plain'))).status, 403);
  await ok('policy', 'delete', created.id);
  assert.equal((await call('GET', `/policies/${created.id}`, admin)).status, 404);
});
