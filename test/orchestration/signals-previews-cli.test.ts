import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { cliAs, nubo, type TestCloud } from '../helpers/cloud.ts';
import { demoEnv, startHeatCloud, stopHeatCloud } from './heat-cloud.ts';

// Wait conditions through python3-heatclient and Heat's signal URL against a cloud in this
// process with the fake virt driver: signals from a user outside and, through the metadata
// service's socket as a network's proxy forwards a guest's request, from the server itself. Then
// what an update would do (`stack update --dry-run`), and nubo reading environments and files.
let cloud: TestCloud;
let dataDir: string;
let work: string;
let env: Record<string, string>;
let token: string;
let project: string;
const demo = () => demoEnv(env);
const asDemo = cliAs(demo);
const json = async (...args: string[]) => JSON.parse(await asDemo(...args, '-f', 'json'));
const write = (name: string, text: string) => {
  writeFileSync(join(work, name), text);
  return join(work, name);
};

before(async () => {
  ({ cloud, dataDir, work, env } = await startHeatCloud('heat-s'));
  token = await cloud.login('demo', 'pw', 'demo');
  project = (await json('project', 'show', 'demo')).id;
});

after(() => stopHeatCloud({ cloud, dataDir, work }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stackPath = (name: string, id: string) => `/orchestration/v1/${project}/stacks/${name}/${id}`;

/** Polls until check answers something, for at most a minute. */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(200);
  }
  throw new Error(`${what}: not in time`);
}

/** The stack once its action has ended. */
const ended = (name: string, id: string) =>
  until(`${name} ended`, async () => {
    const s = (await cloud.request('GET', stackPath(name, id), { token })).body.stack;
    return s.stack_status.endsWith('IN_PROGRESS') ? undefined : s;
  });

/** A resource of the stack once it has been made. */
const made = (name: string, id: string, resource: string) =>
  until(`${resource} made`, async () => {
    const r = (await cloud.request('GET', `${stackPath(name, id)}/resources/${resource}`, { token })).body.resource;
    return r?.physical_resource_id ? r : undefined;
  });

/** A call to the metadata service's socket as the network's proxy forwards a guest's. */
function asGuest(path: string, network: string, ip: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        socketPath: join(dataDir, 'metadata.sock'),
        path,
        method: opts.method ?? 'GET',
        headers: { ...opts.headers, 'x-nubo-network-id': network, 'x-forwarded-for': ip },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const WAIT_TEMPLATE = `heat_template_version: 2018-08-31
parameters:
  count: { type: number, default: 2 }
  timeout: { type: number, default: 120 }
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    properties:
      handle: { get_resource: handle }
      count: { get_param: count }
      timeout: { get_param: timeout }
outputs:
  data:
    value: { get_attr: [wait, data] }
`;

test('a WaitCondition ends on its signals from outside, fails on a FAILURE with its reason, and times out saying how many came', async () => {
  const template = write('wait.yaml', WAIT_TEMPLATE);
  const { id } = await json('stack', 'create', '-t', template, 'waited');
  const handle = await made('waited', id, 'handle');
  const { token: secret, endpoint, curl_cli: curl } = handle.attributes;
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.equal(endpoint, `http://169.254.169.254/orchestration/v1/${project}/stacks/waited/${id}/resources/handle/signal`);
  assert.equal(curl, `curl -i -X POST -H 'X-Auth-Token: ${secret}' -H 'Content-Type: application/json' -H 'Accept: application/json' ${endpoint}`);

  // The public URL: the user's token, or the handle's; nothing else.
  const signal = `${stackPath('waited', id)}/resources/handle/signal`;
  assert.equal((await cloud.request('POST', signal, { body: { status: 'SUCCESS' } })).status, 401);
  assert.equal((await cloud.request('POST', signal, { body: {}, headers: { 'x-nubo-signal-token': 'f'.repeat(64) } })).status, 401);
  const bad = await cloud.request('POST', signal, { token, body: { status: 'DONE' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /must be SUCCESS or FAILURE/);
  const notHandle = await cloud.request('POST', `${stackPath('waited', id)}/resources/wait/signal`, { token, body: {} });
  assert.equal(notHandle.status, 400);

  await asDemo('stack', 'resource', 'signal', 'waited', 'handle', '--data', '{"status": "SUCCESS", "reason": "first up", "data": "a", "id": "one"}');
  await sleep(700);
  assert.equal((await cloud.request('GET', stackPath('waited', id), { token })).body.stack.stack_status, 'CREATE_IN_PROGRESS', 'one of two signals');
  assert.equal((await cloud.request('POST', signal, { body: { data: 'b' }, headers: { 'x-nubo-signal-token': secret } })).status, 200);
  const done = await ended('waited', id);
  assert.equal(done.stack_status, 'CREATE_COMPLETE', done.stack_status_reason);
  assert.deepEqual(JSON.parse((await json('stack', 'output', 'show', 'waited', 'data')).output_value), { one: 'a', '2': 'b' });

  const failing = await json('stack', 'create', '-t', template, '--parameter', 'count=1', 'failing');
  await made('failing', failing.id, 'handle');
  await asDemo('stack', 'resource', 'signal', 'failing', 'handle', '--data', '{"status": "FAILURE", "reason": "disk full"}');
  const failed = await ended('failing', failing.id);
  assert.equal(failed.stack_status, 'CREATE_FAILED');
  assert.equal(failed.stack_status_reason, 'Resource CREATE failed: WaitConditionFailure: resources.wait: disk full');

  const late = await json('stack', 'create', '-t', template, '--parameter', 'count=1', '--parameter', 'timeout=2', 'late');
  const timedOut = await ended('late', late.id);
  assert.equal(timedOut.stack_status, 'CREATE_FAILED');
  assert.equal(timedOut.stack_status_reason, 'Resource CREATE failed: WaitConditionTimeout: resources.wait: 0 of 1 received');

  await asDemo('stack', 'delete', '--yes', '--wait', 'waited', 'failing', 'late');
  assert.deepEqual(await json('stack', 'list'), []);
});

test("a server's user_data signals its WaitCondition through the metadata service, as the guest's curl would", async () => {
  const template = write(
    'guest.yaml',
    `heat_template_version: 2018-08-31
resources:
  net: { type: OS::Neutron::Net }
  subnet:
    type: OS::Neutron::Subnet
    properties: { network: { get_resource: net }, cidr: 10.63.0.0/24 }
  handle: { type: OS::Heat::WaitConditionHandle }
  server:
    type: OS::Nova::Server
    depends_on: subnet
    properties:
      image: tiny
      flavor: m1.tiny
      networks: [{ network: { get_resource: net } }]
      user_data_format: RAW
      user_data:
        str_replace:
          template: |
            #!/bin/sh
            wc_notify --data-binary '{"status": "SUCCESS", "data": "booted"}'
          params:
            wc_notify: { get_attr: [handle, curl_cli] }
  wait:
    type: OS::Heat::WaitCondition
    depends_on: server
    properties: { handle: { get_resource: handle }, timeout: 120 }
outputs:
  data:
    value: { get_attr: [wait, data] }
`,
  );
  const { id } = await json('stack', 'create', '-t', template, 'guest');
  const network = (await made('guest', id, 'net')).physical_resource_id;
  const serverId = (await made('guest', id, 'server')).physical_resource_id;
  const ip = await until('server address', async () => {
    const s = (await cloud.request('GET', `/compute/v2.1/servers/${serverId}`, { token })).body.server;
    return s.status === 'ACTIVE' ? (Object.values(s.addresses).flat() as { addr: string }[])[0]?.addr : undefined;
  });

  // What the guest reads and runs: its user_data, with the handle's curl command in it.
  const script = await asGuest('/openstack/latest/user_data', network, ip);
  assert.equal(script.status, 200);
  const [, secret, url, body] = /X-Auth-Token: (\w+)'.* (http:\/\/169\.254\.169\.254\S+) --data-binary '(.*)'/.exec(script.body)!;
  const path = new URL(url!).pathname;
  const post = (key: string) => asGuest(path, network, ip, { method: 'POST', headers: { 'x-auth-token': key, 'content-type': 'application/json' }, body });
  assert.equal((await post('0'.repeat(64))).status, 401);
  // Only a server of the network reaches it.
  assert.equal((await asGuest(path, network, '10.63.0.250', { method: 'POST', body })).status, 404);
  assert.equal((await post(secret!)).status, 200);

  const done = await ended('guest', id);
  assert.equal(done.stack_status, 'CREATE_COMPLETE', done.stack_status_reason);
  assert.deepEqual(JSON.parse((await json('stack', 'output', 'show', 'guest', 'data')).output_value), { '1': 'booted' });
  await asDemo('stack', 'delete', '--yes', '--wait', 'guest');
  assert.deepEqual((await cloud.request('GET', '/compute/v2.1/servers', { token })).body.servers, []);
});

test("nubo stack create -e reads environments and files as heatclient does; update --dry-run tells each resource's change, changing nothing", async () => {
  mkdirSync(join(work, 'net'));
  write('net/cidr.txt', '10.64.0.0/24');
  write(
    'net/named.yaml',
    `heat_template_version: 2018-08-31
parameters:
  name: { type: string }
resources:
  net:
    type: OS::Neutron::Net
    properties: { name: { get_param: name } }
outputs:
  id:
    value: { get_resource: net }
`,
  );
  const environment = write('env.yaml', 'parameters:\n  label: first\nresource_registry:\n  My::Net: net/named.yaml\n');
  const main = (subnetName: string, secretLength: number, last: string) => `heat_template_version: 2018-08-31
parameters:
  label: { type: string }
resources:
  net:
    type: My::Net
    properties: { name: { get_param: label } }
  subnet:
    type: OS::Neutron::Subnet
    properties:
      name: ${subnetName}
      network: { get_attr: [net, id] }
      cidr: { get_file: net/cidr.txt }
  secret:
    type: OS::Heat::RandomString
    properties: { length: ${secretLength} }
  ${last}:
    type: OS::Heat::RandomString
outputs:
  cidr:
    value: { get_attr: [subnet, cidr] }
`;
  const nuboDemo = cliAs(demo, nubo);
  await nuboDemo('stack', 'create', '--wait', '-e', environment, '-t', write('main.yaml', main('inner', 8, 'gone')), 'envd');
  assert.equal((await json('stack', 'output', 'show', 'envd', 'cidr')).output_value, '10.64.0.0/24');
  const nets = (await cloud.request('GET', '/networking/v2.0/networks?name=first', { token })).body.networks;
  assert.equal(nets.length, 1);

  // The subnet's name changes in place, the secret's length replaces it, one resource comes and one goes.
  const next = write('next.yaml', main('renamed', 10, 'extra'));
  const expected = { added: ['extra'], deleted: ['gone'], replaced: ['secret'], unchanged: ['net'], updated: ['subnet'] };
  const names = (shown: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(shown).map(([kind, rows]) => [
        kind,
        JSON.parse(rows)
          .map((r: { resource_name: string }) => r.resource_name)
          .sort(),
      ]),
    );
  assert.deepEqual(names(await json('stack', 'update', '--dry-run', '-e', environment, '-t', next, 'envd')), expected);
  assert.deepEqual(names(JSON.parse(await nuboDemo('stack', 'update', '--dry-run', '-e', environment, '-t', next, 'envd', '-f', 'json'))), expected);
  // PATCH keeps the template: a new label alone renames the nested network, in place.
  const patched = names(JSON.parse(await nuboDemo('stack', 'update', '--dry-run', '--existing', '--parameter', 'label=second', 'envd', '-f', 'json')));
  assert.deepEqual(patched, { added: [], deleted: [], replaced: [], unchanged: ['gone', 'secret', 'subnet'], updated: ['net'] });
  const stack = await json('stack', 'show', 'envd');
  assert.equal(stack.stack_status, 'CREATE_COMPLETE');
  const bad = await nubo(demo(), 'stack', 'update', '--dry-run', '--existing', '--parameter', 'nothere=1', 'envd');
  assert.notEqual(bad.code, 0);

  await nuboDemo('stack', 'delete', '--yes', '--wait', 'envd');
  assert.deepEqual((await cloud.request('GET', '/networking/v2.0/networks?name=first', { token })).body.networks, []);
});

test('stack abandon forgets the stack and its nested one, leaves what they made and says what that was', async () => {
  const template = write(
    'abandon.yaml',
    `heat_template_version: 2018-08-31
resources:
  net: { type: OS::Neutron::Net, properties: { name: kept } }
  group:
    type: OS::Heat::ResourceGroup
    properties: { count: 2, resource_def: { type: OS::Heat::RandomString } }
`,
  );
  await asDemo('stack', 'create', '--wait', '-t', template, 'left');
  const net = (await json('stack', 'resource', 'show', 'left', 'net')).physical_resource_id;
  const data = await json('stack', 'abandon', 'left');
  assert.equal(data.name, 'left');
  assert.equal(data.resources.net.resource_id, net);
  assert.deepEqual(Object.keys(data.resources.group.resources).sort(), ['0', '1']);
  assert.deepEqual(await json('stack', 'list', '--nested'), []);
  assert.equal((await cloud.request('GET', `/networking/v2.0/networks/${net}`, { token })).body.network.name, 'kept');
  assert.equal((await cloud.request('DELETE', `/networking/v2.0/networks/${net}`, { token })).status, 204);
});
