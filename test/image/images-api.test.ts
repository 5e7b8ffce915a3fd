import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { imagesOf, makeProject } from './helpers.ts';

// The same behaviour on the embedded store and on a PostgreSQL server.
for (const backend of ['pglite', 'postgres'] as const)
  describe(`images API on ${backend}`, () => {
    let c: TestCloud;
    let api: ReturnType<typeof imagesOf>;
    let admin: string;
    let dropDb: (() => Promise<void>) | undefined;
    before(async () => {
      const pg = backend === 'postgres' ? await freshPostgres() : undefined;
      dropDb = pg?.drop;
      c = await startTestCloud({ database: pg?.url });
      admin = await c.adminToken();
      api = imagesOf(c, (await makeProject(c, admin, 'images')).token);
    });
    after(async () => {
      await c?.stop();
      await dropDb?.();
    });

    test('version documents list v2.0 to v2.16, current last', async () => {
      const root = await c.request('GET', '/image');
      assert.equal(root.status, 300);
      assert.equal(root.body.versions.length, 17);
      assert.deepEqual(root.body.versions[0], { id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${c.url}/image/v2/` }] });
      assert.ok(root.body.versions.slice(1).every((v: { status: string }) => v.status === 'SUPPORTED'));
      const v2 = await c.request('GET', '/image/v2');
      assert.equal(v2.status, 200);
      assert.deepEqual(v2.body, root.body);
    });

    test('the schemas describe what create and update accept', async () => {
      const image = (await api.call('GET', '/v2/schemas/image')).body;
      assert.equal(image.name, 'image');
      assert.deepEqual(image.additionalProperties, { type: 'string' });
      for (const name of ['name', 'visibility', 'protected', 'os_hidden', 'disk_format', 'container_format', 'min_ram', 'min_disk', 'tags', 'owner']) {
        assert.ok(image.properties[name] && !image.properties[name].readOnly, `${name} is writable`);
      }
      for (const name of ['id', 'status', 'checksum', 'size', 'virtual_size', 'os_hash_algo', 'os_hash_value', 'created_at', 'self', 'file', 'schema']) assert.ok(image.properties[name], name);
      assert.ok(image.properties.disk_format.enum.includes('qcow2'));
      const images = (await api.call('GET', '/v2/schemas/images')).body;
      assert.deepEqual(images.properties.images.items, image);
      assert.deepEqual(images.links.map((l: { rel: string }) => l.rel), ['first', 'next', 'describedby']);
      assert.equal((await api.call('GET', '/v2/schemas/member')).body.name, 'member');
      assert.equal((await api.call('GET', '/v2/schemas/members')).status, 200);
      assert.equal((await c.request('GET', '/image/v2/schemas/image')).status, 401);
    });

    test('create: Glance defaults, free properties, a chosen id', async () => {
      const res = await api.call('POST', '/v2/images', { name: 'one', os_distro: 'ubuntu', hw_disk_bus: 'virtio', tags: ['a', 'b', 'a'] });
      assert.equal(res.status, 201);
      const i = res.body;
      assert.match(i.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(res.headers.get('location'), `${c.url}/image/v2/images/${i.id}`);
      assert.deepEqual(
        { ...i, id: undefined, owner: undefined, created_at: undefined, updated_at: undefined, self: undefined, file: undefined },
        {
          name: 'one',
          os_distro: 'ubuntu',
          hw_disk_bus: 'virtio',
          disk_format: null,
          container_format: null,
          visibility: 'shared',
          size: null,
          virtual_size: null,
          status: 'queued',
          checksum: null,
          protected: false,
          min_ram: 0,
          min_disk: 0,
          os_hidden: false,
          os_hash_algo: null,
          os_hash_value: null,
          tags: ['a', 'b'],
          schema: '/v2/schemas/image',
          id: undefined,
          owner: undefined,
          created_at: undefined,
          updated_at: undefined,
          self: undefined,
          file: undefined,
        },
      );
      assert.equal(i.self, `/v2/images/${i.id}`);
      assert.equal(i.file, `/v2/images/${i.id}/file`);
      assert.match(i.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const chosen = await api.call('POST', '/v2/images', { id: 'AAAAAAAA-0000-4000-8000-000000000001' });
      assert.equal(chosen.body.id, 'aaaaaaaa-0000-4000-8000-000000000001');
      assert.equal((await api.call('POST', '/v2/images', { id: 'aaaaaaaa-0000-4000-8000-000000000001' })).status, 409);
    });

    test('create refuses read-only and reserved attributes (403) and values of the wrong kind (400)', async () => {
      for (const body of [{ status: 'active' }, { checksum: 'x' }, { size: 1 }, { self: '/x' }, { os_hash_value: 'x' }]) {
        const res = await api.call('POST', '/v2/images', body);
        assert.equal(res.status, 403, JSON.stringify(body));
        assert.match(res.body.message, /is read-only/);
      }
      for (const body of [{ locations: [] }, { os_glance_importing: 'x' }, { deleted: 'true' }]) {
        const res = await api.call('POST', '/v2/images', body);
        assert.equal(res.status, 403, JSON.stringify(body));
        assert.match(res.body.message, /is reserved/);
      }
      for (const body of [{ disk_format: 'floppy' }, { min_ram: '512' }, { min_disk: -1 }, { protected: 'yes' }, { os_type: 5 }, { name: 'x'.repeat(256) }, { id: 'nope' }, { tags: [1] }]) {
        const res = await api.call('POST', '/v2/images', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.title, 'Bad Request');
      }
      assert.equal((await api.call('POST', '/v2/images', [])).status, 400);
    });

    test('show: another id, a name, a garbage id are all 404', async () => {
      const i = await api.create({ name: 'named' });
      assert.equal((await api.show(i.id)).body.name, 'named');
      for (const id of ['named', '00000000-0000-4000-8000-000000000000', '..%2F..']) {
        const res = await api.show(id);
        assert.equal(res.status, 404, id);
        assert.equal(res.body.code, '404 Not Found');
      }
    });

    test('update by JSON patch: core attributes and free properties, Glance rules for each operation', async () => {
      const i = await api.create({ name: 'p', os_type: 'linux' });
      const ok = await api.patch(i.id, [
        { op: 'replace', path: '/name', value: 'patched' },
        { op: 'add', path: '/min_ram', value: 512 },
        { op: 'replace', path: '/os_type', value: 'windows' },
        { op: 'add', path: '/architecture', value: 'x86_64' },
        { op: 'add', path: '/hw~1weird', value: 'slash' },
        { op: 'replace', path: '/tags', value: ['x'] },
        { op: 'add', path: '/os_hidden', value: true },
      ]);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.name, 'patched');
      assert.equal(ok.body.min_ram, 512);
      assert.equal(ok.body.os_type, 'windows');
      assert.equal(ok.body.architecture, 'x86_64');
      assert.equal(ok.body['hw/weird'], 'slash');
      assert.deepEqual(ok.body.tags, ['x']);
      assert.equal(ok.body.os_hidden, true);
      const removed = await api.patch(i.id, [{ op: 'remove', path: '/architecture' }]);
      assert.equal(removed.body.architecture, undefined);

      const refusals: [unknown, number, RegExp][] = [
        [[{ op: 'replace', path: '/status', value: 'active' }], 403, /'status' is read-only/],
        [[{ op: 'replace', path: '/id', value: 'x' }], 403, /'id' is read-only/],
        [[{ op: 'add', path: '/os_glance_x', value: 'x' }], 403, /reserved/],
        [[{ op: 'remove', path: '/name' }], 403, /Property name may not be removed/],
        [[{ op: 'remove', path: '/nothing' }], 409, /Property nothing does not exist/],
        [[{ op: 'replace', path: '/nothing', value: 'x' }], 409, /Property nothing does not exist/],
        [[{ op: 'move', from: '/a', path: '/b' }], 400, /Invalid operation/],
        [[{ op: 'add', path: '/tags/-', value: 'x' }], 400, /Invalid JSON pointer/],
        [[{ op: 'add', path: 'name', value: 'x' }], 400, /does not start with/],
        [[{ op: 'add', path: '/name' }], 400, /requires a member named "value"/],
        [[{ op: 'add', path: '/min_disk', value: 'big' }], 400, /Invalid value for min_disk/],
        [[{ op: 'add', path: '/visibility', value: 'public' }], 403, /publicize_image/],
        [{ op: 'add' }, 400, /JSON array/],
      ];
      for (const [ops, status, why] of refusals) {
        const res = await api.patch(i.id, ops);
        assert.equal(res.status, status, JSON.stringify(ops));
        assert.match(res.body.message, why);
      }
      const plain = await api.call('PATCH', `/v2/images/${i.id}`, [{ op: 'replace', path: '/name', value: 'x' }]);
      assert.equal(plain.status, 415);
      const draft4 = await api.call('PATCH', `/v2/images/${i.id}`, [{ replace: '/name', value: 'draft4' }], { 'content-type': 'application/openstack-images-v2.0-json-patch' });
      assert.equal(draft4.body.name, 'draft4');
      assert.equal((await api.show(i.id)).body.os_type, 'windows', 'refused patches changed nothing');
    });

    test('tags: add twice, remove, remove a missing one', async () => {
      const i = await api.create();
      assert.equal((await api.call('PUT', `/v2/images/${i.id}/tags/blue`)).status, 204);
      assert.equal((await api.call('PUT', `/v2/images/${i.id}/tags/blue`)).status, 204);
      assert.equal((await api.call('PUT', `/v2/images/${i.id}/tags/red`)).status, 204);
      assert.deepEqual((await api.show(i.id)).body.tags, ['blue', 'red']);
      assert.equal((await api.call('DELETE', `/v2/images/${i.id}/tags/blue`)).status, 204);
      assert.equal((await api.call('DELETE', `/v2/images/${i.id}/tags/blue`)).status, 404);
      assert.deepEqual((await api.show(i.id)).body.tags, ['red']);
    });

    test('list: filters, sorting both ways, paging by marker with next links', async () => {
      const p = await makeProject(c, admin, 'lister');
      const l = imagesOf(c, p.token);
      const made = [];
      for (const [n, extra] of [
        ['alpha', { disk_format: 'raw', container_format: 'ovf', tags: ['t1', 't2'], os_distro: 'ubuntu' }],
        ['beta', { disk_format: 'qcow2', container_format: 'bare', tags: ['t1'], protected: true }],
        ['gamma', { disk_format: 'iso', container_format: 'bare', visibility: 'private' }],
        ['delta', { os_hidden: true }],
        ['epsilon', { disk_format: 'raw', os_distro: 'debian' }],
      ] as const) {
        made.push(await l.create({ name: n, ...extra }));
      }
      await l.upload(made[0]!.id, Buffer.alloc(1000));
      await l.upload(made[4]!.id, Buffer.alloc(5000));
      const names = async (query: string) => {
        const res = await l.call('GET', `/v2/images${query}`);
        assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
        return res.body.images.map((i: { name: string }) => i.name);
      };
      assert.deepEqual(await names('?sort=name:asc'), ['alpha', 'beta', 'epsilon', 'gamma']);
      assert.deepEqual(await names('?sort_key=name&sort_dir=desc'), ['gamma', 'epsilon', 'beta', 'alpha']);
      assert.deepEqual(await names(''), ['epsilon', 'gamma', 'beta', 'alpha'], 'newest first by default');
      assert.deepEqual(await names('?name=beta'), ['beta']);
      assert.deepEqual(await names('?name=in:alpha,gamma&sort=name:asc'), ['alpha', 'gamma']);
      assert.deepEqual(await names('?status=active&sort=name:asc'), ['alpha', 'epsilon']);
      assert.deepEqual(await names('?visibility=private'), ['gamma']);
      assert.deepEqual(await names(`?owner=${p.id}&sort=name`), ['gamma', 'epsilon', 'beta', 'alpha']);
      assert.deepEqual(await names('?tag=t1&sort=name:asc'), ['alpha', 'beta']);
      assert.deepEqual(await names('?tag=t1&tag=t2'), ['alpha']);
      assert.deepEqual(await names('?disk_format=raw&sort=name:asc'), ['alpha', 'epsilon']);
      assert.deepEqual(await names('?container_format=ovf'), ['alpha']);
      assert.deepEqual(await names('?size_min=2000'), ['epsilon']);
      assert.deepEqual(await names('?size_max=2000'), ['alpha']);
      assert.deepEqual(await names('?protected=true'), ['beta']);
      assert.deepEqual(await names('?os_hidden=true'), ['delta']);
      assert.deepEqual(await names('?os_distro=debian'), ['epsilon']);
      assert.deepEqual(await names('?sort=size:desc,name:asc'), ['epsilon', 'alpha', 'beta', 'gamma']);
      assert.deepEqual(await names('?created_at=lt:2000-01-01T00:00:00Z'), []);
      assert.deepEqual(await names('?updated_at=gte:2000-01-01T00:00:00Z&sort=name:asc'), ['alpha', 'beta', 'epsilon', 'gamma']);

      // Pages, following `next` as clients do, cover every image exactly once, ties included.
      const pageThrough = async (query: string) => {
        const seen: string[] = [];
        let next: string | undefined = `/v2/images?${query}`;
        let pages = 0;
        while (next) {
          const res = await l.call('GET', next);
          assert.equal(res.status, 200);
          assert.equal(res.body.schema, '/v2/schemas/images');
          assert.ok(!res.body.first.includes('marker'));
          seen.push(...res.body.images.map((i: { name: string }) => i.name));
          next = res.body.next;
          pages++;
        }
        return { seen, pages };
      };
      const byName = await pageThrough('limit=2&sort=name:asc');
      assert.deepEqual(byName, { seen: ['alpha', 'beta', 'epsilon', 'gamma'], pages: 3 }, 'a full last page still links to an empty one, as Glance does');
      for (const query of ['limit=1&sort_key=disk_format&sort_dir=asc', 'limit=3&sort=status:desc', 'limit=1&sort_key=size']) {
        const { seen } = await pageThrough(query);
        assert.deepEqual([...seen].sort(), ['alpha', 'beta', 'epsilon', 'gamma'], query);
        assert.deepEqual(seen, await names(`?${query.replace(/limit=\d&/, '')}`), query);
      }

      for (const bad of ['?limit=-1', '?sort_key=owner', '?sort_dir=up', '?sort=name&sort_key=name', '?marker=nope', '?visibility=everyone', '?member_status=maybe', '?os_hidden=maybe', '?protected=1', '?size_min=big', '?created_at=gt:yesterday', '?changes-since=2020-01-01']) {
        const res = await l.call('GET', `/v2/images${bad}`);
        assert.equal(res.status, 400, bad);
      }
    });

    test('deactivate and reactivate are the admin\'s; data cannot be read meanwhile', async () => {
      const p = await makeProject(c, admin, 'deact');
      const owner = imagesOf(c, p.token);
      const i = await owner.create({ disk_format: 'raw' });
      assert.equal((await owner.call('POST', `/v2/images/${i.id}/actions/deactivate`)).status, 403);
      const adminApi = imagesOf(c, admin);
      const early = await adminApi.call('POST', `/v2/images/${i.id}/actions/deactivate`);
      assert.equal(early.status, 400);
      assert.match(early.body.message, /status 'queued'/);
      await owner.upload(i.id, Buffer.alloc(100, 9));
      assert.equal((await adminApi.call('POST', `/v2/images/${i.id}/actions/deactivate`)).status, 204);
      assert.equal((await owner.show(i.id)).body.status, 'deactivated');
      const refused = await owner.download(i.id);
      assert.equal(refused.status, 403);
      assert.equal((await adminApi.download(i.id)).status, 200);
      assert.equal((await adminApi.call('POST', `/v2/images/${i.id}/actions/reactivate`)).status, 204);
      assert.equal((await adminApi.call('POST', `/v2/images/${i.id}/actions/reactivate`)).status, 204);
      assert.ok((await owner.download(i.id)).data.equals(Buffer.alloc(100, 9)));
    });
  });
