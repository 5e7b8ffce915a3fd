import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { nextLink, pageOf } from '../../src/lib/http/paging.ts';

const request = (url: string) => ({ url, publicUrl: 'http://cloud:8770' }) as FastifyRequest;

test('limit and marker are read, capped and checked', () => {
  assert.deepEqual(pageOf({}), { limit: 1000, marker: undefined });
  assert.deepEqual(pageOf({ limit: '5', marker: 'abc' }), { limit: 5, marker: 'abc' });
  assert.deepEqual(pageOf({ limit: '5000' }, 200), { limit: 200, marker: undefined });
  assert.throws(() => pageOf({ limit: '-1' }), (e: any) => e.status === 400);
  assert.throws(() => pageOf({ limit: 'ten' }), (e: any) => e.status === 400);
});

test('a full page links to the next one, keeping the other query parameters', () => {
  const page = pageOf({ limit: '2', marker: 'a' });
  const link = nextLink(request('/image/v2/images?limit=2&marker=a&status=active'), page, [{ id: 'b' }, { id: 'c' }]);
  assert.equal(link, 'http://cloud:8770/image/v2/images?limit=2&marker=c&status=active');
  assert.equal(nextLink(request('/image/v2/images?limit=2'), page, [{ id: 'b' }]), undefined, 'a short page is the last');
});
