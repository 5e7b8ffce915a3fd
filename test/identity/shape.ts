import assert from 'node:assert/strict';

/** The fields the api-ref lists for an identity resource, no more, no fewer, and a self link. */
export function assertShape(resource: Record<string, unknown>, fields: string[]): void {
  assert.deepEqual(Object.keys(resource).sort(), [...fields, 'links'].sort());
  assert.match((resource.links as { self: string }).self, /^http:\/\/127\.0\.0\.1:\d+\/identity\/v3\//);
}
