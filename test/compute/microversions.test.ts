import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema } from '../helpers/schema.ts';
import { makeProject } from '../image/helpers.ts';
import { rawImage } from './helpers.ts';
import * as s from './microversion-schemas.ts';

// Every compute route Nubo serves, at 2.1, at an intermediate microversion and at the maximum,
// its bodies held to the api-ref's schema for that version; then the changes between them one by one.
const VERSIONS = ['2.1', '2.61', '2.93'];

let c: TestCloud;
let adminToken: string;
let alice: { project: string; token: string };
let image: string;
let tiny: string;

/** Compute calls at one microversion; each answer must echo it in all three headers. */
function at(version: string, token: string) {
  return async (method: string, path: string, body?: unknown, expect?: number) => {
    const res = await c.request(method, `/compute/v2.1${path}`, { token, body, headers: { 'openstack-api-version': `compute ${version}` } });
    if (expect !== undefined) assert.equal(res.status, expect, `${method} ${path} at ${version}: ${JSON.stringify(res.body)}`);
    assert.equal(res.headers.get('openstack-api-version'), `compute ${version}`);
    assert.equal(res.headers.get('x-openstack-nova-api-version'), version);
    assert.match(res.headers.get('vary') ?? '', /OpenStack-API-Version.*X-OpenStack-Nova-API-Version/i);
    return res;
  };
}

async function until(call: ReturnType<typeof at>, id: string, test: (srv: any) => boolean) {
  const end = Date.now() + 30_000;
  for (;;) {
    const srv = (await call('GET', `/servers/${id}`)).body.server;
    if (test(srv)) return srv;
    if (Date.now() > end) assert.fail(`server ${id} did not settle: ${JSON.stringify(srv)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const settled = (status: string) => (srv: any) => srv?.status === status && srv['OS-EXT-STS:task_state'] === null;

const cinder = (method: string, path: string, body?: unknown) =>
  c.request(method, `/volume/v3/${alice.project}${path}`, { token: alice.token, body, headers: { 'openstack-api-version': 'volume 3.44' } });

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  adminToken = await c.adminToken();
  const a = await makeProject(c, adminToken, 'alice');
  alice = { project: a.id, token: a.token };
  image = await rawImage(c, adminToken);
  const made = await at('2.1', adminToken)('POST', '/flavors', { flavor: { name: 'tiny', ram: 128, disk: 1, vcpus: 1 } }, 200);
  tiny = made.body.flavor.id;
  await at('2.1', adminToken)('POST', `/flavors/${tiny}/os-extra_specs`, { extra_specs: { 'hw:cpu_policy': 'shared' } }, 200);
});
after(() => c?.stop());

for (const v of VERSIONS) {
  test(`every route at ${v} answers with the api-ref's body for ${v}`, async () => {
    const member = at(v, alice.token);
    const admin = at(v, adminToken);
    assertSchema(s.versionDocument, (await member('GET', '/', undefined, 200)).body, 'version document');

    // Servers: create, show, list, detail, update; the admin's view too.
    const create = { name: `vm-${v}`, imageRef: image, flavorRef: tiny, ...(s.atLeast(v, '2.37') ? { networks: 'none' } : {}) };
    const created = await member('POST', '/servers', { server: create }, 202);
    assertSchema(s.serverCreated, created.body, 'server create');
    const id = created.body.server.id;
    await until(member, id, settled('ACTIVE'));
    assertSchema(
      { type: 'object', properties: { server: s.serverSchema(v, 'show', false) }, required: ['server'] },
      (await member('GET', `/servers/${id}`, undefined, 200)).body,
      'server show',
    );
    assertSchema(
      { type: 'object', properties: { server: s.serverSchema(v, 'show', true) } },
      (await admin('GET', `/servers/${id}`, undefined, 200)).body,
      'server show (admin)',
    );
    assertSchema(s.serverList, (await member('GET', '/servers', undefined, 200)).body, 'server list');
    assertSchema(s.serverDetailList(v, false), (await member('GET', '/servers/detail', undefined, 200)).body, 'server detail list');
    assertSchema(s.serverDetailList(v, true), (await admin('GET', '/servers/detail?all_tenants=1', undefined, 200)).body, 'server detail list (admin)');
    const updated = await member('PUT', `/servers/${id}`, { server: { name: `renamed-${v}` } }, 200);
    assertSchema({ type: 'object', properties: { server: s.serverSchema(v, 'update', false) } }, updated.body, 'server update');
    assert.equal(updated.body.server.name, `renamed-${v}`);

    // Server actions and metadata.
    await member('POST', `/servers/${id}/action`, { 'os-stop': {} }, 202);
    await until(member, id, settled('SHUTOFF'));
    await member('POST', `/servers/${id}/action`, { 'os-start': {} }, 202);
    await until(member, id, settled('ACTIVE'));
    assert.deepEqual((await member('POST', `/servers/${id}/metadata`, { metadata: { a: '1' } }, 200)).body, { metadata: { a: '1' } });

    // Tags came with 2.26: not there before.
    if (s.atLeast(v, '2.26')) {
      assertSchema(s.tagList, (await member('PUT', `/servers/${id}/tags`, { tags: ['a', 'b'] }, 200)).body, 'tags replace');
      assertSchema(s.tagList, (await member('GET', `/servers/${id}/tags`, undefined, 200)).body, 'tags list');
    } else {
      await member('GET', `/servers/${id}/tags`, undefined, 404);
    }

    // Volume attachments.
    const vol = await cinder('POST', '/volumes', { volume: { size: 1 } });
    assert.equal(vol.status, 202);
    for (let i = 0; (await cinder('GET', `/volumes/${vol.body.volume.id}`)).body.volume.status !== 'available'; i++) {
      assert.ok(i < 300, 'volume available');
      await new Promise((r) => setTimeout(r, 100));
    }
    const attach = { volumeId: vol.body.volume.id, ...(s.atLeast(v, '2.79') ? { delete_on_termination: true } : {}) };
    assertSchema(
      s.attachmentSchema(v, true),
      (await member('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: attach }, 200)).body.volumeAttachment,
      'attach',
    );
    const attachments = (await member('GET', `/servers/${id}/os-volume_attachments`, undefined, 200)).body.volumeAttachments;
    assert.equal(attachments.length, 1);
    assertSchema(s.attachmentSchema(v), attachments[0], 'attachment list');
    assertSchema(
      s.attachmentSchema(v),
      (await member('GET', `/servers/${id}/os-volume_attachments/${attach.volumeId}`, undefined, 200)).body.volumeAttachment,
      'attachment show',
    );

    // Flavors, for the member and for the admin (who makes them).
    assertSchema(s.flavorList(v), (await member('GET', '/flavors', undefined, 200)).body, 'flavor list');
    assertSchema(s.flavorDetailList(v, true), (await member('GET', '/flavors/detail', undefined, 200)).body, 'flavor detail list');
    assertSchema(
      { type: 'object', properties: { flavor: s.flavorSchema(v, true) } },
      (await member('GET', `/flavors/${tiny}`, undefined, 200)).body,
      'flavor show',
    );
    const flavor = { name: `f-${v}`, ram: 64, disk: 0, vcpus: 1, ...(s.atLeast(v, '2.55') ? { description: 'small' } : {}) };
    const made = await admin('POST', '/flavors', { flavor }, 200);
    assertSchema({ type: 'object', properties: { flavor: s.flavorSchema(v, true) } }, made.body, 'flavor create');
    if (s.atLeast(v, '2.55')) {
      const described = await admin('PUT', `/flavors/${made.body.flavor.id}`, { flavor: { description: 'changed' } }, 200);
      assertSchema({ type: 'object', properties: { flavor: s.flavorSchema(v, true) } }, described.body, 'flavor update');
      assert.equal(described.body.flavor.description, 'changed');
    } else {
      await admin('PUT', `/flavors/${made.body.flavor.id}`, { flavor: { description: 'changed' } }, 404);
    }
    await admin('DELETE', `/flavors/${made.body.flavor.id}`, undefined, 202);

    // Key pairs: an import, and (until 2.92) a generated one.
    const publicKey = sshPublicKey();
    const imported = await member('POST', '/os-keypairs', { keypair: { name: `k-${v}`, public_key: publicKey } }, s.atLeast(v, '2.2') ? 201 : 200);
    assertSchema(s.keypairCreated(v, false), imported.body, 'keypair import');
    if (!s.atLeast(v, '2.92')) {
      const generated = await member('POST', '/os-keypairs', { keypair: { name: `gen-${v}` } }, s.atLeast(v, '2.2') ? 201 : 200);
      assertSchema(s.keypairCreated(v, true), generated.body, 'keypair generate');
      await member('DELETE', `/os-keypairs/gen-${v}`, undefined, s.atLeast(v, '2.2') ? 204 : 202);
    }
    assertSchema(s.keypairList(v), (await member('GET', '/os-keypairs', undefined, 200)).body, 'keypair list');
    assertSchema(s.keypairShown(v), (await member('GET', `/os-keypairs/k-${v}`, undefined, 200)).body, 'keypair show');
    await member('DELETE', `/os-keypairs/k-${v}`, undefined, s.atLeast(v, '2.2') ? 204 : 202);

    // Limits and quotas.
    assertSchema(s.limitsSchema(v), (await member('GET', '/limits', undefined, 200)).body, 'limits');
    assertSchema(s.quotaSetSchema(v, { type: 'integer' }), (await member('GET', `/os-quota-sets/${alice.project}`, undefined, 200)).body, 'quota set');
    assertSchema(
      s.quotaSetSchema(v, { type: 'integer' }),
      (await member('GET', `/os-quota-sets/${alice.project}/defaults`, undefined, 200)).body,
      'quota defaults',
    );
    assertSchema(s.quotaSetSchema(v, s.quotaDetail), (await member('GET', `/os-quota-sets/${alice.project}/detail`, undefined, 200)).body, 'quota detail');
    const quota = await admin('PUT', `/os-quota-sets/${alice.project}`, { quota_set: { instances: 20 } }, 200);
    assertSchema(s.quotaSetSchema(v, { type: 'integer' }, false), quota.body, 'quota update');

    // Instance actions: the list, and the server's create as its project and the admin see it.
    const actions = (await member('GET', `/servers/${id}/os-instance-actions`, undefined, 200)).body;
    assertSchema(s.instanceActionList(v), actions, 'instance action list');
    const first = `/servers/${id}/os-instance-actions/${actions.instanceActions.at(-1).request_id}`;
    assertSchema(s.instanceActionShown(v, false), (await member('GET', first, undefined, 200)).body, 'instance action');
    assertSchema(s.instanceActionShown(v, true), (await admin('GET', first, undefined, 200)).body, 'instance action (admin)');

    await member('DELETE', `/servers/${id}`, undefined, 204);
  });
}

function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} test`;
}
