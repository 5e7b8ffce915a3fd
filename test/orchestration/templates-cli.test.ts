import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliAs, cliFails, nubo, type TestCloud } from '../helpers/cloud.ts';
import { afterEvents, demoEnv, startHeatCloud, stopHeatCloud } from './heat-cloud.ts';

// HOT beyond the basics, through python3-heatclient's `openstack stack …` against a cloud in this
// process with the fake virt driver: conditions, repeat, get_file, an environment's
// resource_registry (nested stacks), ResourceGroup, SoftwareConfig/CloudConfig as user_data, and
// the API's preview, events, outputs, template and nested resource listing.
let cloud: TestCloud;
let dataDir: string;
let work: string;
let env: Record<string, string>;
const demo = () => demoEnv(env);
const ok = cliAs(() => env);
const asDemo = cliAs(demo);
const json = async (cli: typeof ok, ...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
const write = (name: string, text: string) => {
  writeFileSync(join(work, name), text);
  return join(work, name);
};

before(async () => {
  ({ cloud, dataDir, work, env } = await startHeatCloud('heat-t'));
});

after(() => stopHeatCloud({ cloud, dataDir, work }));

/** `stack delete --wait`, then the project's networks and servers: none left. */
async function deletedWithAll(name: string): Promise<void> {
  await asDemo('stack', 'delete', '--yes', '--wait', name);
  assert.deepEqual(await json(asDemo, 'stack', 'list'), []);
  const token = await cloud.login('demo', 'pw', 'demo');
  assert.deepEqual((await cloud.request('GET', '/compute/v2.1/servers', { token })).body.servers, []);
  const project = (await json(asDemo, 'project', 'show', 'demo')).id;
  const nets = (await cloud.request('GET', '/networking/v2.0/networks', { token })).body.networks.filter((n: any) => n.project_id === project);
  assert.deepEqual(nets, []);
  const nested = await cloud.request('GET', `/orchestration/v1/${project}/stacks?show_nested=true`, { token });
  assert.deepEqual(nested.body.stacks, []);
}

test('conditions, if, repeat, get_file and an environment mapping types to a type and to a template file', async () => {
  write('subnet.txt', '10.61.0.0/24');
  write(
    'netpair.yaml',
    `heat_template_version: 2018-08-31
parameters:
  prefix: { type: string }
resources:
  net:
    type: OS::Neutron::Net
    properties: { name: { list_join: ['-', [{ get_param: prefix }, inner]] } }
outputs:
  net_name:
    value: { get_attr: [net, name] }
`,
  );
  const template = write(
    'cond.yaml',
    `heat_template_version: wallaby
parameters:
  env: { type: string, default: dev, constraints: [{ allowed_values: [dev, prod] }] }
  zones: { type: comma_delimited_list, default: 'a,b' }
conditions:
  is_prod: { equals: [{ get_param: env }, prod] }
  not_prod: { not: is_prod }
  both: { and: [not_prod, { or: [is_prod, true] }] }
resources:
  always:
    type: My::Net
    properties:
      name: { if: [is_prod, prod-net, { if: [both, dev-net, never] }] }
  only_prod:
    type: OS::Neutron::Net
    condition: is_prod
  sub:
    type: OS::Neutron::Subnet
    properties:
      network: { get_resource: always }
      cidr: { get_file: subnet.txt }
  tagged:
    type: OS::Neutron::Net
    properties:
      name: tagged
      value_specs: {}
  pair:
    type: My::Pair
    properties: { prefix: { get_param: env } }
outputs:
  names:
    value: { repeat: { for_each: { '<%z%>': { get_param: zones } }, template: 'zone-<%z%>' } }
  prod_only:
    condition: is_prod
    value: { get_resource: only_prod }
  inner:
    value: { get_attr: [pair, net_name] }
`,
  );
  const envFile = write('env.yaml', 'parameter_defaults:\n  zones: x,y,z\nresource_registry:\n  My::Net: OS::Neutron::Net\n  My::Pair: netpair.yaml\n');
  // heatclient reads both files, sends their contents in the files map, and the mapping to the
  // template under its absolute URL.
  const created = afterEvents(await asDemo('stack', 'create', '--wait', '--poll', '1', '-t', template, '-e', envFile, '-f', 'json', 'cond'));
  assert.equal(created.stack_status, 'CREATE_COMPLETE', created.stack_status_reason);
  const resources = await json(asDemo, 'stack', 'resource', 'list', 'cond');
  assert.deepEqual(resources.map((r: any) => r.resource_name).sort(), ['always', 'pair', 'sub', 'tagged']);
  assert.equal(resources.find((r: any) => r.resource_name === 'pair').resource_type, 'My::Pair');
  assert.equal((await json(asDemo, 'network', 'show', 'dev-net')).name, 'dev-net');
  assert.equal((await json(asDemo, 'subnet', 'list', '--network', 'dev-net'))[0].Subnet, '10.61.0.0/24');
  const outputs = await json(asDemo, 'stack', 'output', 'list', 'cond');
  assert.deepEqual(outputs.map((o: any) => o.output_key).sort(), ['inner', 'names']);
  assert.deepEqual((await json(asDemo, 'stack', 'output', 'show', 'cond', 'names')).output_value, ['zone-x', 'zone-y', 'zone-z']);
  assert.equal((await json(asDemo, 'stack', 'output', 'show', 'cond', 'inner')).output_value, 'dev-inner');
  // The template resource is a nested stack: not in the project's list, shown one level down.
  assert.deepEqual(
    (await json(asDemo, 'stack', 'list')).map((s: any) => s['Stack Name']),
    ['cond'],
  );
  const deep = await json(asDemo, 'stack', 'resource', 'list', '--nested-depth', '1', 'cond');
  const inner = deep.find((r: any) => r.resource_name === 'net');
  assert.ok(inner, JSON.stringify(deep));
  assert.match(inner.stack_name, /^cond-pair-/);
  assert.equal((await json(asDemo, 'network', 'show', 'dev-inner')).id, inner.physical_resource_id);
  // template show gives back the template as written, its functions unevaluated.
  const shownTemplate = await json(asDemo, 'stack', 'template', 'show', 'cond');
  assert.deepEqual(shownTemplate.resources.sub.properties.cidr, { get_file: `file://${join(work, 'subnet.txt')}` });
  const events = await json(asDemo, 'stack', 'event', 'list', 'cond');
  assert.ok(events.some((e: any) => e.resource_name === 'pair' && e.resource_status === 'CREATE_COMPLETE'));

  // An update turning the condition on adds what it guards; the rest stays as it was.
  const always = resources.find((r: any) => r.resource_name === 'always').physical_resource_id;
  await asDemo('stack', 'update', '--wait', '-t', template, '-e', envFile, '--parameter', 'env=prod', 'cond');
  const after = await json(asDemo, 'stack', 'resource', 'list', 'cond');
  assert.ok(after.some((r: any) => r.resource_name === 'only_prod'));
  assert.equal(after.find((r: any) => r.resource_name === 'always').physical_resource_id, always);
  assert.equal((await json(asDemo, 'network', 'show', always)).name, 'prod-net');
  assert.equal((await json(asDemo, 'stack', 'output', 'show', 'cond', 'inner')).output_value, 'prod-inner');
  assert.equal(
    (await json(asDemo, 'stack', 'output', 'show', 'cond', 'prod_only')).output_value,
    after.find((r: any) => r.resource_name === 'only_prod').physical_resource_id,
  );
  await deletedWithAll('cond');
});

test('a ResourceGroup with %index% in its members, grown and shrunk by update, and CloudConfig as servers user_data', async () => {
  const template = write(
    'group.yaml',
    `heat_template_version: 2021-04-16
parameters:
  count: { type: number, default: 3 }
resources:
  net:
    type: OS::Neutron::Net
  sub:
    type: OS::Neutron::Subnet
    properties: { network: { get_resource: net }, cidr: 10.62.0.0/24 }
  boot:
    type: OS::Heat::CloudConfig
    properties:
      cloud_config:
        runcmd: [echo hello from heat]
  script:
    type: OS::Heat::SoftwareConfig
    properties:
      group: ungrouped
      config: "#!/bin/sh\\necho raw\\n"
  group:
    type: OS::Heat::ResourceGroup
    depends_on: sub
    properties:
      count: { get_param: count }
      resource_def:
        type: OS::Nova::Server
        properties:
          name: web-%index%
          image: tiny
          flavor: m1.tiny
          networks: [{ network: { get_resource: net } }]
          user_data_format: RAW
          user_data: { get_resource: boot }
  single:
    type: OS::Nova::Server
    depends_on: sub
    properties:
      image: tiny
      flavor: m1.tiny
      networks: [{ network: { get_resource: net } }]
      user_data_format: SOFTWARE_CONFIG
      user_data: { get_resource: script }
outputs:
  ids: { value: { get_attr: [group, refs] } }
  names: { value: { get_attr: [group, name] } }
  first: { value: { get_attr: [group, resource.0] } }
  first_address: { value: { get_attr: [group, resource.0.first_address] } }
`,
  );
  // A preview makes nothing and shows what would be made.
  const preview = await json(asDemo, 'stack', 'create', '--dry-run', '-t', template, 'grp');
  const previewed = typeof preview.resources === 'string' ? JSON.parse(preview.resources) : preview.resources;
  assert.deepEqual(previewed.map((r: any) => r.resource_name).sort(), ['boot', 'group', 'net', 'script', 'single', 'sub']);
  assert.deepEqual(await json(asDemo, 'stack', 'list'), []);

  await asDemo('stack', 'create', '--wait', '--poll', '1', '-t', template, 'grp');
  const servers = async () => (await json(asDemo, 'server', 'list')).map((s: any) => s.Name).sort();
  assert.deepEqual(
    (await servers()).filter((n: string) => n.startsWith('web-')),
    ['web-0', 'web-1', 'web-2'],
  );
  const ids = (await json(asDemo, 'stack', 'output', 'show', 'grp', 'ids')).output_value;
  assert.equal(ids.length, 3);
  assert.deepEqual((await json(asDemo, 'stack', 'output', 'show', 'grp', 'names')).output_value, ['web-0', 'web-1', 'web-2']);
  assert.equal((await json(asDemo, 'stack', 'output', 'show', 'grp', 'first')).output_value, ids[0]);
  assert.match((await json(asDemo, 'stack', 'output', 'show', 'grp', 'first_address')).output_value, /^10\.62\.0\./);
  const members = (await json(asDemo, 'stack', 'resource', 'list', '-n', '2', 'grp')).filter((r: any) => /^\d$/.test(r.resource_name));
  assert.deepEqual(members.map((r: any) => r.resource_name).sort(), ['0', '1', '2']);

  // Each server's user_data is its config's content (what Nova gives the guest's metadata).
  const admin = await cloud.adminToken();
  const userData = async (id: string) => {
    const res = await cloud.request('GET', `/compute/v2.1/servers/${id}`, { token: admin, headers: { 'openstack-api-version': 'compute 2.3' } });
    return Buffer.from(res.body.server['OS-EXT-SRV-ATTR:user_data'], 'base64').toString();
  };
  assert.equal(await userData(ids[1]), '#cloud-config\nruncmd:\n  - echo hello from heat\n');
  const single = (await json(asDemo, 'stack', 'resource', 'show', 'grp', 'single')).physical_resource_id;
  assert.equal(await userData(single), '#!/bin/sh\necho raw\n');

  // Grown to 4: the three keep their ids; shrunk to 1: the highest indexes go.
  await asDemo('stack', 'update', '--wait', '--existing', '--parameter', 'count=4', 'grp');
  const grown = (await json(asDemo, 'stack', 'output', 'show', 'grp', 'ids')).output_value;
  assert.deepEqual(grown.slice(0, 3), ids);
  assert.equal(grown.length, 4);
  await asDemo('stack', 'update', '--wait', '--existing', '--parameter', 'count=1', 'grp');
  assert.deepEqual((await json(asDemo, 'stack', 'output', 'show', 'grp', 'ids')).output_value, [ids[0]]);
  assert.deepEqual(
    (await servers()).filter((n: string) => n.startsWith('web-')),
    ['web-0'],
  );
  await deletedWithAll('grp');
});

test('validate names the place of each refusal: yaql, an unknown condition, a missing file, a bad repeat, a nested template', async () => {
  const cases: [string, RegExp][] = [
    [
      'resources:\n  n:\n    type: OS::Neutron::Net\n    properties:\n      name: { yaql: { expression: "1" } }\n',
      /resources\.n\.properties\.name: "yaql" is not supported by this cloud/,
    ],
    ['resources:\n  n:\n    type: OS::Neutron::Net\n    condition: nope\n', /resources\.n\.condition: Invalid condition "nope"/],
    ['conditions:\n  c: { equals: [1] }\nresources: {}\n', /conditions\.c\.equals: Arguments to "equals" must be a list of two values/],
    [
      'resources:\n  n:\n    type: OS::Neutron::Net\n    properties:\n      name: { if: [missing, a, b] }\n',
      /resources\.n\.properties\.name\.if\[0\]: Invalid condition "missing"/,
    ],
    ['outputs:\n  o:\n    value: { repeat: { template: x } }\n', /outputs\.o\.value\.repeat: Arguments to "repeat" must be a map/],
  ];
  for (const [i, [body, expected]] of cases.entries()) {
    const file = write(`bad${i}.yaml`, `heat_template_version: 2018-08-31\n${body}`);
    assert.match(await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', file), expected);
  }
  // A get_file the files map lacks (the client reads every file it names, so through the API).
  const token = await cloud.login('demo', 'pw', 'demo');
  const project = (await json(asDemo, 'project', 'show', 'demo')).id;
  const template = { heat_template_version: '2018-08-31', resources: { n: { type: 'OS::Neutron::Net', properties: { name: { get_file: 'x.txt' } } } } };
  const res = await cloud.request('POST', `/orchestration/v1/${project}/validate`, { token, body: { template, files: { 'y.txt': 'y' } } });
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /resources\.n\.properties\.name\.get_file: No content found in the "files" section for get_file path: x\.txt/);
  // A template resource is read when its template is: its own mistakes carry both places.
  write('broken.yaml', 'heat_template_version: 2018-08-31\nresources:\n  x:\n    type: OS::Nope\n');
  const outer = write('outer.yaml', 'heat_template_version: 2018-08-31\nresources:\n  b:\n    type: broken.yaml\n');
  assert.match(
    await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', outer),
    /resources\.b: nested template: resources\.x: The Resource Type \(OS::Nope\) could not be found/,
  );
  const functions = await json(asDemo, 'orchestration', 'template', 'function', 'list', 'heat_template_version.2021-04-16');
  for (const f of ['repeat', 'if', 'get_file'])
    assert.ok(
      functions.some((x: any) => x.Functions === f),
      f,
    );
  const types = (await json(asDemo, 'orchestration', 'resource', 'type', 'list')).map((t: any) => t['Resource Type']);
  for (const t of ['OS::Heat::ResourceGroup', 'OS::Heat::SoftwareConfig', 'OS::Heat::CloudConfig', 'OS::Heat::RandomString']) assert.ok(types.includes(t), t);
});

test('custom constraints: a parameter that names no image, flavor, network or key pair the user can use is refused before anything is made', async () => {
  const file = write(
    'custom.yaml',
    `heat_template_version: 2018-08-31
parameters:
  image: { type: string, constraints: [{ custom_constraint: glance.image }] }
  flavor: { type: string, constraints: [{ custom_constraint: nova.flavor }] }
  network: { type: string, constraints: [{ custom_constraint: neutron.network }] }
  key: { type: string, default: '', constraints: [{ custom_constraint: nova.keypair }] }
resources:
  n:
    type: OS::Neutron::Net
`,
  );
  await asDemo('network', 'create', 'cc-net');
  const create = (...params: string[]) => cliFails(demo(), 'stack', 'create', '-t', file, ...params.flatMap((p) => ['--parameter', p]), 'cc');
  const good = ['image=tiny', 'flavor=m1.tiny', 'network=cc-net'];
  assert.match(await create('image=nope', ...good.slice(1)), /Parameter 'image' is invalid: Error validating value 'nope': The Image \(nope\) could not be found/);
  assert.match(await create(good[0]!, 'flavor=huge', good[2]!), /Parameter 'flavor' is invalid: Error validating value 'huge': The Flavor \(huge\) could not be found/);
  assert.match(await create(...good.slice(0, 2), 'network=elsewhere'), /Parameter 'network' is invalid: .*The network \(elsewhere\) could not be found/);
  assert.match(await create(...good, 'key=nokey'), /Parameter 'key' is invalid: .*The Key \(nokey\) could not be found/);
  // The admin's networks are not the demo user's to name.
  await ok('network', 'create', 'admin-only');
  assert.match(await create(...good.slice(0, 2), 'network=admin-only'), /Parameter 'network' is invalid/);
  assert.deepEqual(await json(asDemo, 'stack', 'list'), [], 'nothing was made');
  await asDemo('stack', 'create', '--wait', '-t', file, ...good.flatMap((p) => ['--parameter', p]), 'cc');
  assert.equal((await json(asDemo, 'stack', 'show', 'cc')).stack_status, 'CREATE_COMPLETE');
  // An update is checked as well.
  assert.match(await cliFails(demo(), 'stack', 'update', '--existing', '--parameter', 'image=gone', 'cc'), /Parameter 'image' is invalid/);
  await asDemo('stack', 'delete', '--yes', '--wait', 'cc');
  await asDemo('network', 'delete', 'cc-net');
  await ok('network', 'delete', 'admin-only');
  // A constraint this cloud does not know is refused at validate time.
  const unknown = write('unknown.yaml', 'heat_template_version: 2018-08-31\nparameters:\n  x: { type: string, constraints: [{ custom_constraint: foo.bar }] }\nresources: {}\n');
  assert.match(await cliFails(demo(), 'orchestration', 'template', 'validate', '-t', unknown), /Parameter 'x' is invalid: no custom constraint foo\.bar/);
});

test('nubo stack update --wait prints the events as they come; output, resource (nested too) and event as openstack shows them', async () => {
  const nuboDemo = cliAs(demo, nubo);
  const template = write(
    'secrets.yaml',
    `heat_template_version: 2021-04-16
parameters:
  count: { type: number, default: 2 }
resources:
  # Named as its stack: the stack's own events are told apart by their id.
  secrets:
    type: OS::Heat::ResourceGroup
    properties:
      count: { get_param: count }
      resource_def: { type: OS::Heat::RandomString, properties: { length: 8 } }
outputs:
  values:
    description: one secret per member
    value: { get_attr: [secrets, value] }
`,
  );
  await nuboDemo('stack', 'create', '--wait', '-t', template, 'secrets');
  const updated = await nuboDemo('stack', 'update', '--existing', '--wait', '--parameter', 'count=3', 'secrets');
  assert.match(updated, /\[secrets\.secrets\]: UPDATE_IN_PROGRESS/);
  assert.match(updated, /\[secrets\]: UPDATE_COMPLETE/);
  assert.match(updated, /\| stack_status +\| UPDATE_COMPLETE/);

  const outputs = JSON.parse(await nuboDemo('stack', 'output', 'list', 'secrets', '-f', 'json'));
  assert.deepEqual(outputs, await json(asDemo, 'stack', 'output', 'list', 'secrets'));
  const values = JSON.parse(await nuboDemo('stack', 'output', 'show', 'secrets', 'values', '-f', 'json'));
  assert.equal(values.output_value.length, 3);
  assert.deepEqual(values.output_value, (await json(asDemo, 'stack', 'output', 'show', 'secrets', 'values')).output_value);

  const nested = JSON.parse(await nuboDemo('stack', 'resource', 'list', '-n', '1', 'secrets', '-f', 'json'));
  const theirs = await json(asDemo, 'stack', 'resource', 'list', '-n', '1', 'secrets');
  const key = (r: any) => `${r.resource_name} ${r.resource_type} ${r.resource_status} ${r.stack_name}`;
  assert.deepEqual(nested.map(key).sort(), theirs.map(key).sort());
  assert.equal(nested.length, 4);
  const shown = JSON.parse(await nuboDemo('stack', 'resource', 'show', 'secrets', 'secrets', '-f', 'json'));
  assert.equal(shown.physical_resource_id, (await json(asDemo, 'stack', 'resource', 'show', 'secrets', 'secrets')).physical_resource_id);
  assert.equal(shown.attributes.refs.length, 3);

  const events = JSON.parse(await nuboDemo('stack', 'event', 'list', 'secrets', '-f', 'json'));
  assert.deepEqual(
    events.map((e: any) => e.id),
    (await json(asDemo, 'stack', 'event', 'list', 'secrets')).map((e: any) => e.id),
  );
  assert.equal(events.at(-1).resource_status, 'UPDATE_COMPLETE');
  // With a nested depth, the group's own stack's events come in between, in the order they happened.
  const all = JSON.parse(await nuboDemo('stack', 'event', 'list', '--nested-depth', '1', 'secrets', '-f', 'json'));
  const theirAll = await json(asDemo, 'stack', 'event', 'list', '--nested-depth', '1', 'secrets');
  assert.deepEqual(
    all.map((e: any) => `${e.id} ${e.stack_name}`),
    theirAll.map((e: any) => `${e.id} ${e.stack_name}`),
  );
  const inGroup = all.filter((e: any) => e.stack_name !== 'secrets');
  assert.ok(
    inGroup.some((e: any) => e.resource_name === '2' && e.resource_status === 'CREATE_COMPLETE'),
    JSON.stringify(inGroup),
  );
  assert.equal(all.length, events.length + inGroup.length);
  const missing = await nubo(demo(), 'stack', 'output', 'list', 'nothere');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Stack not found: nothere/);
  await nuboDemo('stack', 'delete', '--yes', '--wait', 'secrets');
  assert.deepEqual(await json(asDemo, 'stack', 'list'), []);
});

test('a flavor (admin only), security group rules and a load balancer with listener, pool, member and monitor: made, updated and removed', async () => {
  const types = (await json(ok, 'orchestration', 'resource', 'type', 'list')).map((t: any) => t['Resource Type']);
  for (const t of [
    'Nova::Flavor',
    'Neutron::SecurityGroupRule',
    'Octavia::LoadBalancer',
    'Octavia::Listener',
    'Octavia::Pool',
    'Octavia::PoolMember',
    'Octavia::HealthMonitor',
  ])
    assert.ok(types.includes(`OS::${t}`), t);

  // A member's stack is refused the flavor with Nova's reason, and its delete finds nothing to remove.
  const onlyFlavor = write(
    'flavor.yaml',
    `heat_template_version: 2018-08-31\nresources:\n  flavor: { type: OS::Nova::Flavor, properties: { ram: 64, vcpus: 1 } }\n`,
  );
  await cliFails(demo(), 'stack', 'create', '--wait', '-t', onlyFlavor, 'no-flavor');
  const refused = await json(asDemo, 'stack', 'show', 'no-flavor');
  assert.equal(refused.stack_status, 'CREATE_FAILED');
  assert.match(refused.stack_status_reason, /Forbidden: resources\.flavor: Policy doesn't allow compute:flavor-manage:create/);
  await asDemo('stack', 'delete', '--yes', '--wait', 'no-flavor');

  const template = write(
    'lb.yaml',
    `heat_template_version: 2018-08-31
parameters:
  rule_port: { type: number, default: 80 }
  algorithm: { type: string, default: ROUND_ROBIN }
resources:
  flavor:
    type: OS::Nova::Flavor
    properties: { name: heat-lb-flavor, ram: 128, vcpus: 2, disk: 2, swap: 16, ephemeral: 1, rxtx_factor: 1.5, is_public: false, extra_specs: { 'hw:cpu_policy': shared } }
  group:
    type: OS::Neutron::SecurityGroup
    properties: { name: heat-web }
  web:
    type: OS::Neutron::SecurityGroupRule
    properties:
      security_group: { get_resource: group }
      protocol: tcp
      port_range_min: { get_param: rule_port }
      port_range_max: { get_param: rule_port }
      remote_ip_prefix: 10.0.0.0/8
  peers:
    type: OS::Neutron::SecurityGroupRule
    properties: { security_group: { get_resource: group }, protocol: icmp, remote_mode: remote_group_id, description: pings between members }
  net:
    type: OS::Neutron::Net
    properties: { name: heat-lb-net }
  subnet:
    type: OS::Neutron::Subnet
    properties: { network: { get_resource: net }, cidr: 10.62.0.0/24 }
  lb:
    type: OS::Octavia::LoadBalancer
    properties: { name: heat-lb, vip_subnet: { get_resource: subnet }, vip_address: 10.62.0.10 }
  listener:
    type: OS::Octavia::Listener
    properties: { name: heat-listener, loadbalancer: { get_resource: lb }, protocol: HTTP, protocol_port: 80, connection_limit: 100 }
  pool:
    type: OS::Octavia::Pool
    properties: { name: heat-pool, listener: { get_resource: listener }, protocol: HTTP, lb_algorithm: { get_param: algorithm }, session_persistence: { type: SOURCE_IP } }
  member:
    type: OS::Octavia::PoolMember
    properties: { pool: { get_resource: pool }, address: 10.62.0.20, protocol_port: 8080, subnet: { get_resource: subnet }, weight: 5 }
  monitor:
    type: OS::Octavia::HealthMonitor
    properties: { pool: { get_resource: pool }, type: HTTP, delay: 5, timeout: 3, max_retries: 2, max_retries_down: 3, url_path: /health, expected_codes: '200-204', http_method: GET }
outputs:
  vip: { value: { get_attr: [lb, vip_address] } }
  member_pool: { value: { get_attr: [member, pool_id] } }
`,
  );
  const made = afterEvents(await ok('stack', 'create', '--wait', '-t', template, 'lbs', '-f', 'json'));
  assert.equal(made.stack_status, 'CREATE_COMPLETE');
  const ids = async () =>
    Object.fromEntries((await json(ok, 'stack', 'resource', 'list', 'lbs')).map((r: any) => [r.resource_name, r.physical_resource_id])) as Record<
      string,
      string
    >;
  const before = await ids();
  const outputs = Object.fromEntries((await json(ok, 'stack', 'show', 'lbs')).outputs.map((o: any) => [o.output_key, o.output_value]));
  assert.deepEqual([outputs.vip, outputs.member_pool], ['10.62.0.10', before.pool]);

  const flavor = await json(ok, 'flavor', 'show', 'heat-lb-flavor');
  assert.equal(flavor.id, before.flavor);
  assert.deepEqual(
    [flavor.ram, flavor.vcpus, flavor.disk, flavor.swap, flavor['OS-FLV-EXT-DATA:ephemeral'], flavor.rxtx_factor, flavor['os-flavor-access:is_public']],
    [128, 2, 2, 16, 1, 1.5, false],
  );
  assert.deepEqual(flavor.properties, { 'hw:cpu_policy': 'shared' });

  const token = await cloud.adminToken();
  const get = async (path: string) => (await cloud.request('GET', path, { token })).body;
  const rule = async (id: string) => (await get(`/networking/v2.0/security-group-rules/${id}`)).security_group_rule;
  const web = await rule(before.web!);
  assert.deepEqual(
    [web.security_group_id, web.direction, web.protocol, web.port_range_min, web.port_range_max, web.remote_ip_prefix],
    [before.group, 'ingress', 'tcp', 80, 80, '10.0.0.0/8'],
  );
  const peers = await rule(before.peers!);
  assert.deepEqual([peers.protocol, peers.remote_group_id, peers.description], ['icmp', before.group, 'pings between members']);

  const lb = await json(ok, 'loadbalancer', 'show', 'heat-lb');
  assert.deepEqual([lb.id, lb.vip_address, lb.vip_subnet_id, lb.provisioning_status], [before.lb, '10.62.0.10', before.subnet, 'ACTIVE']);
  const lbaas = (path: string) => get(`/load-balancer/v2/lbaas/${path}`);
  const listener = (await lbaas(`listeners/${before.listener}`)).listener;
  assert.deepEqual(
    [listener.name, listener.protocol, listener.protocol_port, listener.connection_limit, listener.default_pool_id],
    ['heat-listener', 'HTTP', 80, 100, before.pool],
  );
  const pool = (await lbaas(`pools/${before.pool}`)).pool;
  assert.deepEqual(
    [pool.name, pool.protocol, pool.lb_algorithm, pool.session_persistence?.type, pool.healthmonitor_id],
    ['heat-pool', 'HTTP', 'ROUND_ROBIN', 'SOURCE_IP', before.monitor],
  );
  const member = (await lbaas(`pools/${before.pool}/members/${before.member}`)).member;
  assert.deepEqual(
    [member.address, member.protocol_port, member.subnet_id, member.weight, member.provisioning_status],
    ['10.62.0.20', 8080, before.subnet, 5, 'ACTIVE'],
  );
  const monitor = (await lbaas(`healthmonitors/${before.monitor}`)).healthmonitor;
  assert.deepEqual(
    [
      monitor.type,
      monitor.delay,
      monitor.timeout,
      monitor.max_retries,
      monitor.max_retries_down,
      monitor.url_path,
      monitor.expected_codes,
      monitor.http_method,
    ],
    ['HTTP', 5, 3, 2, 3, '/health', '200-204', 'GET'],
  );

  // A rule changes by replacement, a pool's algorithm in place.
  await ok('stack', 'update', '--existing', '--wait', '--parameter', 'rule_port=8443', '--parameter', 'algorithm=LEAST_CONNECTIONS', 'lbs');
  assert.equal((await json(ok, 'stack', 'show', 'lbs')).stack_status, 'UPDATE_COMPLETE');
  const after = await ids();
  assert.notEqual(after.web, before.web);
  assert.equal((await cloud.request('GET', `/networking/v2.0/security-group-rules/${before.web}`, { token })).status, 404);
  assert.deepEqual([(await rule(after.web!)).port_range_min, (await rule(after.web!)).port_range_max], [8443, 8443]);
  assert.deepEqual([after.pool, after.member, after.monitor, after.peers], [before.pool, before.member, before.monitor, before.peers]);
  const updated = (await lbaas(`pools/${before.pool}`)).pool;
  assert.deepEqual([updated.lb_algorithm, updated.provisioning_status], ['LEAST_CONNECTIONS', 'ACTIVE']);

  await ok('stack', 'delete', '--yes', '--wait', 'lbs');
  const gone = async (path: string) => assert.equal((await cloud.request('GET', path, { token })).status, 404, path);
  await gone(`/compute/v2.1/flavors/${before.flavor}`);
  await gone(`/networking/v2.0/security-groups/${before.group}`);
  for (const r of [before.peers, after.web]) await gone(`/networking/v2.0/security-group-rules/${r}`);
  await gone(`/networking/v2.0/networks/${before.net}`);
  for (const [kind, id] of [
    ['loadbalancers', before.lb],
    ['listeners', before.listener],
    ['pools', before.pool],
    ['healthmonitors', before.monitor],
  ])
    await gone(`/load-balancer/v2/lbaas/${kind}/${id}`);
  assert.deepEqual(await json(ok, 'loadbalancer', 'list'), []);
});
