import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate, type MicroversionSpec } from '../../src/lib/http/microversion.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';

const spec: MicroversionSpec = { service: 'compute', legacyHeader: 'X-OpenStack-Nova-API-Version', min: '2.1', max: '2.93' };

test('negotiation picks the asked version, the minimum by default, the maximum for latest', () => {
  assert.deepEqual(negotiate({}, spec), { major: 2, minor: 1 });
  assert.deepEqual(negotiate({ 'openstack-api-version': 'compute 2.60' }, spec), { major: 2, minor: 60 });
  assert.deepEqual(negotiate({ 'openstack-api-version': 'volume 3.5, compute 2.10' }, spec), { major: 2, minor: 10 });
  assert.deepEqual(negotiate({ 'openstack-api-version': 'compute latest' }, spec), { major: 2, minor: 93 });
  assert.deepEqual(negotiate({ 'x-openstack-nova-api-version': '2.9' }, spec), { major: 2, minor: 9 });
  assert.deepEqual(negotiate({ 'openstack-api-version': 'volume 3.5' }, spec), { major: 2, minor: 1 }, 'another service only');
});

test('a malformed version is 400 and one out of range is 406', () => {
  assert.throws(() => negotiate({ 'openstack-api-version': 'compute two' }, spec), (e: any) => e.status === 400);
  assert.throws(() => negotiate({ 'openstack-api-version': 'compute 2.94' }, spec), (e: any) => e.status === 406 && /maximum is 2.93/.test(e.message));
  assert.throws(() => negotiate({ 'openstack-api-version': 'compute 2.0' }, spec), (e: any) => e.status === 406);
  assert.throws(() => negotiate({ 'openstack-api-version': 'compute 3.1' }, spec), (e: any) => e.status === 406);
});

let c: TestCloud;
before(async () => {
  c = await startTestCloud();
});
after(() => c?.stop());

test('the compute API echoes the negotiated version and refuses an unsupported one in Nova format', async () => {
  const res = await c.request('GET', '/compute/v2.1/', { headers: { 'openstack-api-version': 'compute latest' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('openstack-api-version'), `compute ${res.body.version.version}`);
  assert.equal(res.headers.get('x-openstack-nova-api-version'), res.body.version.version);
  assert.match(res.headers.get('vary') ?? '', /OpenStack-API-Version/);
  const refused = await c.request('GET', '/compute/v2.1/', { headers: { 'openstack-api-version': 'compute 2.999' } });
  assert.equal(refused.status, 406);
  assert.equal(refused.body.computeFault.code, 406);
  const bad = await c.request('GET', '/compute/v2.1/', { headers: { 'x-openstack-nova-api-version': 'x.y' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.badRequest.message, /API Version String x.y is of invalid format/);
});
