import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';

// Neutron's quotas: limits per project, their defaults and details, and creates racing for the
// last units of a limit.
// Each on the embedded store and on a PostgreSQL server, where requests really run at once.
for (const backend of ['pglite', 'postgres'] as const)
  describe(`network quotas on ${backend}`, () => {
    let c: TestCloud;
    let adminToken: string;
    let carol: { token: string; id: string };
    let dave: { token: string; id: string };

    let dropDb: (() => Promise<void>) | undefined;
    before(async () => {
      const pg = backend === 'postgres' ? await freshPostgres() : undefined;
      dropDb = pg?.drop;
      c = await startTestCloud({ database: pg?.url });
      adminToken = await c.adminToken();
      carol = await makeProject(c, adminToken, 'q-carol');
      dave = await makeProject(c, adminToken, 'q-dave');
    });
    after(async () => {
      await c?.stop();
      await dropDb?.();
    });

    const call = (token: string, method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token, body });
    const DEFAULTS = { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 };

    test('defaults, set, show, list, details and reset', async () => {
      assert.deepEqual((await call(carol.token, 'GET', `/quotas/${carol.id}`)).body.quota, DEFAULTS);
      assert.deepEqual((await call(carol.token, 'GET', `/quotas/${carol.id}/default`)).body.quota, DEFAULTS);
      assert.deepEqual((await call(carol.token, 'GET', '/quotas/project')).body, { project: { project_id: carol.id } });

      const set = await call(adminToken, 'PUT', `/quotas/${carol.id}`, { quota: { network: 5, port: '20', router: -1 } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(set.body.quota, { ...DEFAULTS, network: 5, port: 20, router: -1 });
      assert.deepEqual((await call(carol.token, 'GET', `/quotas/${carol.id}`)).body.quota, set.body.quota);
      const listed = (await call(adminToken, 'GET', '/quotas')).body.quotas;
      assert.deepEqual(listed, [{ ...set.body.quota, project_id: carol.id, tenant_id: carol.id }]);
      assert.deepEqual((await call(dave.token, 'GET', '/quotas')).body.quotas, [], 'a project sees only its own');

      await call(carol.token, 'POST', '/security-groups', { security_group: { name: 'one' } });
      const details = (await call(carol.token, 'GET', `/quotas/${carol.id}/details`)).body.quota;
      assert.deepEqual(details.network, { limit: 5, used: 0, reserved: 0 });
      assert.deepEqual(details.security_group, { limit: 10, used: 2, reserved: 0 }, 'the default group counts too');
      assert.deepEqual(details.security_group_rule, { limit: 100, used: 6, reserved: 0 });
      assert.deepEqual(Object.keys(details).sort(), Object.keys(DEFAULTS).sort());

      const checked = await call(adminToken, 'PUT', `/quotas/${carol.id}`, { quota: { security_group: 1, check_limit: true } });
      assert.equal(checked.status, 400);
      assert.match(checked.body.NeutronError.message, /Quota limit 1 for security_group must be greater than or equal to already used 2/);
      assert.equal((await call(adminToken, 'PUT', `/quotas/${carol.id}`, { quota: { security_group: 1, force: true } })).status, 200);

      assert.equal((await call(adminToken, 'DELETE', `/quotas/${carol.id}`)).status, 204);
      assert.deepEqual((await call(carol.token, 'GET', `/quotas/${carol.id}`)).body.quota, DEFAULTS);
      assert.deepEqual((await call(adminToken, 'GET', '/quotas')).body.quotas, []);
    });

    test('only the admin sets quotas; a project reads only its own', async () => {
      assert.equal((await call(carol.token, 'PUT', `/quotas/${carol.id}`, { quota: { network: 1000 } })).status, 403);
      assert.equal((await call(carol.token, 'DELETE', `/quotas/${carol.id}`)).status, 403);
      assert.equal((await call(carol.token, 'GET', `/quotas/${dave.id}`)).status, 403);
      assert.equal((await call(carol.token, 'GET', `/quotas/${dave.id}/details`)).status, 403);
      assert.equal((await call(adminToken, 'GET', `/quotas/${dave.id}/details`)).status, 200);
    });

    test('bad limits are 400s in Neutron’s words', async () => {
      const cases: [unknown, RegExp][] = [
        [{ quota: { network: -2 } }, /Invalid input for network. Reason: '-2' is too small - must be at least '-1'./],
        [{ quota: { network: 'many' } }, /'many' is not an integer/],
        [{ quota: { network: 1.5 } }, /is not an integer/],
        [{ quota: { network: 2 ** 31 } }, /too large/],
        [{ quota: { widgets: 1 } }, /Unrecognized attribute\(s\) 'widgets'/],
        [{ quota: { check_limit: 'perhaps' } }, /check_limit/],
        [{ quota: 5 }, /./],
        [{}, /./],
      ];
      for (const [body, message] of cases) {
        const res = await call(adminToken, 'PUT', `/quotas/${dave.id}`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.NeutronError.message, message);
      }
    });

    test('creates racing past a limit: exactly the limit succeeds, the rest get OverQuota', async () => {
      const eve = await makeProject(c, adminToken, 'q-eve');
      await call(eve.token, 'GET', '/security-groups'); // the default group: one group, four rules
      assert.equal((await call(adminToken, 'PUT', `/quotas/${eve.id}`, { quota: { security_group: 4, security_group_rule: 100 } })).status, 200);
      const made = await Promise.all(Array.from({ length: 8 }, (_, i) => call(eve.token, 'POST', '/security-groups', { security_group: { name: `g${i}` } })));
      assert.deepEqual(made.map((r) => r.status).sort(), [201, 201, 201, 409, 409, 409, 409, 409]);
      const refused = made.find((r) => r.status === 409)!;
      assert.deepEqual(refused.body.NeutronError, { type: 'OverQuota', message: "Quota exceeded for resources: ['security_group'].", detail: '' });
      assert.equal((await call(eve.token, 'GET', '/security-groups')).body.security_groups.length, 4);

      // Four default rules and two per new group are used; room for five more.
      assert.equal((await call(adminToken, 'PUT', `/quotas/${eve.id}`, { quota: { security_group_rule: 15 } })).status, 200);
      const group = made.find((r) => r.status === 201)!.body.security_group.id;
      const rules = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call(eve.token, 'POST', '/security-group-rules', {
            security_group_rule: { security_group_id: group, direction: 'ingress', protocol: 'tcp', port_range_min: 1000 + i, port_range_max: 1000 + i },
          }),
        ),
      );
      assert.deepEqual(rules.filter((r) => r.status === 201).length, 5);
      assert.ok(rules.filter((r) => r.status !== 201).every((r) => r.body.NeutronError.message === "Quota exceeded for resources: ['security_group_rule']."));
      const details = (await call(eve.token, 'GET', `/quotas/${eve.id}/details`)).body.quota;
      assert.deepEqual(details.security_group_rule, { limit: 15, used: 15, reserved: 0 });
      assert.deepEqual(details.security_group, { limit: 4, used: 4, reserved: 0 });

      // Unlimited is unlimited.
      await call(adminToken, 'PUT', `/quotas/${eve.id}`, { quota: { security_group: -1 } });
      assert.equal((await call(eve.token, 'POST', '/security-groups', { security_group: { name: 'more' } })).status, 409, 'the rules still count');
      await call(adminToken, 'PUT', `/quotas/${eve.id}`, { quota: { security_group_rule: -1 } });
      assert.equal((await call(eve.token, 'POST', '/security-groups', { security_group: { name: 'more' } })).status, 201);
    });
  });
