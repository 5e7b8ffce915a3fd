import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { registerHost } from '../../src/compute/scheduler.ts';
import { computeOf, rawImage } from './helpers.ts';

// Two controllers (agents off) on one PostgreSQL schedule onto hosts registered small, so that the
// scheduler's claims are what is tested: servers asked of both at once never overcommit a host.
let db: Awaited<ReturnType<typeof freshPostgres>>;
let a: TestCloud;
let b: TestCloud;

const small = { vcpus: 4, memoryMiB: 2048, diskGiB: 100, cpuRatio: 1, ramRatio: 1, diskRatio: 1, reservedMemoryMiB: 0 };

before(async () => {
  db = await freshPostgres();
  const env = { NUBO_AGENTS: 'false' };
  a = await startTestCloud({ database: db.url, env: { ...env, NUBO_COMPUTE_HOST: 'controller-a' } });
  b = await startTestCloud({ database: db.url, env: { ...env, NUBO_COMPUTE_HOST: 'controller-b' } });
  for (const name of ['small1', 'small2']) await registerHost(a.cloud.store.db, { name, ...small, arch: 'x86_64' });
  await registerHost(a.cloud.store.db, { name: 'arm1', ...small, arch: 'aarch64' });
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

test('servers asked of two controllers at once fill each host to its RAM and no further; the rest fail No valid host', async () => {
  const token = await a.adminToken();
  const [apiA, apiB] = [computeOf(a, token), computeOf(b, token)];
  const project = (await a.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
  await a.request('PUT', `/compute/v2.1/os-quota-sets/${project}`, { token, body: { quota_set: { instances: 50, cores: 50, ram: 1 << 20 } } });
  const image = await rawImage(a, token);
  const flavor = await apiA.flavor('half', 1024, 1, 1);
  // 2.37 for networks 'none'; three hosts of 2048 MiB take six servers of 1024 MiB, no more.
  const headers = { 'openstack-api-version': 'compute 2.37' };
  const made = await Promise.all(
    Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).request('POST', '/compute/v2.1/servers', { token, headers, body: { server: { name: `claim${i}`, imageRef: image, flavorRef: flavor, networks: 'none' } } })),
  );
  assert.ok(made.every((r) => r.status === 202), JSON.stringify(made.map((r) => r.body)));
  const views = await Promise.all(made.map((r) => apiB.until(r.body.server.id, (s) => s?.['OS-EXT-SRV-ATTR:host'] || s?.status === 'ERROR')));
  const perHost = new Map<string, number>();
  for (const s of views) if (s['OS-EXT-SRV-ATTR:host']) perHost.set(s['OS-EXT-SRV-ATTR:host'], (perHost.get(s['OS-EXT-SRV-ATTR:host']) ?? 0) + 1);
  assert.deepEqual([...perHost.entries()].sort(), [['arm1', 2], ['small1', 2], ['small2', 2]]);
  const failed = views.filter((s) => s.status === 'ERROR');
  assert.equal(failed.length, 4);
  assert.ok(failed.every((s) => /^No valid host/.test(s.fault.message)));
  for (const s of views) await apiA.call('DELETE', `/servers/${s.id}`);
});

test("an image's hw_architecture takes its server to a host of that architecture, and nowhere without one", async () => {
  // The first test filled arm1; its servers, with no agent to remove them, keep their claims.
  await registerHost(a.cloud.store.db, { name: 'arm2', ...small, arch: 'arm64' });
  const token = await a.adminToken();
  const api = computeOf(a, token);
  const arm = await rawImage(a, token, 1 << 20, { name: 'arm', hw_architecture: 'aarch64' });
  const s390 = await rawImage(a, token, 1 << 20, { name: 's390', hw_architecture: 's390x' });
  const flavor = await api.flavor('tiny', 128, 1, 1);
  const headers = { 'openstack-api-version': 'compute 2.37' };
  const create = async (image: string) =>
    (await a.request('POST', '/compute/v2.1/servers', { token, headers, body: { server: { name: 'arch', imageRef: image, flavorRef: flavor, networks: 'none' } } })).body.server.id;
  const onArm = await api.until(await create(arm), (s) => s?.['OS-EXT-SRV-ATTR:host'] || s?.status === 'ERROR');
  // arm64 and aarch64 are one architecture.
  assert.equal(onArm['OS-EXT-SRV-ATTR:host'], 'arm2');
  const nowhere = await api.until(await create(s390), (s) => s?.['OS-EXT-SRV-ATTR:host'] || s?.status === 'ERROR');
  assert.equal(nowhere.status, 'ERROR');
});
