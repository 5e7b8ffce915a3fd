import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema, nullable, obj, str, uri } from '../helpers/schema.ts';

// Regions, endpoint groups and project endpoint filters, stored policies, credentials, EC2
// credentials and the scope discovery lists, each answer checked against the shape Keystone's
// api-ref documents.
let c: TestCloud;
let admin: string;
const V3 = '/identity/v3';

async function ok(method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200) {
  const res = await c.request(method, V3 + path, { token: admin, body });
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}
const checked = async (schema: object, method: string, path: string, body?: unknown) => {
  const answer = await ok(method, path, body);
  assertSchema(schema, answer, `${method} ${path}`);
  return answer;
};

before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
});
after(() => c?.stop());

// The api-ref's shapes, written as JSON schemas.
const self = obj({ self: uri });
const collectionLinks = obj({ self: uri, previous: nullable(str), next: nullable(str) });
const list = (key: string, item: object) => obj({ [key]: { type: 'array', items: item }, links: collectionLinks });
const Region = obj({ id: str, description: nullable(str), parent_region_id: nullable(str), links: self });
const EndpointGroup = obj({ id: str, name: str, description: nullable(str), filters: { type: 'object' }, links: self });
const Endpoint = obj(
  {
    id: str,
    interface: { enum: ['public', 'internal', 'admin'] },
    region: nullable(str),
    region_id: nullable(str),
    service_id: str,
    url: uri,
    enabled: { type: 'boolean' },
    links: self,
  },
  ['id', 'interface', 'service_id', 'url', 'links'],
);
const Project = obj({ id: str, name: str, domain_id: str, links: self }, ['id', 'name', 'domain_id', 'links'], true);
const Policy = obj({ id: str, type: str, blob: str, links: self }, ['id', 'type', 'blob', 'links'], true);
const Credential = obj({ id: str, user_id: str, project_id: nullable(str), type: str, blob: str, links: self });
const Ec2 = obj({ user_id: str, tenant_id: str, access: str, secret: str, trust_id: nullable(str), links: self });
const Domain = obj({ id: str, name: str, description: nullable(str), enabled: { type: 'boolean' }, links: self }, ['id', 'name', 'enabled', 'links'], true);

test('regions, endpoint groups and the endpoints a project is given', async () => {
  const region = (await checked(obj({ region: Region }), 'POST', '/regions', { region: { id: 'Lab-1', description: 'the lab' } })).region;
  await checked(obj({ region: Region }), 'POST', '/regions', { region: { parent_region_id: region.id } });
  await checked(obj({ region: Region }), 'GET', `/regions/${region.id}`);
  await checked(obj({ region: Region }), 'PATCH', `/regions/${region.id}`, { region: { description: null } });
  const regions = await checked(list('regions', Region), 'GET', `/regions?parent_region_id=${region.id}`);
  assert.equal(regions.regions.length, 1);

  const group = (
    await checked(obj({ endpoint_group: EndpointGroup }), 'POST', '/OS-EP-FILTER/endpoint_groups', {
      endpoint_group: { name: 'public', filters: { interface: 'public' } },
    })
  ).endpoint_group;
  await checked(obj({ endpoint_group: EndpointGroup }), 'GET', `/OS-EP-FILTER/endpoint_groups/${group.id}`);
  await checked(list('endpoint_groups', EndpointGroup), 'GET', '/OS-EP-FILTER/endpoint_groups');
  const endpoints = await checked(list('endpoints', Endpoint), 'GET', `/OS-EP-FILTER/endpoint_groups/${group.id}/endpoints`);
  assert.ok(endpoints.endpoints.length > 0);
  const project = (await ok('POST', '/projects', { project: { name: 'filtered' } })).project;
  await ok('PUT', `/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${project.id}`, undefined, 204);
  await checked(list('projects', Project), 'GET', `/OS-EP-FILTER/endpoint_groups/${group.id}/projects`);
  await checked(list('endpoint_groups', EndpointGroup), 'GET', `/OS-EP-FILTER/projects/${project.id}/endpoint_groups`);
  const given = await checked(list('endpoints', Endpoint), 'GET', `/OS-EP-FILTER/projects/${project.id}/endpoints`);
  assert.deepEqual(given.endpoints.map((e: { id: string }) => e.id).sort(), endpoints.endpoints.map((e: { id: string }) => e.id).sort());
  await ok('PUT', `/OS-EP-FILTER/projects/${project.id}/endpoints/${endpoints.endpoints[0].id}`, undefined, 204);
  await checked(list('projects', Project), 'GET', `/OS-EP-FILTER/endpoints/${endpoints.endpoints[0].id}/projects`);
});

test('stored policies, credentials and EC2 credentials', async () => {
  const policy = (await checked(obj({ policy: Policy }), 'POST', '/policies', { policy: { type: 'application/json', blob: '{"a": "b"}' } })).policy;
  await checked(obj({ policy: Policy }), 'GET', `/policies/${policy.id}`);
  await checked(list('policies', Policy), 'GET', '/policies');

  const me = (await ok('GET', '/users?name=admin')).users[0];
  const projectId = (await ok('GET', '/projects?name=admin')).projects[0].id;
  const credential = (
    await checked(obj({ credential: Credential }), 'POST', '/credentials', { credential: { user_id: me.id, type: 'cert', blob: 'a certificate' } })
  ).credential;
  await checked(obj({ credential: Credential }), 'GET', `/credentials/${credential.id}`);
  await checked(obj({ credential: Credential }), 'PATCH', `/credentials/${credential.id}`, { credential: { blob: 'another' } });
  await checked(list('credentials', Credential), 'GET', '/credentials');

  const ec2 = (await checked(obj({ credential: Ec2 }), 'POST', `/users/${me.id}/credentials/OS-EC2`, { tenant_id: projectId })).credential;
  await checked(obj({ credential: Ec2 }), 'GET', `/users/${me.id}/credentials/OS-EC2/${ec2.access}`);
  const ec2s = await checked(list('credentials', Ec2), 'GET', `/users/${me.id}/credentials/OS-EC2`);
  assert.ok(ec2s.credentials.some((x: { access: string }) => x.access === ec2.access));
});

test('the projects and domains a token may be scoped to', async () => {
  const projects = await checked(list('projects', Project), 'GET', '/auth/projects');
  assert.ok(projects.projects.some((p: { name: string }) => p.name === 'admin'));
  await checked(list('domains', Domain), 'GET', '/auth/domains');
});
