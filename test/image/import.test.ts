import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { openstack, spawnNubo, tempDir, freePort, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, run } from './helpers.ts';
import { assertSchema } from '../helpers/schema.ts';

// Interoperable import, deactivation and the stores through the real clients: openstack
// (python3-openstackclient 6.0) and glance (python3-glanceclient 4.1), against `nubo up`.
let nubo: SpawnedNubo;
let work: string;
let web: Server;
let webPort: number;
const webHits: string[] = [];
let qcow2: Buffer;

before(async () => {
  work = tempDir('nubo-import-');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', join(work, 'x.qcow2'), '16M'], { cwd: work });
  qcow2 = readFileSync(join(work, 'x.qcow2'));
  writeFileSync(join(work, 'raw.img'), Buffer.alloc(1024 * 1024, 7));
  webPort = await freePort();
  web = createServer((req, res) => {
    webHits.push(req.url!);
    if (req.url === '/images/moved') res.writeHead(302, { location: `http://127.0.0.1:${webPort}/secret/x.qcow2` }).end();
    else res.end(qcow2);
  });
  await new Promise<void>((r) => web.listen(webPort, '127.0.0.1', r));
  nubo = await spawnNubo({ env: { NUBO_IMAGE_WEB_DOWNLOAD_ALLOW: `http://127.0.0.1:${webPort}/images/` } });
});
after(async () => {
  await nubo?.stop();
  web?.close();
  rmSync(work, { recursive: true, force: true });
});

const ok = async (...args: string[]) => {
  const r = await openstack(nubo.env, ...args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

/** The real glance CLI as the admin, its standard input closed: glance would read image data
 * from any other. */
async function glance(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  try {
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', 'exec glance "$@" <&-', 'glance', ...args], {
      env: { ...clean, ...nubo.env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A queued raw image made by glance image-create; its id, read from the table printed. */
async function glanceCreate(name: string): Promise<string> {
  const made = await glance('image-create', '--name', name, '--disk-format', 'raw', '--container-format', 'bare');
  assert.equal(made.code, 0, made.stderr);
  return /\| id\s+\| (\S+)/.exec(made.stdout)![1]!;
}

async function api(method: string, path: string, body?: unknown, token?: string) {
  const t = token ?? (await ok('token', 'issue', '-c', 'id', '-f', 'value')).trim();
  const res = await fetch(`${nubo.url}/image${path}`, {
    method,
    headers: { 'x-auth-token': t, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

// The api-ref's answers for import discovery and the stores.
const IMPORT_INFO = {
  type: 'object',
  required: ['import-methods'],
  properties: {
    'import-methods': {
      type: 'object',
      required: ['description', 'type', 'value'],
      properties: { description: { type: 'string' }, type: { const: 'array' }, value: { type: 'array', items: { type: 'string' } } },
    },
  },
};
const STORES = {
  type: 'object',
  required: ['stores'],
  properties: {
    stores: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'description'],
        properties: {
          id: { type: 'string' },
          description: { type: 'string' },
          default: { type: 'boolean' },
          type: { type: 'string' },
          weight: { type: 'number' },
          properties: { type: 'object' },
        },
      },
    },
  },
};

const MEMBER_ENV = { OS_USERNAME: 'import-member-user', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'import-member' };
let memberMade: Promise<void> | undefined;

/** The OS_* variables of a member (not admin) of a project of its own, made once. */
async function memberEnv(): Promise<Record<string, string>> {
  memberMade ??= (async () => {
    await ok('project', 'create', 'import-member');
    await ok('user', 'create', '--password', 'pw', '--project', 'import-member', 'import-member-user');
    await ok('role', 'add', '--project', 'import-member', '--user', 'import-member-user', 'member');
  })();
  await memberMade;
  return { ...nubo.env, ...MEMBER_ENV };
}

async function memberToken(): Promise<string> {
  const r = await openstack(await memberEnv(), 'token', 'issue', '-c', 'id', '-f', 'value');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const shape = (o: Record<string, unknown>, keys: string[]) => assert.deepEqual(Object.keys(o).sort(), [...keys].sort());
const TASK_KEYS = ['id', 'type', 'status', 'owner', 'expires_at', 'created_at', 'updated_at', 'self', 'schema'];
const TASK_FULL = [...TASK_KEYS, 'input', 'result', 'message', 'image_id', 'request_id', 'user_id'];

test('openstack image create --import stages and imports with glance-direct; the import is a task', async () => {
  const file = join(work, 'x.qcow2');
  const created = await json('image', 'create', 'imported', '--import', '--file', file, '--disk-format', 'qcow2', '--container-format', 'bare');
  let shown: any;
  await eventually(async () => {
    shown = await json('image', 'show', created.id);
    assert.equal(shown.status, 'active');
  }, 20_000);
  assert.equal(shown.checksum, createHash('md5').update(qcow2).digest('hex'));
  assert.equal(shown.virtual_size, 16 * 1024 * 1024);

  const own = await api('GET', `/v2/images/${created.id}/tasks`);
  assert.equal(own.status, 200);
  assert.equal(own.body.tasks.length, 1);
  const task = own.body.tasks[0];
  shape(task, TASK_FULL);
  const taskSchema = (await api('GET', '/v2/schemas/task')).body;
  assertSchema(taskSchema, task, 'GET /v2/images/{id}/tasks');
  assert.equal(task.type, 'api_image_import');
  assert.equal(task.status, 'success');
  assert.equal(task.input.import_req.method.name, 'glance-direct');
  assert.ok(task.expires_at);

  const listed = await api('GET', '/v2/tasks');
  assert.equal(listed.status, 200);
  shape(listed.body, ['tasks', 'first', 'schema']);
  shape(listed.body.tasks[0], TASK_KEYS);
  assertSchema((await api('GET', '/v2/schemas/tasks')).body, listed.body, 'GET /v2/tasks');
  const one = await api('GET', `/v2/tasks/${task.id}`);
  assert.equal(one.status, 200);
  shape(one.body, TASK_FULL);
  assertSchema(taskSchema, one.body, 'GET /v2/tasks/{id}');
});

test('glance image-stage then image-import; data that is not the declared format fails the task and the image is queued again', async () => {
  const id = await glanceCreate('staged');
  const staged = await glance('image-stage', '--file', join(work, 'raw.img'), id);
  assert.equal(staged.code, 0, staged.stderr);
  assert.equal((await api('GET', `/v2/images/${id}`)).body.status, 'uploading');
  const imported = await glance('image-import', '--import-method', 'glance-direct', id);
  assert.equal(imported.code, 0, imported.stderr);
  await eventually(async () => assert.equal((await api('GET', `/v2/images/${id}`)).body.status, 'active'), 20_000);
  assert.equal((await api('GET', `/v2/images/${id}`)).body.size, 1024 * 1024);

  // Importing again is a conflict, in Glance's words.
  const again = await api('POST', `/v2/images/${id}/import`, { method: { name: 'glance-direct' } });
  assert.equal(again.status, 409);
  assert.match(again.body.message, /status active cannot be target for import/);

  // glanceclient reads Nubo's error bodies: the server's reason reaches the user.
  const queued = await glanceCreate('elsewhere');
  const refused = await glance('image-import', '--import-method', 'web-download', '--uri', 'http://192.0.2.1/x.img', queued);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /400 Bad Request: URI for web-download does not pass filtering/);
  assert.doesNotMatch(refused.stderr, /object has no attribute/);

  const bad = await glanceCreate('liar');
  assert.equal((await glance('image-stage', '--file', join(work, 'x.qcow2'), bad)).code, 0);
  assert.equal((await glance('image-import', '--import-method', 'glance-direct', bad)).code, 0);
  let task: any;
  await eventually(async () => {
    task = (await api('GET', `/v2/images/${bad}/tasks`)).body.tasks[0];
    assert.equal(task.status, 'failure');
  }, 20_000);
  assert.match(task.message, /does not match disk_format raw: it is qcow2.*image_format_check_skip/);
  assert.equal((await api('GET', `/v2/images/${bad}`)).body.status, 'queued');
});

test('copy-image with the one store answers as Glance does when every store has the image', async () => {
  const id = (await json('image', 'list', '--name', 'imported'))[0].ID;
  const named = await api('POST', `/v2/images/${id}/import`, { method: { name: 'copy-image' }, stores: ['default'] });
  assert.equal(named.status, 400);
  assert.match(named.body.message, /already present at store 'default'/);
  const all = await api('POST', `/v2/images/${id}/import`, { method: { name: 'copy-image' }, all_stores: true });
  assert.equal(all.status, 202);
  const unknown = await api('POST', `/v2/images/${id}/import`, { method: { name: 'copy-image' }, stores: ['ceph'] });
  assert.equal(unknown.status, 409);
});

test('web-download fetches only below the allowed prefix', async () => {
  const image = await api('POST', '/v2/images', { name: 'web', disk_format: 'qcow2', container_format: 'bare' });
  const outside = await api('POST', `/v2/images/${image.body.id}/import`, {
    method: { name: 'web-download', uri: `http://127.0.0.1:${webPort}/secret/x.qcow2` },
  });
  assert.equal(outside.status, 400);
  assert.match(outside.body.message, /does not pass filtering.*image_web_download_allow/);
  const otherHost = await api('POST', `/v2/images/${image.body.id}/import`, {
    method: { name: 'web-download', uri: `http://127.0.0.1:${webPort}.evil.example/images/x` },
  });
  assert.equal(otherHost.status, 400);
  assert.deepEqual(webHits, [], 'nothing was fetched outside the allow-list');

  const inside = await api('POST', `/v2/images/${image.body.id}/import`, {
    method: { name: 'web-download', uri: `http://127.0.0.1:${webPort}/images/x.qcow2` },
  });
  assert.equal(inside.status, 202);
  await eventually(async () => assert.equal((await api('GET', `/v2/images/${image.body.id}`)).body.status, 'active'), 20_000);
  assert.deepEqual(webHits, ['/images/x.qcow2']);

  // A redirect off the allow-list is not followed: the task fails and the image is queued again.
  const moved = await api('POST', '/v2/images', { name: 'moved', disk_format: 'qcow2', container_format: 'bare' });
  const redirected = await api('POST', `/v2/images/${moved.body.id}/import`, {
    method: { name: 'web-download', uri: `http://127.0.0.1:${webPort}/images/moved` },
  });
  assert.equal(redirected.status, 202);
  let task: any;
  await eventually(async () => {
    task = (await api('GET', `/v2/images/${moved.body.id}/tasks`)).body.tasks[0];
    assert.equal(task.status, 'failure');
  }, 20_000);
  assert.match(task.message, /web-download of .*\/images\/moved failed/);
  assert.equal((await api('GET', `/v2/images/${moved.body.id}`)).body.status, 'queued');
  assert.deepEqual(webHits, ['/images/x.qcow2', '/images/moved']);
});

test("the import methods and the one store are discoverable; the store details are the admin's", async () => {
  const methods = await api('GET', '/v2/info/import');
  assert.equal(methods.status, 200);
  assert.deepEqual(methods.body['import-methods'].value, ['glance-direct', 'copy-image', 'web-download']);
  assert.equal(methods.body['import-methods'].type, 'array');
  const stores = await api('GET', '/v2/info/stores');
  assert.deepEqual(
    stores.body.stores.map((s: any) => [s.id, s.default]),
    [['default', true]],
  );
  shape(stores.body.stores[0], ['id', 'description', 'default']);
  assertSchema(STORES, stores.body, 'GET /v2/info/stores');
  assertSchema(IMPORT_INFO, methods.body, 'GET /v2/info/import');
  const detail = await api('GET', '/v2/info/stores/detail');
  assert.equal(detail.status, 200);
  shape(detail.body.stores[0], ['id', 'description', 'default', 'type', 'weight', 'properties']);
  assertSchema(STORES, detail.body, 'GET /v2/info/stores/detail');
  const member = await memberToken();
  assert.equal((await api('GET', '/v2/info/stores/detail', undefined, member)).status, 403);
  assert.equal((await api('GET', '/v2/tasks', undefined, member)).status, 403);
  assert.equal((await api('GET', '/v2/info/stores', undefined, member)).status, 200);
  const r = await glance('stores-info');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /default/);
});

test('openstack image set --deactivate: a member cannot save the image until --activate', async () => {
  const created = await json('image', 'create', 'golden', '--public', '--file', join(work, 'raw.img'), '--disk-format', 'raw');
  await ok('image', 'set', '--deactivate', created.id);
  assert.equal((await json('image', 'show', created.id)).status, 'deactivated');
  const member = await memberEnv();
  const out = join(work, 'saved');
  const refused = await openstack(member, 'image', 'save', '--file', out, created.id);
  assert.notEqual(refused.code, 0);
  // openstacksdk writes whatever answer comes into the file, then finds the checksum wrong: with
  // Glance too, the member learns only that the download failed.
  assert.match(refused.stderr, /Unable to download image/);
  const direct = await api('GET', `/v2/images/${created.id}/file`, undefined, await memberToken());
  assert.equal(direct.status, 403);
  assert.match(direct.body.message, /deactivated/);
  await ok('image', 'set', '--activate', created.id);
  const saved = await openstack(member, 'image', 'save', '--file', out, created.id);
  assert.equal(saved.code, 0, saved.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(work, 'raw.img'))));
});
