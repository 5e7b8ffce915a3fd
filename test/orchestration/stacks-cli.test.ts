import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliAs, cliFails, nubo, openstack, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { afterEvents, demoEnv, startHeatCloud, stopHeatCloud } from './heat-cloud.ts';
import { rawImage } from '../compute/helpers.ts';
import { and, eq, inArray } from 'drizzle-orm';
import { stackResources } from '../../src/orchestration/tables.ts';

// Heat's API through python3-heatclient's `openstack stack …` against a cloud in this process
// with the fake virt driver: the stack's resources are checked in Neutron and Nova themselves.
let cloud: TestCloud;
let dataDir: string;
let work: string;
let env: Record<string, string>;
const demo = () => demoEnv(env);
const ok = cliAs(() => env);
const asDemo = cliAs(demo);
const json = async (cli: typeof ok, ...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));

const ENV_TEMPLATE = `
heat_template_version: 2018-08-31
description: A private network behind a router, a server in it and a floating address
parameters:
  image:
    type: string
  flavor:
    type: string
    default: m1.tiny
    constraints:
      - allowed_values: [m1.tiny, m1.small]
  public_net:
    type: string
  cidr:
    type: string
    default: 10.20.0.0/24
resources:
  net:
    type: OS::Neutron::Net
    properties:
      name: { list_join: ['-', [{ get_param: 'OS::stack_name' }, net]] }
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: { get_resource: net }
      cidr: { get_param: cidr }
  router:
    type: OS::Neutron::Router
    properties:
      external_gateway_info: { network: { get_param: public_net } }
  interface:
    type: OS::Neutron::RouterInterface
    properties:
      router: { get_resource: router }
      subnet: { get_resource: subnet }
  sg:
    type: OS::Neutron::SecurityGroup
    properties:
      rules:
        - { protocol: tcp, port_range_min: 22, port_range_max: 22, remote_ip_prefix: 0.0.0.0/0 }
        - { protocol: icmp }
  keypair:
    type: OS::Nova::KeyPair
    properties:
      name: { str_replace: { template: key-STACK, params: { STACK: { get_param: 'OS::stack_name' } } } }
  port:
    type: OS::Neutron::Port
    properties:
      network: { get_resource: net }
      security_groups: [{ get_resource: sg }]
      fixed_ips: [{ subnet: { get_resource: subnet } }]
  server:
    type: OS::Nova::Server
    properties:
      image: { get_param: image }
      flavor: { get_param: flavor }
      key_name: { get_resource: keypair }
      networks: [{ port: { get_resource: port } }]
  fip:
    type: OS::Neutron::FloatingIP
    properties:
      floating_network: { get_param: public_net }
      port_id: { get_resource: port }
outputs:
  server_ip:
    description: The server's private address
    value: { get_attr: [server, first_address] }
  floating_ip:
    description: The address to reach the server at
    value: { get_attr: [fip, floating_ip_address] }
`;

before(async () => {
  ({ cloud, dataDir, work, env } = await startHeatCloud('heat'));
  await rawImage(cloud, await cloud.adminToken(), 1 << 20, { name: 'tiny2', disk_format: 'raw', container_format: 'bare' });
  await rawImage(cloud, await cloud.adminToken(), 1 << 20, { name: 'big', disk_format: 'raw', container_format: 'bare', min_disk: 5 });
  await ok('network', 'create', 'public', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  await ok('subnet', 'create', '--network', 'public', '--subnet-range', '172.24.4.0/24', '--no-dhcp', 'public-subnet');
  writeFileSync(join(work, 'env.yaml'), ENV_TEMPLATE);
  // The server asks for an image bigger than its flavor's disk: Nova refuses it.
  writeFileSync(join(work, 'fail.yaml'), ENV_TEMPLATE.replace('      image: { get_param: image }', '      image: big'));
});

after(() => stopHeatCloud({ cloud, dataDir, work }));

/** What the demo project holds in each service, through their APIs: after a stack's delete,
 * nothing but its default security group. */
async function nothingLeft(): Promise<void> {
  const token = await cloud.login('demo', 'pw', 'demo');
  const project = (await cloud.request('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } })).body.token.project.id;
  const get = async (path: string, key: string) => {
    const res = await cloud.request('GET', path, { token });
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
    return res.body[key] as any[];
  };
  assert.deepEqual(await get('/compute/v2.1/servers', 'servers'), []);
  assert.deepEqual(await get('/compute/v2.1/os-keypairs', 'keypairs'), []);
  assert.deepEqual(await get(`/volume/v3/${project}/volumes`, 'volumes'), []);
  const mine = (list: any[]) => list.filter((r) => r.project_id === project || r.tenant_id === project);
  for (const [path, key] of [
    ['/networking/v2.0/floatingips', 'floatingips'],
    ['/networking/v2.0/routers', 'routers'],
    ['/networking/v2.0/ports', 'ports'],
    ['/networking/v2.0/subnets', 'subnets'],
    ['/networking/v2.0/networks', 'networks'],
  ]) {
    assert.deepEqual(mine(await get(path!, key!)), [], key);
  }
  assert.deepEqual(
    mine(await get('/networking/v2.0/security-groups', 'security_groups')).map((g) => g.name),
    ['default'],
  );
}

/** `stack delete` without --wait (whose polls are 5 s apart), then the stack's API until it is gone. */
const physicalId = async (stack: string, resource: string) => (await json(asDemo, 'stack', 'resource', 'show', stack, resource)).physical_resource_id as string;

async function deleted(name: string): Promise<void> {
  await asDemo('stack', 'delete', '--yes', name);
  const token = await cloud.login('demo', 'pw', 'demo');
  const project = (await cloud.request('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } })).body.token.project.id;
  for (let i = 0; i < 300; i++) {
    const res = await cloud.request('GET', `/orchestration/v1/${project}/stacks/${name}/events`, { token });
    if (res.status === 404) return;
    const last = res.body.events.at(-1);
    assert.notEqual(last?.resource_status, 'DELETE_FAILED', JSON.stringify(last));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`stack ${name} was not deleted`);
}

test('a whole environment from one template: created in order, shown, updated in place and by replacement, and deleted without a trace', async () => {
  const t0 = Date.now();
  const created = afterEvents(
    await asDemo(
      ...['stack', 'create', '--wait', '--poll', '1', '-t', join(work, 'env.yaml'), '-f', 'json'],
      ...['--parameter', 'image=tiny', '--parameter', 'public_net=public', 'env1'],
    ),
  );
  assert.equal(created.stack_status, 'CREATE_COMPLETE', created.stack_status_reason);
  const createSeconds = (Date.now() - t0) / 1000;

  const list = await json(asDemo, 'stack', 'list');
  assert.deepEqual(
    list.map((s: any) => [s['Stack Name'], s['Stack Status']]),
    [['env1', 'CREATE_COMPLETE']],
  );
  // Another project sees none of it.
  assert.deepEqual(await json(ok, 'stack', 'list'), []);
  assert.match(await cliFails(env, 'stack', 'show', 'env1'), /not found/i);

  const shown = await json(asDemo, 'stack', 'show', 'env1');
  assert.equal(shown.id, created.id);
  assert.equal(shown.parameters.flavor, 'm1.tiny');
  assert.equal(shown.parameters['OS::stack_name'], 'env1');
  const byFullPath = await json(asDemo, 'stack', 'show', `env1/${created.id}`);
  assert.equal(byFullPath.id, created.id);

  // Every resource exists in the service that owns it.
  const resources = await json(asDemo, 'stack', 'resource', 'list', 'env1');
  const byName = Object.fromEntries(resources.map((r: any) => [r.resource_name, r]));
  assert.deepEqual(Object.keys(byName).sort(), ['fip', 'interface', 'keypair', 'net', 'port', 'router', 'server', 'sg', 'subnet']);
  for (const r of resources) assert.equal(r.resource_status, 'CREATE_COMPLETE', r.resource_name);
  const net = await json(asDemo, 'network', 'show', byName.net.physical_resource_id);
  assert.equal(net.name, 'env1-net');
  const server = await json(asDemo, 'server', 'show', byName.server.physical_resource_id);
  assert.equal(server.status, 'ACTIVE');
  assert.equal(server.key_name, 'key-env1');
  const sg = await json(asDemo, 'security', 'group', 'rule', 'list', byName.sg.physical_resource_id);
  assert.ok(
    sg.some((r: any) => r['IP Protocol'] === 'tcp' && r['Port Range'] === '22:22'),
    JSON.stringify(sg),
  );
  const fip = await json(asDemo, 'floating', 'ip', 'show', byName.fip.physical_resource_id);
  assert.equal(fip.port_id, byName.port.physical_resource_id);

  // Outputs: the server's address as Nova shows it, and the floating one as Neutron does.
  const outputs = await json(asDemo, 'stack', 'output', 'list', 'env1');
  assert.deepEqual(outputs.map((o: any) => o.output_key).sort(), ['floating_ip', 'server_ip']);
  const serverIp = await json(asDemo, 'stack', 'output', 'show', 'env1', 'server_ip');
  assert.ok(server.addresses['env1-net'].includes(serverIp.output_value), JSON.stringify(server.addresses));
  assert.match(serverIp.output_value, /^10\.20\.0\./);
  const floating = await json(asDemo, 'stack', 'output', 'show', 'env1', 'floating_ip');
  assert.equal(floating.output_value, fip.floating_ip_address);

  const one = await json(asDemo, 'stack', 'resource', 'show', 'env1', 'server');
  assert.equal(one.physical_resource_id, server.id);
  assert.equal(one.attributes.first_address, serverIp.output_value);

  // The events tell the order: the server waited for its port, the port for its network.
  const events = await json(asDemo, 'stack', 'event', 'list', 'env1');
  const at = (name: string, status: string) => events.findIndex((e: any) => e.resource_name === name && e.resource_status === status);
  assert.ok(at('net', 'CREATE_COMPLETE') < at('port', 'CREATE_IN_PROGRESS'));
  assert.ok(at('port', 'CREATE_COMPLETE') < at('server', 'CREATE_IN_PROGRESS'));
  assert.ok(at('env1', 'CREATE_COMPLETE') > at('fip', 'CREATE_COMPLETE'));

  const template = await json(asDemo, 'stack', 'template', 'show', 'env1');
  assert.equal(template.heat_template_version, '2018-08-31');

  // An update that renames the server and adds a rule changes both in place.
  const renamed = ENV_TEMPLATE.replace('      flavor: { get_param: flavor }\n', '      flavor: { get_param: flavor }\n      name: web-renamed\n').replace(
    '        - { protocol: icmp }\n',
    '        - { protocol: icmp }\n        - { protocol: tcp, port_range_min: 80, port_range_max: 80 }\n',
  );
  writeFileSync(join(work, 'renamed.yaml'), renamed);
  const params = ['--parameter', 'image=tiny', '--parameter', 'public_net=public'];
  await asDemo('stack', 'update', '--wait', '-t', join(work, 'renamed.yaml'), ...params, 'env1');
  assert.equal((await json(asDemo, 'stack', 'show', 'env1')).stack_status, 'UPDATE_COMPLETE');
  const inPlace = await json(asDemo, 'server', 'show', server.id);
  assert.equal(inPlace.name, 'web-renamed');
  const rules = await json(asDemo, 'security', 'group', 'rule', 'list', byName.sg.physical_resource_id);
  assert.ok(
    rules.some((r: any) => r['Port Range'] === '80:80'),
    JSON.stringify(rules),
  );
  assert.equal((await json(asDemo, 'stack', 'resource', 'show', 'env1', 'sg')).physical_resource_id, byName.sg.physical_resource_id);

  // A new image replaces the server: a new one is made, the old one goes.
  await asDemo('stack', 'update', '--existing', '--wait', '--parameter', 'image=tiny2', 'env1');
  const afterReplace = await json(asDemo, 'stack', 'show', 'env1');
  assert.equal(afterReplace.stack_status, 'UPDATE_COMPLETE', afterReplace.stack_status_reason);
  const replaced = await json(asDemo, 'stack', 'resource', 'show', 'env1', 'server');
  // The old server's row, kept until it was deleted, is gone with it.
  assert.equal((await json(asDemo, 'stack', 'resource', 'list', 'env1')).length, 9);
  assert.notEqual(replaced.physical_resource_id, server.id);
  const servers = await json(asDemo, 'server', 'list');
  assert.deepEqual(
    servers.map((s: any) => [s.ID, s.Name, s.Image]),
    [[replaced.physical_resource_id, 'web-renamed', 'tiny2']],
  );

  const t1 = Date.now();
  await asDemo('stack', 'delete', '--yes', '--wait', 'env1');
  const deleteSeconds = (Date.now() - t1) / 1000;
  assert.match(await cliFails(demo(), 'stack', 'show', 'env1'), /not found/i);
  await nothingLeft();
  console.log(`stack of 9 resources: CREATE_COMPLETE in ${createSeconds.toFixed(1)} s, deleted in ${deleteSeconds.toFixed(1)} s (openstack CLI, fake driver)`);
});

test('a template Heat refuses is a 400 with the place it is wrong at', async () => {
  const write = (name: string, text: string) => {
    writeFileSync(join(work, name), text);
    return join(work, name);
  };
  const unknown = write('unknown.yaml', 'heat_template_version: 2018-08-31\nresources:\n  x:\n    type: OS::Nova::Serverx\n');
  assert.match(
    await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', unknown),
    /resources\.x: The Resource Type \(OS::Nova::Serverx\) could not be found/,
  );
  assert.match(await cliFails(demo(), 'stack', 'create', '-t', unknown, 'bad1'), /OS::Nova::Serverx/);

  const badRef = write(
    'ref.yaml',
    'heat_template_version: 2018-08-31\nresources:\n  n:\n    type: OS::Neutron::Net\n    properties:\n      name: { get_resource: nothere }\n',
  );
  assert.match(await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', badRef), /resources\.n\.properties\.name\.get_resource: .*"nothere"/);

  const badAttr = write(
    'attr.yaml',
    'heat_template_version: 2018-08-31\nresources:\n  n:\n    type: OS::Neutron::Net\noutputs:\n  o:\n    value: { get_attr: [n, nope] }\n',
  );
  assert.match(
    await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', badAttr),
    /outputs\.o\.value\.get_attr: The Referenced Attribute \(n nope\) is incorrect/,
  );

  const version = write('version.yaml', 'heat_template_version: 2099-01-01\nresources: {}\n');
  assert.match(await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', version), /The template version is invalid/);

  // A parameter outside its constraint.
  const params = ['--parameter', 'image=tiny', '--parameter', 'public_net=public', '--parameter', 'flavor=m1.huge'];
  assert.match(
    await cliFails(demo(), 'stack', 'create', '-t', join(work, 'env.yaml'), ...params, 'bad2'),
    /Parameter 'flavor' is invalid: "m1.huge" is not an allowed value/,
  );
  assert.deepEqual(await json(asDemo, 'stack', 'list'), []);

  // The raw answer is Heat's error body.
  const token = await cloud.login('demo', 'pw', 'demo');
  const project = (await json(asDemo, 'project', 'show', 'demo')).id;
  const res = await cloud.request('POST', `/orchestration/v1/${project}/validate`, {
    token,
    body: { template: { heat_template_version: '2018-08-31', resources: { x: { type: 'OS::Foo' } } } },
  });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.type, 'StackValidationFailed');
  assert.equal(res.body.code, 400);

  // Malformed requests are 4xx in Heat's shape, never 500.
  const base = `/orchestration/v1/${project}`;
  const minimal = { heat_template_version: '2018-08-31', resources: {} };
  const bad: [string, string, unknown, number][] = [
    ['POST', '/stacks', { template: minimal }, 400],
    ['POST', '/stacks', { stack_name: '1bad', template: minimal }, 400],
    ['POST', '/stacks', { stack_name: 'ok', template: [1] }, 400],
    ['POST', '/stacks', { stack_name: 'ok', template: 'a: [' }, 400],
    ['POST', '/stacks', { stack_name: 'ok', template: minimal, parameters: { nope: 1 } }, 400],
    ['POST', '/stacks', { stack_name: 'ok', template: minimal, timeout_mins: -1 }, 400],
    ['POST', '/validate', {}, 400],
    ['GET', '/stacks/nothere', undefined, 404],
    ['GET', '/stacks/nothere/00000000-0000-0000-0000-000000000000', undefined, 404],
    ['DELETE', '/stacks/nothere', undefined, 404],
    ['PUT', '/stacks/nothere', { template: minimal }, 404],
    ['GET', '/stacks/nothere/events?limit=x', undefined, 404],
  ];
  for (const [method, path, body, status] of bad) {
    const r = await cloud.request(method, base + path, { token, body });
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.error.message, 'string', `${method} ${path}: ${JSON.stringify(r.body)}`);
  }
  const malformed = await cloud.request('POST', `${base}/stacks`, { token, raw: '{', headers: { 'content-type': 'application/json' } });
  assert.equal(malformed.status, 400);
  assert.equal(typeof malformed.body.error.message, 'string');
  // Another project's path is refused before any query.
  const admin = await cloud.adminToken();
  assert.equal((await cloud.request('GET', `${base}/stacks`, { token: admin })).status, 200);
  const demoOnAdmin = await cloud.request('GET', `/orchestration/v1/${(await json(ok, 'project', 'show', 'admin')).id}/stacks`, { token });
  assert.equal(demoOnAdmin.status, 403);

  const valid = await json(asDemo, 'orchestration', 'template', 'validate', '-t', join(work, 'env.yaml'));
  assert.equal(valid.Parameters.flavor.Default, 'm1.tiny');
  const types = await json(asDemo, 'orchestration', 'resource', 'type', 'list');
  assert.ok(types.some((t: any) => t['Resource Type'] === 'OS::Nova::Server'));
  const server = await json(asDemo, 'orchestration', 'resource', 'type', 'show', 'OS::Nova::Server');
  assert.equal(server.properties.name.update_allowed, true);
  assert.ok('first_address' in server.attributes);
  const functions = await json(asDemo, 'orchestration', 'template', 'function', 'list', 'heat_template_version.wallaby');
  assert.ok(
    functions.some((f: any) => f.Functions === 'get_attr'),
    JSON.stringify(functions),
  );
  const versions = await json(asDemo, 'orchestration', 'template', 'version', 'list');
  assert.ok(versions.some((v: any) => v.Version === 'heat_template_version.2021-04-16'));
});

test("a resource that fails fails the stack with the other service's reason, and delete still removes the rest", async () => {
  const r = await openstack(
    demo(),
    'stack',
    'create',
    '--wait',
    '--poll',
    '1',
    '-t',
    join(work, 'fail.yaml'),
    '--parameter',
    'image=tiny',
    '--parameter',
    'public_net=public',
    'fails',
  );
  assert.notEqual(r.code, 0);
  const shown = await json(asDemo, 'stack', 'show', 'fails');
  assert.equal(shown.stack_status, 'CREATE_FAILED');
  assert.match(shown.stack_status_reason, /Resource CREATE failed: BadRequest: resources\.server: Flavor's disk is too small for requested image/);
  const server = await json(asDemo, 'stack', 'resource', 'show', 'fails', 'server');
  assert.equal(server.resource_status, 'CREATE_FAILED');
  assert.match(server.resource_status_reason, /Flavor's disk is too small/);
  // What did not depend on the server was made, and goes with the stack.
  assert.equal((await json(asDemo, 'network', 'list', '--internal')).length, 1);
  await deleted('fails');
  await nothingLeft();
  assert.deepEqual(await json(asDemo, 'stack', 'list'), []);
});

test('with rollback, a failed create removes what it made and keeps the stack to say why', async () => {
  const r = await openstack(
    demo(),
    ...['stack', 'create', '--enable-rollback', '--wait', '--poll', '1', '-t', join(work, 'fail.yaml')],
    ...['--parameter', 'image=tiny', '--parameter', 'public_net=public', 'rolled'],
  );
  assert.notEqual(r.code, 0, r.stdout);
  let shown: any;
  for (let i = 0; i < 60; i++) {
    shown = await json(asDemo, 'stack', 'show', 'rolled');
    if (shown.stack_status !== 'ROLLBACK_IN_PROGRESS' && shown.stack_status !== 'CREATE_FAILED') break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.equal(shown.stack_status, 'ROLLBACK_COMPLETE');
  await nothingLeft();
  const events = await json(asDemo, 'stack', 'event', 'list', 'rolled');
  assert.ok(
    events.some(
      (e: any) => e.resource_name === 'rolled' && e.resource_status === 'CREATE_FAILED' && /Flavor's disk is too small/.test(e.resource_status_reason),
    ),
  );
  await deleted('rolled');
});

test('a stack whose create a restart broke off is FAILED with a clear reason, and its delete removes what it made', async () => {
  const token = await cloud.login('demo', 'pw', 'demo');
  const project = (await json(asDemo, 'project', 'show', 'demo')).id;
  const template = {
    heat_template_version: '2018-08-31',
    resources: {
      net: { type: 'OS::Neutron::Net' },
      sub: { type: 'OS::Neutron::Subnet', properties: { network: { get_resource: 'net' }, cidr: '10.9.0.0/24' } },
    },
  };
  const res = await cloud.request('POST', `/orchestration/v1/${project}/stacks`, { token, body: { stack_name: 'cut', template } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await cloud.cloud.close();
  cloud = await startTestCloud({ dataDir, database: join(dataDir, 'db'), port: Number(new URL(cloud.url).port) });
  // The stop came before the subnet could start: never left in progress.
  const shown = await json(asDemo, 'stack', 'show', 'cut');
  assert.equal(shown.stack_status, 'CREATE_FAILED');
  assert.match(shown.stack_status_reason, /Engine went down during stack CREATE; delete the stack to remove what it made/);
  await deleted('cut');
  await nothingLeft();
});

test('a volume made and attached to a server by a stack, detached and deleted with it', async () => {
  writeFileSync(
    join(work, 'volume.yaml'),
    `heat_template_version: wallaby
resources:
  net:
    type: OS::Neutron::Net
  subnet:
    type: OS::Neutron::Subnet
    properties: { network: { get_resource: net }, cidr: 10.30.0.0/24 }
  server:
    type: OS::Nova::Server
    properties:
      image: tiny
      flavor: m1.tiny
      networks: [{ network: { get_resource: net } }]
    depends_on: subnet
  data:
    type: OS::Cinder::Volume
    properties: { size: 1, name: data }
  router:
    type: OS::Neutron::Router
  sg:
    type: OS::Neutron::SecurityGroup
    properties: { description: mine }
  attach:
    type: OS::Cinder::VolumeAttachment
    properties: { instance_uuid: { get_resource: server }, volume_id: { get_resource: data } }
outputs:
  size:
    value: { get_attr: [data, size] }
`,
  );
  await asDemo('stack', 'create', '--wait', '--poll', '1', '-t', join(work, 'volume.yaml'), 'vol');
  const volume = await json(asDemo, 'volume', 'show', 'data');
  assert.equal(volume.status, 'in-use');
  const server = (await json(asDemo, 'stack', 'resource', 'show', 'vol', 'server')).physical_resource_id;
  assert.equal(volume.attachments[0].server_id, server);
  assert.equal((await json(asDemo, 'stack', 'output', 'show', 'vol', 'size')).output_value, 1);

  // As if the engine had gone down between each create's answer and its record: the delete finds
  // them by the stack and resource they name (a network's description, a group's tag, a volume's metadata).
  const stackId = (await json(asDemo, 'stack', 'show', 'vol')).id;
  const forgotten = ['net', 'subnet', 'router', 'sg', 'data'];
  assert.equal((await json(asDemo, 'network', 'show', `${await physicalId('vol', 'net')}`)).description, `heat_stack_id=${stackId} heat_resource_name=net`);
  assert.equal(volume.properties.heat_stack_id, stackId);
  await cloud.cloud.store.db
    .update(stackResources)
    .set({ physicalId: null })
    .where(and(eq(stackResources.stackId, stackId), inArray(stackResources.name, forgotten)));
  await deleted('vol');
  await nothingLeft();
});

test('nubo stack create --wait, list, show and delete --wait, as openstack does them', async () => {
  writeFileSync(
    join(work, 'small.yaml'),
    'heat_template_version: 2021-04-16\nparameters:\n  cidr: { type: string }\nresources:\n  net: { type: OS::Neutron::Net }\n' +
      '  sub: { type: OS::Neutron::Subnet, properties: { network: { get_resource: net }, cidr: { get_param: cidr } } }\n' +
      '  secret: { type: OS::Heat::RandomString, properties: { length: 12, character_classes: [{ class: digits }] } }\n' +
      'outputs:\n  cidr: { value: { get_attr: [sub, cidr] } }\n  secret: { value: { get_attr: [secret, value] } }\n',
  );
  const nuboDemo = cliAs(demo, nubo);
  const created = await nuboDemo('stack', 'create', '--wait', '-t', join(work, 'small.yaml'), '--parameter', 'cidr=10.40.0.0/24', 'small');
  assert.match(created, /\[small\.sub\]: CREATE_COMPLETE/);
  assert.match(created, /\| stack_status +\| CREATE_COMPLETE/);
  const list = JSON.parse(await nuboDemo('stack', 'list', '-f', 'json'));
  assert.deepEqual(
    list.map((s: any) => [s['Stack Name'], s['Stack Status']]),
    [['small', 'CREATE_COMPLETE']],
  );
  const shown = JSON.parse(await nuboDemo('stack', 'show', 'small', '-f', 'json'));
  assert.deepEqual(
    shown.outputs.filter((o: any) => o.output_key === 'cidr').map((o: any) => o.output_value),
    ['10.40.0.0/24'],
  );
  assert.match(shown.outputs.find((o: any) => o.output_key === 'secret').output_value, /^\d{12}$/);
  assert.equal((await json(asDemo, 'stack', 'show', 'small')).id, shown.id);
  await nuboDemo('stack', 'delete', '--yes', '--wait', 'small');
  const gone = await nubo(demo(), 'stack', 'show', 'small');
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /Stack not found: small/);
  await nothingLeft();
});
