import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { assertSchema, bool, nullable, obj, str, uri } from '../helpers/schema.ts';

// The tokens s3tokens and ec2tokens give for a signed request, checked against the shape of a
// project-scoped token as Keystone's api-ref documents it (both render the token Keystone renders
// for POST /v3/auth/tokens). The signatures are computed here from the AWS specifications.
let c: TestCloud;
let admin: string;
let access: string;
let secret: string;
const V3 = '/identity/v3';

before(async () => {
  c = await startTestCloud();
  admin = await c.adminToken();
  const me = (await c.request('GET', `${V3}/users?name=admin`, { token: admin })).body.users[0];
  const project = (await c.request('GET', `${V3}/projects?name=admin`, { token: admin })).body.projects[0];
  const made = await c.request('POST', `${V3}/users/${me.id}/credentials/OS-EC2`, { token: admin, body: { tenant_id: project.id } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  ({ access, secret } = made.body.credential);
});
after(() => c?.stop());

// The api-ref's shapes, written as JSON schemas.
const time = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$' };
const domainRef = obj({ id: str, name: str });
const Endpoint = obj({ id: str, interface: { enum: ['public', 'internal', 'admin'] }, region: nullable(str), region_id: nullable(str), url: uri });
const Service = obj({ id: str, type: str, name: str, endpoints: { type: 'array', items: Endpoint } }, ['id', 'type', 'endpoints']);
const ProjectToken = obj({
  token: obj(
    {
      methods: { type: 'array', items: str, minItems: 1 },
      user: obj({ id: str, name: str, domain: domainRef, password_expires_at: nullable(time) }, ['id', 'name', 'domain']),
      audit_ids: { type: 'array', items: str, minItems: 1, maxItems: 2 },
      expires_at: time,
      issued_at: time,
      project: obj({ id: str, name: str, domain: domainRef }),
      is_domain: bool,
      roles: { type: 'array', items: obj({ id: str, name: str }), minItems: 1 },
      catalog: { type: 'array', items: Service, minItems: 1 },
    },
    ['methods', 'user', 'audit_ids', 'expires_at', 'issued_at', 'project', 'roles', 'catalog'],
  ),
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('s3tokens answers a project-scoped token as the api-ref documents it', async () => {
  const toSign = 'GET\n\n\nSat, 05 Dec 2026 16:00:00 +0000\n/bucket/key';
  const signature = createHmac('sha1', secret).update(toSign).digest('base64');
  const res = await c.request('POST', `${V3}/s3tokens`, {
    token: admin,
    body: { credentials: { access, token: Buffer.from(toSign).toString('base64'), signature } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assertSchema(ProjectToken, res.body, 'POST /v3/s3tokens');
  assert.deepEqual(res.body.token.methods, ['ec2credential']);
});

test('ec2tokens answers a project-scoped token as the api-ref documents it, its id in X-Subject-Token', async () => {
  const host = 'ec2.example:8788';
  const params: Record<string, string> = {
    AWSAccessKeyId: access,
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
  const signature = createHmac('sha256', secret).update(`GET\n${host}\n/\n${query}`).digest('base64');
  const res = await c.request('POST', `${V3}/ec2tokens`, {
    token: admin,
    body: { credentials: { access, signature, host, verb: 'GET', path: '/', params, headers: {}, body_hash: sha256('') } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assertSchema(ProjectToken, res.body, 'POST /v3/ec2tokens');
  assert.ok(res.headers.get('x-subject-token'));
});
