import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';

// Security groups and their rules through Neutron's API: the default group, validation as
// Neutron words it, duplicates, remote groups, and isolation between projects.
// Each on the embedded store and on a PostgreSQL server, where requests really run at once.
for (const backend of ['pglite', 'postgres'] as const)
  describe(`security groups on ${backend}`, () => {
    let c: TestCloud;
    let adminToken: string;
    let alice: { token: string; id: string };
    let bob: { token: string; id: string };

    let dropDb: (() => Promise<void>) | undefined;
    before(async () => {
      const pg = backend === 'postgres' ? await freshPostgres() : undefined;
      dropDb = pg?.drop;
      c = await startTestCloud({ database: pg?.url });
      adminToken = await c.adminToken();
      alice = await makeProject(c, adminToken, 'sg-alice');
      bob = await makeProject(c, adminToken, 'sg-bob');
    });
    after(async () => {
      await c?.stop();
      await dropDb?.();
    });

    const call = (token: string, method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token, body });
    const asAlice = (method: string, path: string, body?: unknown) => call(alice.token, method, path, body);
    const rule = (security_group_id: string, extra: Record<string, unknown> = {}) =>
      asAlice('POST', '/security-group-rules', { security_group_rule: { security_group_id, direction: 'ingress', ...extra } });
    const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

    test('the default group is made once, with its four rules, even by ten first requests at once', async () => {
      const fresh = await makeProject(c, adminToken, 'sg-fresh');
      const lists = await Promise.all(Array.from({ length: 10 }, () => call(fresh.token, 'GET', '/security-groups')));
      for (const l of lists) assert.equal(l.status, 200, JSON.stringify(l.body));
      const ids = new Set(lists.flatMap((l) => l.body.security_groups.map((g: any) => g.id)));
      assert.equal(ids.size, 1, 'one default group');
      const [g] = (await call(fresh.token, 'GET', '/security-groups')).body.security_groups;
      assert.equal(g.name, 'default');
      assert.equal(g.project_id, fresh.id);
      assert.equal(g.tenant_id, fresh.id);
      assert.equal(g.stateful, true);
      assert.equal(g.shared, false);
      assert.deepEqual(g.tags, []);
      assert.match(g.created_at, TIME);
      const rules = g.security_group_rules.map((r: any) => [r.direction, r.ethertype, r.protocol, r.remote_group_id, r.remote_ip_prefix]).sort();
      assert.deepEqual(rules, [
        ['egress', 'IPv4', null, null, null],
        ['egress', 'IPv6', null, null, null],
        ['ingress', 'IPv4', null, g.id, null],
        ['ingress', 'IPv6', null, g.id, null],
      ]);
      const r = g.security_group_rules[0];
      for (const k of [
        'id',
        'project_id',
        'tenant_id',
        'security_group_id',
        'port_range_min',
        'port_range_max',
        'remote_address_group_id',
        'normalized_cidr',
        'description',
        'revision_number',
      ])
        assert.ok(k in r, `rule field ${k}`);
      assert.match(r.updated_at, TIME);

      // The default group is the project's own: renamed or deleted by nobody but the admin.
      assert.equal((await call(fresh.token, 'PUT', `/security-groups/${g.id}`, { security_group: { name: 'x' } })).status, 409);
      assert.equal((await call(fresh.token, 'PUT', `/security-groups/${g.id}`, { security_group: { description: 'mine' } })).status, 200);
      const del = await call(fresh.token, 'DELETE', `/security-groups/${g.id}`);
      assert.equal(del.status, 409);
      assert.equal(del.body.NeutronError.type, 'SecurityGroupCannotRemoveDefault');
      assert.equal((await call(fresh.token, 'POST', '/security-groups', { security_group: { name: 'default' } })).status, 409);
      assert.equal((await call(adminToken, 'DELETE', `/security-groups/${g.id}`)).status, 204);
      const again = (await call(fresh.token, 'GET', '/security-groups')).body.security_groups;
      assert.equal(again.length, 1);
      assert.notEqual(again[0].id, g.id, 'made anew on the next need');
    });

    test('a group is created, shown, updated, tagged and deleted', async () => {
      const res = await asAlice('POST', '/security-groups', { security_group: { name: 'web', description: 'front' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const g = res.body.security_group;
      assert.equal(g.name, 'web');
      assert.equal(g.revision_number, 0);
      assert.deepEqual(g.security_group_rules.map((r: any) => [r.direction, r.ethertype]).sort(), [
        ['egress', 'IPv4'],
        ['egress', 'IPv6'],
      ]);
      const names = (await asAlice('GET', '/security-groups')).body.security_groups.map((x: any) => x.name).sort();
      assert.deepEqual(names, ['default', 'web'], 'the first group brings the default one');

      const up = await asAlice('PUT', `/security-groups/${g.id}`, { security_group: { name: 'www', stateful: false } });
      assert.equal(up.status, 200);
      assert.equal(up.body.security_group.name, 'www');
      assert.equal(up.body.security_group.stateful, false);
      assert.equal(up.body.security_group.revision_number, 1);
      assert.equal((await asAlice('PUT', `/security-groups/${g.id}`, { security_group: { id: 'x' } })).status, 400);
      assert.equal((await asAlice('PUT', `/security-groups/${g.id}/tags`, { tags: ['a', 'b'] })).status, 200);
      assert.equal((await asAlice('PUT', `/security-groups/${g.id}/tags/c`)).status, 201);
      assert.deepEqual((await asAlice('GET', `/security-groups/${g.id}`)).body.security_group.tags, ['a', 'b', 'c']);
      assert.equal((await asAlice('DELETE', `/security-groups/${g.id}/tags/zz`)).status, 404);

      assert.equal((await asAlice('DELETE', `/security-groups/${g.id}`)).status, 204);
      const gone = await asAlice('GET', `/security-groups/${g.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.NeutronError.type, 'SecurityGroupNotFound');
      assert.equal(gone.body.NeutronError.message, `Security group ${g.id} does not exist`);
    });

    test('rules are checked as Neutron checks them', async () => {
      const g = (await asAlice('POST', '/security-groups', { security_group: { name: 'checks' } })).body.security_group.id;
      const cases: [Record<string, unknown>, number, string | RegExp][] = [
        [{ direction: 'sideways' }, 400, /direction/],
        [{ ethertype: 'IPv5' }, 400, /ethertype/],
        [{ protocol: 'bogus' }, 400, /protocol bogus not supported/],
        [{ protocol: 256 }, 400, /not supported/],
        [{ protocol: 'tcp', port_range_min: 80, port_range_max: 22 }, 400, 'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
        [{ protocol: 'tcp', port_range_min: 0, port_range_max: 22 }, 400, 'Invalid value for port 0'],
        [{ protocol: 'tcp', port_range_min: 1, port_range_max: 70000 }, 400, 'Invalid value for port 70000'],
        [{ protocol: 'udp', port_range_min: 'x', port_range_max: 22 }, 400, 'Invalid value for port x'],
        [{ port_range_min: 22, port_range_max: 22 }, 400, 'Must also specify protocol if port range is given.'],
        [{ protocol: 'gre', port_range_min: 22, port_range_max: 22 }, 400, /Invalid protocol 47 for port range/],
        [{ protocol: 'icmp', port_range_min: 300 }, 400, 'Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.'],
        [{ protocol: 'icmp', port_range_max: 3 }, 400, /ICMP type \(port-range-min\) is missing/],
        [{ protocol: 'icmpv6' }, 400, 'Invalid ethertype IPv4 for protocol icmpv6.'],
        [{ remote_ip_prefix: 'not-a-cidr' }, 400, 'Invalid CIDR not-a-cidr given as IP prefix.'],
        [{ remote_ip_prefix: '10.0.0.0/33' }, 400, /Invalid CIDR/],
        [{ remote_ip_prefix: '::/0' }, 400, 'Conflicting value ethertype IPv4 for CIDR ::/0'],
        [{ remote_ip_prefix: '10.0.0.0/8', remote_group_id: g }, 400, 'Only remote_ip_prefix or remote_group_id may be provided.'],
        [{ remote_group_id: '00000000-0000-0000-0000-000000000000' }, 404, /does not exist/],
        [{ bogus: 1 }, 400, /Unrecognized attribute/],
        [{ port_range_min: true, protocol: 'tcp' }, 400, /./],
      ];
      for (const [extra, status, message] of cases) {
        const res = await rule(g, extra);
        assert.equal(res.status, status, `${JSON.stringify(extra)}: ${JSON.stringify(res.body)}`);
        if (typeof message === 'string') assert.equal(res.body.NeutronError.message, message);
        else assert.match(res.body.NeutronError.message, message);
      }
      assert.equal((await rule('00000000-0000-0000-0000-000000000000')).status, 404);
      assert.equal((await asAlice('POST', '/security-group-rules', { security_group_rule: { direction: 'ingress' } })).status, 400);
      assert.equal((await asAlice('POST', '/security-group-rules', { security_group_rule: 'x' })).status, 400);
      assert.equal((await asAlice('POST', '/security-group-rules', [])).status, 400);

      const ssh = await rule(g, { protocol: 'TCP', port_range_min: '22', port_range_max: 22, remote_ip_prefix: '10.1.2.3/8', description: 'ssh' });
      assert.equal(ssh.status, 201, JSON.stringify(ssh.body));
      const r = ssh.body.security_group_rule;
      assert.deepEqual(
        [r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix, r.normalized_cidr, r.ethertype, r.description, r.remote_address_group_id],
        ['tcp', 22, 22, '10.1.2.3/8', '10.0.0.0/8', 'IPv4', 'ssh', null],
      );
      const ping6 = await rule(g, { protocol: 'icmp', ethertype: 'ipv6', remote_ip_prefix: '2001:DB8::1' });
      assert.equal(ping6.status, 201, JSON.stringify(ping6.body));
      assert.deepEqual([ping6.body.security_group_rule.protocol, ping6.body.security_group_rule.remote_ip_prefix], ['ipv6-icmp', '2001:db8::1/128']);
      const any = await rule(g, { protocol: 'any', direction: 'egress', remote_ip_prefix: '192.168.0.0/16' });
      assert.equal(any.body.security_group_rule.protocol, null);
      const numbered = await rule(g, { protocol: 132, port_range_min: 5000, port_range_max: 5001 });
      assert.equal(numbered.body.security_group_rule.protocol, '132');

      const shown = await asAlice('GET', `/security-group-rules/${r.id}`);
      assert.equal(shown.body.security_group_rule.id, r.id);
      const listed = (await asAlice('GET', `/security-group-rules?security_group_id=${g}`)).body.security_group_rules;
      assert.equal(listed.length, 6);
      assert.equal((await asAlice('GET', `/security-groups/${g}`)).body.security_group.revision_number, 4, 'each rule bumps its group');
      assert.equal((await asAlice('DELETE', `/security-group-rules/${r.id}`)).status, 204);
      assert.equal((await asAlice('DELETE', `/security-group-rules/${r.id}`)).status, 404);
    });

    test('a rule that exists already is a 409 naming it; a protocol by number or name is one', async () => {
      const g = (await asAlice('POST', '/security-groups', { security_group: { name: 'dups' } })).body.security_group;
      const egress4 = g.security_group_rules.find((r: any) => r.ethertype === 'IPv4').id;
      const dup = await rule(g.id, { direction: 'egress', remote_ip_prefix: '0.0.0.0/0' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.NeutronError.type, 'SecurityGroupRuleExists');
      assert.equal(dup.body.NeutronError.message, `Security group rule already exists. Rule id is ${egress4}.`);
      const first = await rule(g.id, { protocol: 'tcp', port_range_min: 80, port_range_max: 80 });
      assert.equal(first.status, 201);
      const again = await rule(g.id, { protocol: '6', port_range_min: 80, port_range_max: 80 });
      assert.equal(again.status, 409);
      assert.match(again.body.NeutronError.message, new RegExp(first.body.security_group_rule.id));
      const wider = await rule(g.id, { protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_ip_prefix: '10.0.0.0/8' });
      assert.equal(wider.status, 201, 'another remote is another rule');
      assert.equal((await rule(g.id, { protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_ip_prefix: '10.9.9.9/8' })).status, 409, 'same network');
      const racing = await Promise.all(Array.from({ length: 5 }, () => rule(g.id, { protocol: 'udp', port_range_min: 53, port_range_max: 53 })));
      assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
    });

    test('a rule may allow the members of another group, which goes with it when deleted', async () => {
      const web = (await asAlice('POST', '/security-groups', { security_group: { name: 'web2' } })).body.security_group.id;
      const db = (await asAlice('POST', '/security-groups', { security_group: { name: 'db2' } })).body.security_group.id;
      const r = await rule(db, { protocol: 'tcp', port_range_min: 5432, port_range_max: 5432, remote_group_id: web });
      assert.equal(r.status, 201);
      assert.equal(r.body.security_group_rule.remote_group_id, web);
      assert.equal(r.body.security_group_rule.remote_ip_prefix, null);
      assert.equal((await asAlice('DELETE', `/security-groups/${web}`)).status, 204);
      assert.equal((await asAlice('GET', `/security-group-rules/${r.body.security_group_rule.id}`)).status, 404);
    });

    test('projects are isolated; the admin sees all', async () => {
      const g = (await asAlice('POST', '/security-groups', { security_group: { name: 'private' } })).body.security_group.id;
      const asBob = (method: string, path: string, body?: unknown) => call(bob.token, method, path, body);
      assert.equal((await asBob('GET', `/security-groups/${g}`)).status, 404);
      assert.equal((await asBob('PUT', `/security-groups/${g}`, { security_group: { name: 'mine' } })).status, 404);
      assert.equal((await asBob('DELETE', `/security-groups/${g}`)).status, 404);
      const bobs = (await asBob('GET', '/security-groups')).body.security_groups;
      assert.deepEqual(
        bobs.map((x: any) => [x.name, x.project_id]),
        [['default', bob.id]],
      );
      assert.equal((await asBob('POST', '/security-group-rules', { security_group_rule: { security_group_id: g, direction: 'ingress' } })).status, 404);
      const bobGroup = bobs[0].id;
      const cross = await rule(bobGroup);
      assert.equal(cross.status, 404, 'nor may alice add to bob’s');
      const remote = await asBob('POST', '/security-group-rules', {
        security_group_rule: { security_group_id: bobGroup, direction: 'ingress', remote_group_id: g },
      });
      assert.equal(remote.status, 404, 'nor name alice’s group as a remote');
      const aliceRules = (await asAlice('GET', '/security-group-rules')).body.security_group_rules;
      assert.ok(aliceRules.length > 0 && aliceRules.every((r: any) => r.project_id === alice.id));
      assert.equal((await asBob('GET', `/security-group-rules/${aliceRules[0].id}`)).status, 404);
      assert.equal((await asBob('DELETE', `/security-group-rules/${aliceRules[0].id}`)).status, 404);
      assert.equal((await asBob('POST', '/security-groups', { security_group: { name: 'x', project_id: alice.id } })).status, 403);

      const all = (await call(adminToken, 'GET', '/security-groups')).body.security_groups;
      assert.ok(all.some((x: any) => x.id === g) && all.some((x: any) => x.id === bobGroup));
      const made = await call(adminToken, 'POST', '/security-groups', { security_group: { name: 'for-bob', project_id: bob.id } });
      assert.equal(made.status, 201);
      assert.equal(made.body.security_group.project_id, bob.id);
      assert.ok((await asBob('GET', '/security-groups')).body.security_groups.some((x: any) => x.name === 'for-bob'));
    });

    test('bad bodies are 400s, never 500s', async () => {
      for (const body of [
        undefined,
        'x',
        [],
        { security_group: 'x' },
        { security_group: { name: 5 } },
        { security_group: { stateful: 'maybe' } },
        { security_group: { name: 'a'.repeat(300) } },
      ]) {
        const res = await asAlice('POST', '/security-groups', body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await asAlice('PUT', '/security-groups/nope', { security_group: {} })).status, 404);
    });
  });
