import assert from 'node:assert/strict';
import type { TestCloud } from '../helpers/cloud.ts';

/** Neutron calls for one token: `call` answers as the cloud does; `ok` fails the test unless the
 * answer is a success, and gives its body. */
export function neutronOf(c: TestCloud, token: string) {
  const call = (method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token, body });
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return { call, ok };
}
