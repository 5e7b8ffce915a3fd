import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNubo, openstack, nubo as runNubo, cliAs, tempDir, type SpawnedNubo, httpClient } from '../helpers/cloud.ts';
import { assertShape } from './shape.ts';

// Credentials (/v3/credentials, sealed at rest) and EC2 credentials, through the real openstack
// CLI, and the two calls an object store makes: s3tokens (radosgw) and ec2tokens. The signatures
// are computed here from the AWS specifications, independently of Nubo's code.
const dataDir = tempDir();
let nubo: SpawnedNubo;
let admin: string;
const MARKER = 'blob-in-clear-7f3a9c';

before(async () => {
  nubo = await spawnNubo({ dataDir });
  admin = await login('admin', nubo.env.OS_PASSWORD!, 'admin');
  await ok('project', 'create', 'demo');
  await ok('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
  await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
});
after(async () => {
  await nubo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The identity API under /identity/v3, and a login that scopes to a project. */
const call = (method: string, path: string, token?: string, body?: unknown) => httpClient(nubo.url).request(method, `/identity/v3${path}`, { token, body });
const login = (user: string, password: string, project: string) => httpClient(nubo.url).login(user, password, project);

const ok = cliAs(() => nubo.env);
const demoEnv = () => ({ ...nubo.env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' });
const asDemo = cliAs(demoEnv);
const json = async (cli: (...a: string[]) => Promise<string>, ...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));

test('credentials: CRUD through the CLI, each user sees its own, the admin all', async () => {
  const adminId = (await json(ok, 'user', 'show', 'admin')).id;
  const demoId = (await json(ok, 'user', 'show', 'demo')).id;
  const mine = await json(ok, 'credential', 'create', '--type', 'nubo-test-type', 'admin', MARKER);
  assert.deepEqual(mine, { blob: MARKER, id: mine.id, project_id: null, type: 'nubo-test-type', user_id: adminId });
  // As openstackclient finds users and projects, a user who may not list them names them by ID.
  const demoProject = (await json(ok, 'project', 'show', 'demo')).id;
  const theirs = await json(asDemo, 'credential', 'create', '--project', demoProject, demoId, '{"totp": "x"}');
  assert.equal(theirs.type, 'cert');
  assert.equal(theirs.user_id, demoId);

  const everything = (await json(ok, 'credential', 'list')) as { ID: string; Data: string }[];
  assert.deepEqual(everything.map((c) => c.ID).sort(), [mine.id, theirs.id].sort());
  assert.deepEqual(
    (await json(ok, 'credential', 'list', '--user', 'demo')).map((c: { ID: string }) => c.ID),
    [theirs.id],
  );
  assert.deepEqual(
    (await json(ok, 'credential', 'list', '--type', 'nubo-test-type')).map((c: { Data: string }) => c.Data),
    [MARKER],
  );
  assert.deepEqual(
    (await json(asDemo, 'credential', 'list')).map((c: { ID: string }) => c.ID),
    [theirs.id],
  );

  // The demo user may neither read nor make the admin's credentials.
  const demoToken = await login('demo', 'pw', 'demo');
  assert.equal((await call('GET', `/credentials/${mine.id}`, demoToken)).status, 403);
  assert.equal((await call('DELETE', `/credentials/${mine.id}`, demoToken)).status, 403);
  assert.match((await openstack(demoEnv(), 'credential', 'create', adminId, 'x')).stderr, /HTTP 403/);

  await asDemo('credential', 'set', '--user', demoId, '--type', 'cert', '--data', 'changed', theirs.id);
  assert.equal((await json(asDemo, 'credential', 'show', theirs.id)).blob, 'changed');
  const handover = await call('PATCH', `/credentials/${theirs.id}`, demoToken, { credential: { user_id: adminId } });
  assert.equal(handover.status, 403);

  const raw = await call('GET', `/credentials/${mine.id}`, admin);
  assertShape(raw.body.credential, ['id', 'user_id', 'project_id', 'type', 'blob']);
  const list = await call('GET', '/credentials', admin);
  assert.deepEqual(Object.keys(list.body).sort(), ['credentials', 'links']);
  assert.equal(
    (await call('POST', '/credentials', admin, { credential: { user_id: adminId, type: 'ec2', blob: '{"secret": "no access"}', project_id: demoProject } }))
      .status,
    400,
  );
  assert.equal((await call('GET', '/credentials/nope', admin)).status, 404);

  await asDemo('credential', 'delete', theirs.id);
  assert.equal((await call('GET', `/credentials/${theirs.id}`, admin)).status, 404);
});

/** SigV2 for S3: HMAC-SHA1 of the string to sign, in base64. */
const s3v2 = (secret: string, toSign: string) => createHmac('sha1', secret).update(toSign).digest('base64');

/** SigV4: the signing key from the date, region and service, then HMAC-SHA256 in hex. */
function sigv4(secret: string, date: string, region: string, service: string, toSign: string): string {
  const h = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  return createHmac('sha256', h(h(h(h(`AWS4${secret}`, date), region), service), 'aws4_request'))
    .update(toSign)
    .digest('hex');
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('ec2 credentials: the CLI makes them, s3tokens and ec2tokens accept their signatures and refuse wrong ones', async () => {
  const demoId = (await json(ok, 'user', 'show', 'demo')).id;
  const demoProject = (await json(ok, 'project', 'show', 'demo')).id;
  const cred = await json(asDemo, 'ec2', 'credentials', 'create');
  assert.deepEqual(Object.keys(cred).sort(), ['access', 'links', 'project_id', 'secret', 'trust_id', 'user_id']);
  assert.equal(cred.project_id, demoProject);
  assert.equal(cred.user_id, demoId);
  assert.deepEqual(
    (await json(asDemo, 'ec2', 'credentials', 'list')).map((c: { Access: string }) => c.Access),
    [cred.access],
  );
  assert.equal((await json(asDemo, 'ec2', 'credentials', 'show', cred.access)).secret, cred.secret);
  assert.deepEqual(
    (await json(ok, 'ec2', 'credentials', 'list', '--user', 'demo')).map((c: { Secret: string }) => c.Secret),
    [cred.secret],
  );
  // An ec2 credential is a credential too, found by the hash of its access key.
  assert.deepEqual(
    (await json(ok, 'credential', 'list', '--type', 'ec2')).map((c: { ID: string }) => c.ID),
    [sha256(cred.access)],
  );

  // What radosgw asks with its own token to learn a secret.
  const byAccess = await call('GET', `/users/${demoId}/credentials/OS-EC2/${cred.access}`, admin);
  assert.equal(byAccess.status, 200);
  assertShape(byAccess.body.credential, ['user_id', 'tenant_id', 'access', 'secret', 'trust_id']);
  assert.equal(byAccess.body.credential.secret, cred.secret);
  assert.equal(byAccess.body.credential.trust_id, null);
  assert.equal((await call('GET', `/users/${demoId}/credentials/OS-EC2/nope`, admin)).status, 404);

  // s3tokens, SigV2 as radosgw forwards it.
  const toSign = 'GET\n\n\nSat, 05 Dec 2026 16:00:00 +0000\n/bucket/key';
  const s3 = (signature: string, token = admin, stringToSign = toSign, access = cred.access) =>
    call('POST', '/s3tokens', token, { credentials: { access, token: b64(stringToSign), signature } });
  const good = await s3(s3v2(cred.secret, toSign));
  assert.equal(good.status, 200, JSON.stringify(good.body));
  assert.equal(good.body.token.user.id, demoId);
  assert.equal(good.body.token.project.id, demoProject);
  assert.deepEqual(good.body.token.methods, ['ec2credential']);
  assert.deepEqual(good.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
  assert.ok(good.body.token.catalog.length > 0);
  assert.equal(good.headers.get('x-subject-token'), null);

  const wrong = await s3(s3v2('not-the-secret', toSign));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.message, 'Credential signature mismatch');
  assert.equal((await s3(s3v2(cred.secret, toSign), admin, toSign, 'unknown-access')).status, 404);
  // Only a service or an admin turns a signed request into a token.
  assert.equal((await s3(s3v2(cred.secret, toSign), await login('demo', 'pw', 'demo'))).status, 403);
  assert.equal((await s3(s3v2(cred.secret, toSign), '')).status, 401);
  assert.equal((await call('POST', '/s3tokens', admin, {})).status, 400);

  // s3tokens, SigV4.
  const canonical = ['GET', '/bucket/key', '', 'host:s3.example', 'x-amz-date:20261205T160000Z', '', 'host;x-amz-date', sha256('')].join('\n');
  const v4ToSign = ['AWS4-HMAC-SHA256', '20261205T160000Z', '20261205/RegionOne/s3/aws4_request', sha256(canonical)].join('\n');
  const v4 = await s3(sigv4(cred.secret, '20261205', 'RegionOne', 's3', v4ToSign), admin, v4ToSign);
  assert.equal(v4.status, 200, JSON.stringify(v4.body));
  assert.equal(v4.body.token.user.id, demoId);
  assert.equal((await s3(sigv4('bad', '20261205', 'RegionOne', 's3', v4ToSign), admin, v4ToSign)).status, 401);

  // ec2tokens, signature version 2 over the request's query, as an EC2 API forwards it.
  const host = 'ec2.example:8788';
  const params: Record<string, string> = {
    AWSAccessKeyId: cred.access,
    Action: 'DescribeInstances',
    SignatureMethod: 'HmacSHA256',
    SignatureVersion: '2',
    Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    Version: '2016-11-15',
  };
  const query = Object.keys(params)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k]!)}`)
    .join('&');
  const ec2Signature = createHmac('sha256', cred.secret).update(`GET\n${host}\n/\n${query}`).digest('base64');
  const ec2 = (signature: string) =>
    call('POST', '/ec2tokens', admin, { credentials: { access: cred.access, signature, host, verb: 'GET', path: '/', params, headers: {}, body_hash: '' } });
  const issued = await ec2(ec2Signature);
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  const token = issued.headers.get('x-subject-token')!;
  assert.ok(token);
  // The token works: it lists the demo project's own EC2 credentials.
  const usable = await call('GET', `/users/${demoId}/credentials/OS-EC2`, token);
  assert.equal(usable.status, 200);
  assert.equal(usable.body.credentials[0].access, cred.access);
  assert.equal((await ec2(ec2Signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))).status, 401);

  // ec2tokens, SigV4 by the Authorization header.
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  const day = amzDate.slice(0, 8);
  const v4Params = { Action: 'DescribeRegions', Version: '2016-11-15' };
  const v4Request = ['GET', '/', 'Action=DescribeRegions&Version=2016-11-15', `host:ec2.example\nx-amz-date:${amzDate}\n`, 'host;x-amz-date', sha256('')].join(
    '\n',
  );
  const v4Sign = ['AWS4-HMAC-SHA256', amzDate, `${day}/RegionOne/ec2/aws4_request`, sha256(v4Request)].join('\n');
  const ec2v4 = (signature: string) =>
    call('POST', '/ec2tokens', admin, {
      credentials: {
        access: cred.access,
        signature,
        host: 'ec2.example',
        verb: 'GET',
        path: '/',
        params: v4Params,
        headers: {
          Host: 'ec2.example',
          'X-Amz-Date': amzDate,
          Authorization: `AWS4-HMAC-SHA256 Credential=${cred.access}/${day}/RegionOne/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
        },
        body_hash: sha256(''),
      },
    });
  const v4Token = await ec2v4(sigv4(cred.secret, day, 'RegionOne', 'ec2', v4Sign));
  assert.equal(v4Token.status, 200, JSON.stringify(v4Token.body));
  assert.equal(v4Token.body.token.project.id, demoProject);
  assert.equal((await ec2v4(sigv4('bad', day, 'RegionOne', 'ec2', v4Sign))).status, 401);

  await asDemo('ec2', 'credentials', 'delete', cred.access);
  assert.equal((await s3(s3v2(cred.secret, toSign))).status, 404);
  assert.deepEqual(await json(asDemo, 'ec2', 'credentials', 'list'), []);
});

test('an ec2 credential made under an application credential gives only its roles; a restricted one makes none', async () => {
  const made = await json(asDemo, 'application', 'credential', 'create', '--unrestricted', '--role', 'reader', 'ec2-maker');
  const appEnv = {
    OS_AUTH_URL: nubo.env.OS_AUTH_URL!,
    OS_IDENTITY_API_VERSION: '3',
    OS_REGION_NAME: 'RegionOne',
    OS_AUTH_TYPE: 'v3applicationcredential',
    OS_APPLICATION_CREDENTIAL_ID: made.id,
    OS_APPLICATION_CREDENTIAL_SECRET: made.secret,
  };
  const cred = await json(
    cliAs(() => appEnv),
    'ec2',
    'credentials',
    'create',
  );
  const toSign = 'PUT\n\n\nSat, 05 Dec 2026 16:00:00 +0000\n/bucket/object';
  const s3 = await call('POST', '/s3tokens', admin, { credentials: { access: cred.access, token: b64(toSign), signature: s3v2(cred.secret, toSign) } });
  assert.equal(s3.status, 200, JSON.stringify(s3.body));
  assert.deepEqual(
    s3.body.token.roles.map((r: { name: string }) => r.name),
    ['reader'],
  );
  assert.equal(s3.body.token.application_credential.id, made.id);

  const restricted = await json(asDemo, 'application', 'credential', 'create', '--role', 'reader', 'restricted');
  const refused = await openstack(
    { ...appEnv, OS_APPLICATION_CREDENTIAL_ID: restricted.id, OS_APPLICATION_CREDENTIAL_SECRET: restricted.secret },
    'ec2',
    'credentials',
    'create',
  );
  assert.match(refused.stderr, /HTTP 403/);
  await asDemo('ec2', 'credentials', 'delete', cred.access);
});

test('nubo region, credential and ec2 credentials commands speak as openstack does', async () => {
  const n = cliAs(() => nubo.env, runNubo);
  const nd = cliAs(demoEnv, runNubo);
  await n('region', 'create', '--description', 'by nubo', 'NuboRegion');
  assert.deepEqual(await json(n, 'region', 'show', 'NuboRegion'), await json(ok, 'region', 'show', 'NuboRegion'));
  await n('region', 'set', '--description', 'changed', 'NuboRegion');
  assert.deepEqual(await json(n, 'region', 'list'), await json(ok, 'region', 'list'));
  await n('region', 'delete', 'NuboRegion');
  assert.equal((await call('GET', '/regions/NuboRegion', admin)).status, 404);

  const created = await json(n, 'credential', 'create', '--type', 'cert', 'admin', 'nubo-made');
  assert.deepEqual(created, await json(ok, 'credential', 'show', created.id));
  await n('credential', 'set', '--user', 'admin', '--type', 'cert', '--data', 'nubo-changed', created.id);
  assert.deepEqual(await json(n, 'credential', 'show', created.id), await json(ok, 'credential', 'show', created.id));
  assert.deepEqual(await json(n, 'credential', 'list'), await json(ok, 'credential', 'list'));
  await n('credential', 'delete', created.id);

  const ec2 = await json(nd, 'ec2', 'credentials', 'create');
  assert.deepEqual(await json(nd, 'ec2', 'credentials', 'show', ec2.access), await json(asDemo, 'ec2', 'credentials', 'show', ec2.access));
  assert.deepEqual(await json(nd, 'ec2', 'credentials', 'list'), await json(asDemo, 'ec2', 'credentials', 'list'));
  await nd('ec2', 'credentials', 'delete', ec2.access);
  assert.deepEqual(await json(asDemo, 'ec2', 'credentials', 'list'), []);
});

/** Every file below dir, with its bytes. */
function* files(dir: string): Generator<Buffer> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield readFileSync(path);
  }
}

test('the database holds credential blobs sealed: the blob is nowhere in its files, its type is', async () => {
  assert.equal(statSync(join(dataDir, 'credential.key')).mode & 0o777, 0o600);
  await ok('credential', 'create', '--type', 'nubo-sealed-type', 'admin', MARKER);
  // Stopped, the embedded database has written everything it holds to its files.
  await nubo.stop();
  let sawType = false;
  for (const bytes of files(join(dataDir, 'db'))) {
    assert.equal(bytes.includes(MARKER), false, 'the credential blob is stored in clear');
    sawType ||= bytes.includes('nubo-sealed-type');
  }
  assert.ok(sawType, 'the scan did not find the credential row at all');
});
