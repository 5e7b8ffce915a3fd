import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest, notFound, overQuota } from '../../lib/errors.ts';
import { admin, anyOf, definePolicy, projectMember, projectReader } from '../../lib/http/policy.ts';
import type { Store } from '../../lib/store/db.ts';
import { imageDeleted, proxyDeleteImage, proxyImage, proxyListImages, proxySetProperties, type Image } from '../../image/for-compute.ts';
import type { ImageService } from '../../image/index.ts';
import { versionOf } from './microversion.ts';

// Nova's image proxy (/images), deprecated and gone at 2.36: the image service's records as Nova
// showed them, read, deleted and their properties changed through the image service itself, with
// its visibility and ownership rules.

definePolicy({
  'compute:images:index': anyOf(admin, projectReader),
  'compute:images:delete': anyOf(admin, projectMember),
  'compute:image-metadata:update': anyOf(admin, projectMember),
});

/** Nova's limit on an image's metadata items (its maxImageMeta). */
const MAX_IMAGE_META = 128;

/** Proxies answer 404 from 2.36, as Nova's do. */
export function removedAt236(request: FastifyRequest): void {
  if (versionOf(request).atLeast('2.36')) throw notFound('The resource could not be found.');
}

const STATUS: Record<string, string> = { active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', uploading: 'SAVING', importing: 'SAVING' };
const PROGRESS: Record<string, number> = { queued: 25, saving: 50, uploading: 50, importing: 50, active: 100 };
const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

function imageLinks(base: string, id: string) {
  return [
    { rel: 'self', href: `${base}/compute/v2.1/images/${id}` },
    { rel: 'bookmark', href: `${base}/compute/images/${id}` },
    { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${base}/image/images/${id}` },
  ];
}

function imageView(base: string, i: Image) {
  const server = i.properties.instance_uuid;
  return {
    id: i.id,
    name: i.name,
    minRam: i.minRam,
    minDisk: i.minDisk,
    metadata: i.properties,
    created: iso(i.createdAt),
    updated: iso(i.updatedAt),
    status: STATUS[i.status] ?? 'UNKNOWN',
    progress: PROGRESS[i.status] ?? 0,
    'OS-EXT-IMG-SIZE:size': i.size ?? 0,
    links: imageLinks(base, i.id),
    ...(server
      ? {
          server: {
            id: server,
            links: [
              { rel: 'self', href: `${base}/compute/v2.1/servers/${server}` },
              { rel: 'bookmark', href: `${base}/compute/servers/${server}` },
            ],
          },
        }
      : {}),
  };
}

const ById = Type.Object({ image_id: Type.String() });
const ByKey = Type.Object({ image_id: Type.String(), key: Type.String() });
const Meta = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));
const ListQuery = Type.Object({
  name: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  server: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  minRam: Type.Optional(Type.Integer({ minimum: 0 })),
  minDisk: Type.Optional(Type.Integer({ minimum: 0 })),
  'changes-since': Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  marker: Type.Optional(Type.String()),
});

export function imageProxyRoutes(app: FastifyInstance, store: Store, svc: ImageService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const read = { policy: 'compute:images:index' };
  const write = { policy: 'compute:image-metadata:update' };

  async function list(request: FastifyRequest, q: Static<typeof ListQuery>) {
    removedAt236(request);
    // Nova's filters as the image service names them; sizes are compared after (Glance v2 has none).
    const rows = await proxyListImages(db, authOf(request), {
      name: q.name,
      status: q.status?.toLowerCase(),
      instance_uuid: q.server,
      image_type: q.type,
      updated_at: q['changes-since'] && `gte:${q['changes-since']}`,
      limit: q.limit === undefined ? undefined : String(q.limit),
      marker: q.marker,
    });
    return rows.filter((i) => i.minRam >= (q.minRam ?? 0) && i.minDisk >= (q.minDisk ?? 0));
  }

  api.get('/images', { config: read, schema: { querystring: ListQuery } }, async (request) => ({
    images: (await list(request, request.query)).map((i) => ({ id: i.id, name: i.name, links: imageLinks(request.publicUrl, i.id) })),
  }));

  api.get('/images/detail', { config: read, schema: { querystring: ListQuery } }, async (request) => ({
    images: (await list(request, request.query)).map((i) => imageView(request.publicUrl, i)),
  }));

  api.get('/images/:image_id', { config: read, schema: { params: ById } }, async (request) => {
    removedAt236(request);
    return { image: imageView(request.publicUrl, await proxyImage(db, authOf(request), request.params.image_id)) };
  });

  api.delete('/images/:image_id', { config: { policy: 'compute:images:delete' }, schema: { params: ById } }, async (request, reply) => {
    removedAt236(request);
    const image = await store.tx((tx) => proxyDeleteImage(tx, svc, authOf(request), request.params.image_id));
    await imageDeleted(svc, image.id);
    return reply.status(204).send();
  });

  /** Changes an image's properties through the image service, in Nova's limit. */
  async function changeMetadata(request: FastifyRequest, id: string, change: (m: Record<string, string>) => Record<string, string>) {
    return store.tx(async (tx) => {
      const image = await proxyImage(tx, authOf(request), id);
      const next = change({ ...image.properties });
      if (Object.keys(next).length > MAX_IMAGE_META) throw overQuota('Quota exceeded for metadata items: the image has too many.', 403);
      return (await proxySetProperties(tx, authOf(request), id, image.properties, next)).properties;
    });
  }

  api.get('/images/:image_id/metadata', { config: read, schema: { params: ById } }, async (request) => {
    removedAt236(request);
    return { metadata: (await proxyImage(db, authOf(request), request.params.image_id)).properties };
  });

  api.post('/images/:image_id/metadata', { config: write, schema: { params: ById, body: Type.Object({ metadata: Meta }) } }, async (request) => {
    removedAt236(request);
    return { metadata: await changeMetadata(request, request.params.image_id, (m) => ({ ...m, ...request.body.metadata })) };
  });

  api.put('/images/:image_id/metadata', { config: write, schema: { params: ById, body: Type.Object({ metadata: Meta }) } }, async (request) => {
    removedAt236(request);
    return { metadata: await changeMetadata(request, request.params.image_id, () => ({ ...request.body.metadata })) };
  });

  api.get('/images/:image_id/metadata/:key', { config: read, schema: { params: ByKey } }, async (request) => {
    removedAt236(request);
    const { key } = request.params;
    const value = (await proxyImage(db, authOf(request), request.params.image_id)).properties[key];
    if (value === undefined) throw notFound('Invalid metadata key');
    return { meta: { [key]: value } };
  });

  api.put('/images/:image_id/metadata/:key', { config: write, schema: { params: ByKey, body: Type.Object({ meta: Meta }) } }, async (request) => {
    removedAt236(request);
    const { key } = request.params;
    const meta = request.body.meta;
    if (Object.keys(meta).length !== 1) throw badRequest('Request body contains too many items');
    if (!(key in meta)) throw badRequest('Request body and URI mismatch');
    const next = await changeMetadata(request, request.params.image_id, (m) => ({ ...m, [key]: meta[key]! }));
    return { meta: { [key]: next[key] } };
  });

  api.delete('/images/:image_id/metadata/:key', { config: write, schema: { params: ByKey } }, async (request, reply) => {
    removedAt236(request);
    const { key } = request.params;
    await changeMetadata(request, request.params.image_id, (m) => {
      if (!(key in m)) throw notFound('Invalid metadata key');
      delete m[key];
      return m;
    });
    return reply.status(204).send();
  });
}
