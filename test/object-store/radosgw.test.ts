import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCeph, type TestCeph } from '../helpers/ceph.ts';
import { cliAs, freePort, httpClient, openstack, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';

// Object storage as OpenStack deployments serve it on Ceph: the real radosgw, started by
// scripts/ceph/radosgw.sh on a cluster of this file's own, trusts Nubo's Keystone. Users of two
// projects drive it with the real openstack CLI (Swift) and with boto3 (S3, EC2 credentials).
const exec = promisify(execFile);
const work = tempDir('nubo-objects-');
let ceph: TestCeph;
let nubo: TestCloud;
let gateway: string;
const projects: Record<string, string> = {};

before(async () => {
  ceph = await startCeph();
  // Nubo's port first: radosgw is told where Keystone will be, and nubo up where radosgw is.
  const port = await freePort();
  const env = await ceph.radosgw(`http://127.0.0.1:${port}/identity`);
  gateway = env.NUBO_OBJECT_STORE_URL!;
  // The settings as nubo up reads them from radosgw.env.
  nubo = await startTestCloud({ port, env });

  const api = httpClient(nubo.url);
  const token = await nubo.adminToken();
  const post = async (path: string, body: unknown) => (await api.request('POST', `/identity/v3${path}`, { token, body })).body;
  const role = async (name: string) => (await api.request('GET', `/identity/v3/roles?name=${name}`, { token })).body.roles[0].id;
  for (const [project, user, roleName] of [
    ['alpha', 'alice', 'member'],
    ['beta', 'bob', 'member'],
    ['alpha', 'rita', 'reader'],
  ] as const) {
    projects[project] ??= (await post('/projects', { project: { name: project, domain_id: 'default' } })).project.id;
    const id = (await post('/users', { user: { name: user, password: `${user}-pw`, domain_id: 'default', default_project_id: projects[project] } })).user.id;
    await api.request('PUT', `/identity/v3/projects/${projects[project]}/users/${id}/roles/${await role(roleName)}`, { token });
  }
});

after(async () => {
  await nubo?.stop();
  await ceph?.stop();
  rmSync(work, { recursive: true, force: true });
});

const envOf = (user: string, project: string) => () => ({
  OS_AUTH_URL: `${nubo.url}/identity`,
  OS_IDENTITY_API_VERSION: '3',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_USERNAME: user,
  OS_PASSWORD: `${user}-pw`,
  OS_PROJECT_NAME: project,
});
const alice = cliAs(envOf('alice', 'alpha'));
const bob = cliAs(envOf('bob', 'beta'));
const json = async (cli: (...a: string[]) => Promise<string>, ...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));

/** A Swift request straight to radosgw with a user's token. */
async function swift(method: string, path: string, user: string, project: string, body?: string): Promise<number> {
  const token = await httpClient(nubo.url).login(user, `${user}-pw`, project);
  const res = await fetch(`${gateway}/swift/v1${path}`, { method, headers: { 'x-auth-token': token }, body });
  await res.arrayBuffer();
  return res.status;
}

/** One S3 call through boto3 (Debian's python3-boto3, hence Debian's python). */
async function s3(credential: { access: string; secret: string }, ...args: string[]): Promise<unknown> {
  const { stdout } = await exec('/usr/bin/python3', [join(import.meta.dirname, 's3.py'), gateway, credential.access, credential.secret, ...args], { timeout: 60_000 });
  return JSON.parse(stdout);
}

test('the catalog points at radosgw: Swift per project, and S3', async () => {
  type Entry = { Name: string; Type: string; Endpoints: { interface: string; url: string }[] };
  const catalog = (await json(alice, 'catalog', 'list')) as Entry[];
  const urls = (type: string) => catalog.find((s) => s.Type === type)?.Endpoints.filter((e) => e.interface === 'public').map((e) => e.url);
  assert.equal(catalog.find((s) => s.Type === 'object-store')?.Name, 'swift');
  assert.deepEqual(urls('object-store'), [`${gateway}/swift/v1/AUTH_${projects.alpha}`]);
  assert.deepEqual(urls('s3'), [gateway]);
});

test("a project's containers and objects through Swift: its own to write and read, nobody else's", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const file = join(work, 'upload.bin');
  writeFileSync(file, data);
  const created = await json(alice, 'container', 'create', 'photos');
  assert.equal(created[0].account, `AUTH_${projects.alpha}`);
  await alice('object', 'create', '--name', 'holiday.bin', 'photos', file);
  assert.deepEqual(
    (await json(alice, 'object', 'list', 'photos')).map((o: { Name: string }) => o.Name),
    ['holiday.bin'],
  );
  const saved = join(work, 'saved.bin');
  await alice('object', 'save', '--file', saved, 'photos', 'holiday.bin');
  assert.ok(readFileSync(saved).equals(data), 'the object comes back byte for byte');
  assert.equal((await json(alice, 'object', 'show', 'photos', 'holiday.bin'))['content-length'], String(data.length));

  // Project beta's member sees its own empty account, and gets nothing out of alpha's.
  assert.deepEqual(await json(bob, 'container', 'list'), []);
  const theirs = await openstack(envOf('bob', 'beta')(), 'object', 'list', 'photos');
  assert.notEqual(theirs.code, 0);
  assert.match(theirs.stderr, /HTTP 404/);
  const alpha = `/AUTH_${projects.alpha}`;
  assert.equal(await swift('GET', alpha, 'bob', 'beta'), 403);
  assert.equal(await swift('GET', `${alpha}/photos`, 'bob', 'beta'), 403);
  assert.equal(await swift('GET', `${alpha}/photos/holiday.bin`, 'bob', 'beta'), 403);
  assert.equal(await swift('PUT', `${alpha}/photos/planted.bin`, 'bob', 'beta', 'x'), 403);
  assert.equal(await swift('DELETE', `${alpha}/photos/holiday.bin`, 'bob', 'beta'), 403);
  assert.equal(await swift('POST', alpha, 'bob', 'beta'), 403);
  // Nor with no token at all, nor with a reader's: radosgw accepts members and admins only, having
  // no read-only mapping of a role.
  assert.equal((await fetch(`${gateway}/swift/v1${alpha}/photos/holiday.bin`)).status, 401);
  assert.equal(await swift('GET', `${alpha}/photos/holiday.bin`, 'rita', 'alpha'), 401);
  assert.equal(await swift('GET', `${alpha}/photos/holiday.bin`, 'alice', 'alpha'), 200);
});

test("S3 with a project's EC2 credentials sees the same buckets and objects as Swift", async () => {
  const mine = await json(alice, 'ec2', 'credentials', 'create');
  assert.equal(mine.project_id, projects.alpha);
  assert.deepEqual(await s3(mine, 'list-buckets'), ['photos']);
  assert.deepEqual(await s3(mine, 'list-objects', 'photos'), ['holiday.bin']);
  const got = join(work, 'from-s3.bin');
  assert.equal(await s3(mine, 'get', 'photos', 'holiday.bin', got), 'ok');
  assert.ok(readFileSync(got).equals(readFileSync(join(work, 'upload.bin'))));
  const note = join(work, 'note.txt');
  writeFileSync(note, 'written through S3\n');
  assert.equal(await s3(mine, 'put', 'photos', 'note.txt', note), 'ok');
  assert.deepEqual(
    (await json(alice, 'object', 'list', 'photos')).map((o: { Name: string }) => o.Name),
    ['holiday.bin', 'note.txt'],
  );

  // Beta's credentials name beta's own tenant: alpha's bucket is not there, and naming alpha's
  // tenant explicitly is refused; a wrong secret is refused before anything is looked at.
  const theirs = await json(bob, 'ec2', 'credentials', 'create');
  assert.deepEqual(await s3(theirs, 'list-buckets'), []);
  assert.deepEqual(await s3(theirs, 'list-objects', 'photos'), { error: 'NoSuchBucket', status: 404 });
  assert.deepEqual(await s3(theirs, 'get', 'photos', 'holiday.bin', join(work, 'stolen.bin')), { error: 'NoSuchBucket', status: 404 });
  assert.deepEqual(await s3(theirs, 'list-objects', `${projects.alpha}:photos`), { error: 'AccessDenied', status: 403 });
  assert.deepEqual(await s3({ access: mine.access, secret: theirs.secret }, 'list-buckets'), { error: 'SignatureDoesNotMatch', status: 403 });
});

test('objects and containers are deleted through Swift', async () => {
  await alice('object', 'delete', 'photos', 'holiday.bin', 'note.txt');
  assert.deepEqual(await json(alice, 'object', 'list', 'photos'), []);
  await alice('container', 'delete', 'photos');
  assert.deepEqual(await json(alice, 'container', 'list'), []);
});

test("radosgw's Keystone user validates tokens and nothing more", async () => {
  const api = httpClient(nubo.url);
  const password = readFileSync(join(ceph.dir, 'radosgw', 'keystone-password'), 'utf8').trim();
  const service = await api.login('radosgw', password, 'service');
  const user = await api.login('alice', 'alice-pw', 'alpha');
  const validated = await api.request('GET', '/identity/v3/auth/tokens?nocatalog', { token: service, headers: { 'x-subject-token': user } });
  assert.equal(validated.status, 200);
  assert.equal(validated.body.token.project.id, projects.alpha);
  assert.equal((await api.request('GET', '/identity/v3/users', { token: service })).status, 403);
  assert.equal((await api.request('DELETE', '/identity/v3/auth/tokens', { token: service, headers: { 'x-subject-token': user } })).status, 403);
  // A member validates its own tokens only, as before.
  const other = await api.login('bob', 'bob-pw', 'beta');
  assert.equal((await api.request('GET', '/identity/v3/auth/tokens', { token: other, headers: { 'x-subject-token': user } })).status, 403);
});
