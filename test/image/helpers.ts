import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestCloud } from '../helpers/cloud.ts';

export const run = promisify(execFile);

/** A project with one user holding `role` on it, and that user's token. */
export async function makeProject(c: TestCloud, admin: string, name: string, role = 'member') {
  const p = await c.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name } } });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  const u = await c.request('POST', '/identity/v3/users', { token: admin, body: { user: { name: `${name}-user`, password: 'pw', default_project_id: p.body.project.id } } });
  assert.equal(u.status, 201, JSON.stringify(u.body));
  const roles = await c.request('GET', `/identity/v3/roles?name=${role}`, { token: admin });
  const g = await c.request('PUT', `/identity/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${roles.body.roles[0].id}`, { token: admin });
  assert.equal(g.status, 204);
  return { id: p.body.project.id as string, token: await c.login(`${name}-user`, 'pw', name) };
}

/** Image API calls for one token. */
export function imagesOf(c: TestCloud, token: string) {
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => c.request(method, `/image${path}`, { token, body, headers });
  return {
    call,
    async create(body: Record<string, unknown> = {}) {
      const res = await call('POST', '/v2/images', { disk_format: 'raw', container_format: 'bare', ...body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; [k: string]: unknown };
    },
    patch: (id: string, ops: unknown) => call('PATCH', `/v2/images/${id}`, ops, { 'content-type': 'application/openstack-images-v2.1-json-patch' }),
    show: (id: string) => call('GET', `/v2/images/${id}`),
    /** Uploads bytes (or a stream of them) as the data of an image. */
    async upload(id: string, data: Uint8Array | AsyncIterable<Uint8Array>) {
      const res = await fetch(`${c.url}/image/v2/images/${id}/file`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', accept: 'application/json' },
        body: data as BodyInit,
        duplex: 'half',
      } as RequestInit);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async download(id: string, headers: Record<string, string> = {}) {
      const res = await fetch(`${c.url}/image/v2/images/${id}/file`, { headers: { 'x-auth-token': token, ...headers } });
      return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
    },
  };
}

/** What the image store holds on disk: committed images, and temporary files of uploads. */
export function storeFiles(dataDir: string): { images: string[]; temp: string[] } {
  const root = join(dataDir, 'images');
  return {
    images: readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'store-id')
      .map((e) => e.name)
      .sort(),
    temp: readdirSync(join(root, 'tmp')),
  };
}

/** Polls until check() passes or the time is up. */
export async function eventually(check: () => Promise<void> | void, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
