import assert from 'node:assert/strict';
import type { TestCloud } from '../helpers/cloud.ts';
import { imagesOf } from '../image/helpers.ts';

/** Compute API calls for one token. */
export function computeOf(c: TestCloud, token: string) {
  const call = (method: string, path: string, body?: unknown) => c.request(method, `/compute/v2.1${path}`, { token, body });
  const api = {
    call,
    async flavor(name: string, ram: number, disk: number, vcpus = 1) {
      const res = await call('POST', '/flavors', { flavor: { name, ram, disk, vcpus } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.flavor.id as string;
    },
    async create(server: Record<string, unknown>) {
      const res = await call('POST', '/servers', { server });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.server.id as string;
    },
    show: async (id: string) => (await call('GET', `/servers/${id}`)).body.server,
    action: (id: string, body: unknown) => call('POST', `/servers/${id}/action`, body),
    /** Polls a server until test(server) holds; fails with its last view after timeoutMs. */
    async until(id: string, test: (s: any) => boolean, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      let last: any;
      while (Date.now() < end) {
        const res = await call('GET', `/servers/${id}`);
        last = res.status === 404 ? null : res.body.server;
        if (test(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`server ${id} did not get there in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
    },
    settled: (id: string, status: string, timeoutMs?: number) => api.until(id, (s) => s?.status === status && s['OS-EXT-STS:task_state'] === null, timeoutMs),
    gone: (id: string, timeoutMs?: number) => api.until(id, (s) => s === null, timeoutMs),
  };
  return api;
}

/** A public raw image of `bytes` zeros, active, with the given attributes. */
export async function rawImage(c: TestCloud, token: string, bytes = 1 << 20, attrs: Record<string, unknown> = {}) {
  const images = imagesOf(c, token);
  const { id } = await images.create({ name: 'raw', visibility: 'public', ...attrs });
  const up = await images.upload(id, new Uint8Array(bytes));
  assert.equal(up.status, 204, JSON.stringify(up.body));
  return id;
}
