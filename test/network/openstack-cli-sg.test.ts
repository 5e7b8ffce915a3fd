import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnNubo, type SpawnedNubo, cliAs, cliFails } from '../helpers/cloud.ts';

// Security groups, their rules and network quotas with the real openstack CLI against `nubo up`.
// The groups are a member's: as in Neutron, the admin sees every project's `default` group, so
// a name alone would be ambiguous to the admin.
let nubo: SpawnedNubo;
let demo: Record<string, string>;
let demoId: string;
before(async () => {
  nubo = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  await ok('project', 'create', 'demo');
  await ok('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
  await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
  demo = { ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' };
  demoId = (await json('project', 'show', 'demo')).id;
});
after(() => nubo?.stop());

const ok = cliAs(() => nubo.env);
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));
const asDemo = cliAs(() => demo);
const demoJson = async (...args: string[]) => JSON.parse(await asDemo(...args, '-f', 'json'));

test('security group create, rule create/list/delete, show', async () => {
  const web = await demoJson('security', 'group', 'create', 'web');
  assert.equal(web.name, 'web');
  assert.equal(web.description, 'web');
  assert.equal(web.rules.length, 2, 'egress for IPv4 and IPv6');
  const groups = await demoJson('security', 'group', 'list');
  assert.deepEqual(groups.map((g: any) => g.Name).sort(), ['default', 'web']);

  const ssh = await demoJson('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default');
  assert.deepEqual(
    [ssh.direction, ssh.protocol, ssh.port_range_min, ssh.port_range_max, ssh.remote_ip_prefix, ssh.ether_type],
    ['ingress', 'tcp', 22, 22, '0.0.0.0/0', 'IPv4'],
  );
  const ping = await demoJson('security', 'group', 'rule', 'create', '--proto', 'icmp', 'default');
  assert.equal(ping.protocol, 'icmp');
  assert.match(await cliFails(demo, 'security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default'), /409.*Rule id is/s);
  assert.match(await cliFails(demo, 'security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', '--remote-ip', '::/0', 'default'), /\b400\b/);

  const rules = await demoJson('security', 'group', 'rule', 'list', 'default', '--long');
  const summary = rules.map((r: any) => [r.Direction, r.Ethertype, r['IP Protocol'], r['Port Range'], r['IP Range']]);
  assert.equal(rules.length, 6);
  assert.deepEqual(summary.filter((s: any[]) => s[2] !== null).sort(), [
    ['ingress', 'IPv4', 'icmp', '', '0.0.0.0/0'],
    ['ingress', 'IPv4', 'tcp', '22:22', '0.0.0.0/0'],
  ]);
  const shown = await demoJson('security', 'group', 'show', 'default');
  assert.equal(shown.rules.length, 6);
  assert.equal(shown.project_id, demoId);

  await asDemo('security', 'group', 'rule', 'delete', ssh.id);
  assert.equal((await demoJson('security', 'group', 'rule', 'list', 'default')).length, 5);
  assert.match(await cliFails(demo, 'security', 'group', 'delete', 'default'), /409|default security group/i);
  await asDemo('security', 'group', 'delete', 'web');
  assert.deepEqual(
    (await demoJson('security', 'group', 'list')).map((g: any) => g.Name),
    ['default'],
  );
});

test('quota set and quota list --network (--detail)', async () => {
  await ok('quota', 'set', '--networks', '5', '--ports', '20', '--secgroups', '7', demoId);
  const changed = await json('quota', 'list', '--network');
  assert.deepEqual(
    changed.map((r: any) => [r['Project ID'], r.Networks, r.Ports, r['Security Groups'], r.Routers]),
    [[demoId, 5, 20, 7, 10]],
  );
  const detail = await json('quota', 'list', '--network', '--detail', '--project', 'demo');
  const byName = Object.fromEntries(detail.map((r: any) => [r.Resource, r]));
  assert.deepEqual([byName.networks.Limit, byName.ports.Limit, byName.security_groups.Limit], [5, 20, 7]);
  assert.equal(byName.security_groups['In Use'], 1, 'the default group');
  assert.equal(byName.security_group_rules['In Use'], 5);
  assert.equal(byName.security_group_rules.Reserved, 0);
  assert.match(await cliFails(demo, 'quota', 'set', '--ports', '100', demoId), /\b403\b/);
});

test('quota show gathers the network limits with the others', async () => {
  const shown = await json('quota', 'show', 'demo');
  assert.equal(shown.networks, 5);
  assert.equal(shown.ports, 20);
  assert.equal(shown.secgroups, 7);
  assert.equal(shown['secgroup-rules'], 100);
  assert.equal(shown.project, demoId);
});
