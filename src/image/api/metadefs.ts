import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import { authOf } from '../../lib/http/auth.ts';
import { callerOf } from '../access.ts';
import * as defs from '../metadefs/definitions.ts';
import {
  createNamespace,
  dedupeTags,
  deleteNamespace,
  getNamespace,
  listNamespaces,
  updateNamespace,
  type NamespaceBody,
  type NamespaceQuery,
} from '../metadefs/namespaces.ts';
import { METADEF_SCHEMAS } from '../metadefs/schemas.ts';
import { associationView, namespaceView, objectView, propertiesView, propertyView, tagView } from '../metadefs/views.ts';
import type { Db } from '../../lib/store/db.ts';
import type { ImageService } from '../service.ts';

const ByNs = Type.Object({ namespace: Type.String() });
const ByName = Type.Object({ namespace: Type.String(), name: Type.String() });
// A fresh config per route: Fastify keeps each route's config as its own.
const read = () => ({ policy: 'image:get_metadef_namespace' });
const write = () => ({ policy: 'image:modify_metadef' });
const bodyOf = (b: unknown) => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : ({} as Record<string, unknown>));

/** Everything a namespace's full view shows, with the properties as a resource type names them. */
async function fullView(db: Db, ns: Awaited<ReturnType<typeof getNamespace>>, resourceType?: string) {
  const associations = await defs.listAssociations(db, ns.namespace);
  const prefix = resourceType ? (associations.find((a) => a.resourceType === resourceType)?.prefix ?? '') : '';
  return namespaceView(ns, {
    associations,
    properties: await defs.listProperties(db, ns.namespace),
    objects: await defs.listObjects(db, ns.namespace),
    tags: await defs.listTags(db, ns.namespace),
    prefix,
  });
}

/** Metadata definitions (Glance's metadefs): namespaces and what they define, for dashboards that
 * offer metadata to set on images, volumes and flavors. Anyone reads public namespaces and their
 * project's; writes are the admin's, as Glance's default policy has them. */
export function metadefRoutes(app: FastifyInstance, svc: ImageService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = svc;
  const caller = (request: FastifyRequest) => callerOf(authOf(request));
  // The namespace must be readable before anything in it is read or written.
  const open = (db: Db, request: FastifyRequest) => getNamespace(db, caller(request), (request.params as { namespace: string }).namespace);

  for (const [name, doc] of Object.entries(METADEF_SCHEMAS))
    app.get(`/v2/schemas/metadefs/${name}`, { config: { policy: 'image:get_schemas' } }, async () => doc);

  api.get('/v2/metadefs/namespaces', { config: read() }, async (request) => {
    const q = request.query as NamespaceQuery;
    const { namespaces, more } = await listNamespaces(store.db, caller(request), q);
    const views = [];
    for (const n of namespaces) views.push(namespaceView(n, { associations: await defs.listAssociations(store.db, n.namespace) }));
    const params = new URLSearchParams(request.url.split('?')[1] ?? '');
    params.delete('marker');
    const first = `/v2/metadefs/namespaces${params.size ? `?${params}` : ''}`;
    if (more) params.set('marker', namespaces.at(-1)!.namespace);
    return { namespaces: views, first, ...(more ? { next: `/v2/metadefs/namespaces?${params}` } : {}), schema: '/v2/schemas/metadefs/namespaces' };
  });

  api.post('/v2/metadefs/namespaces', { config: write() }, async (request, reply) => {
    const ns = await store.tx((tx) => createNamespace(tx, caller(request), bodyOf(request.body) as NamespaceBody));
    return reply.status(201).send(await fullView(store.db, ns));
  });

  api.get('/v2/metadefs/namespaces/:namespace', { config: read(), schema: { params: ByNs } }, async (request) => {
    const { resource_type } = request.query as { resource_type?: string };
    return fullView(store.db, await open(store.db, request), resource_type);
  });

  api.put('/v2/metadefs/namespaces/:namespace', { config: write(), schema: { params: ByNs } }, async (request) => {
    const ns = await store.tx((tx) => updateNamespace(tx, caller(request), request.params.namespace, bodyOf(request.body) as NamespaceBody));
    return fullView(store.db, ns);
  });

  api.delete('/v2/metadefs/namespaces/:namespace', { config: write(), schema: { params: ByNs } }, async (request, reply) => {
    await store.tx((tx) => deleteNamespace(tx, caller(request), request.params.namespace));
    return reply.status(204).send();
  });

  for (const part of ['properties', 'objects', 'tags'] as const) {
    api.delete(`/v2/metadefs/namespaces/:namespace/${part}`, { config: write(), schema: { params: ByNs } }, async (request, reply) => {
      await store.tx((tx) => deleteNamespace(tx, caller(request), request.params.namespace, part));
      return reply.status(204).send();
    });
  }

  // Properties

  api.get('/v2/metadefs/namespaces/:namespace/properties', { config: read(), schema: { params: ByNs } }, async (request) => {
    const ns = await open(store.db, request);
    return { properties: propertiesView(await defs.listProperties(store.db, ns.namespace)) };
  });
  api.post('/v2/metadefs/namespaces/:namespace/properties', { config: write(), schema: { params: ByNs } }, async (request, reply) => {
    const p = await store.tx(async (tx) => defs.putProperty(tx, (await open(tx, request)).namespace, bodyOf(request.body)));
    return reply.status(201).send(propertyView(p));
  });
  api.get('/v2/metadefs/namespaces/:namespace/properties/:name', { config: read(), schema: { params: ByName } }, async (request) =>
    propertyView(await defs.getProperty(store.db, (await open(store.db, request)).namespace, request.params.name)),
  );
  api.put('/v2/metadefs/namespaces/:namespace/properties/:name', { config: write(), schema: { params: ByName } }, async (request) =>
    propertyView(await store.tx(async (tx) => defs.putProperty(tx, (await open(tx, request)).namespace, bodyOf(request.body), request.params.name))),
  );
  api.delete('/v2/metadefs/namespaces/:namespace/properties/:name', { config: write(), schema: { params: ByName } }, async (request, reply) => {
    await store.tx(async (tx) => defs.deleteProperty(tx, (await open(tx, request)).namespace, request.params.name));
    return reply.status(204).send();
  });

  // Objects

  api.get('/v2/metadefs/namespaces/:namespace/objects', { config: read(), schema: { params: ByNs } }, async (request) => {
    const ns = await open(store.db, request);
    return { objects: (await defs.listObjects(store.db, ns.namespace)).map((o) => objectView(o)), schema: 'v2/schemas/metadefs/objects' };
  });
  api.post('/v2/metadefs/namespaces/:namespace/objects', { config: write(), schema: { params: ByNs } }, async (request, reply) => {
    const o = await store.tx(async (tx) => defs.putObject(tx, (await open(tx, request)).namespace, bodyOf(request.body), false));
    return reply.status(201).send(objectView(o));
  });
  api.get('/v2/metadefs/namespaces/:namespace/objects/:name', { config: read(), schema: { params: ByName } }, async (request) =>
    objectView(await defs.getObject(store.db, (await open(store.db, request)).namespace, request.params.name)),
  );
  api.put('/v2/metadefs/namespaces/:namespace/objects/:name', { config: write(), schema: { params: ByName } }, async (request) =>
    objectView(await store.tx(async (tx) => defs.putObject(tx, (await open(tx, request)).namespace, bodyOf(request.body), request.params.name))),
  );
  api.delete('/v2/metadefs/namespaces/:namespace/objects/:name', { config: write(), schema: { params: ByName } }, async (request, reply) => {
    await store.tx(async (tx) => defs.deleteObject(tx, (await open(tx, request)).namespace, request.params.name));
    return reply.status(204).send();
  });

  // Tags

  api.get('/v2/metadefs/namespaces/:namespace/tags', { config: read(), schema: { params: ByNs } }, async (request) => {
    const ns = await open(store.db, request);
    return { tags: (await defs.listTags(store.db, ns.namespace)).map(tagView) };
  });
  api.post('/v2/metadefs/namespaces/:namespace/tags', { config: write(), schema: { params: ByNs } }, async (request, reply) => {
    const given = bodyOf(request.body).tags;
    if (!Array.isArray(given)) throw badRequest("'tags' is a required property");
    const append = String(request.headers['x-openstack-append'] ?? '').toLowerCase() === 'true';
    const tags = await store.tx(async (tx) => defs.setTags(tx, (await open(tx, request)).namespace, dedupeTags(given), append));
    return reply.status(201).send({ tags: tags.map((t) => ({ name: t.name })) });
  });
  api.post('/v2/metadefs/namespaces/:namespace/tags/:name', { config: write(), schema: { params: ByName } }, async (request, reply) => {
    const t = await store.tx(async (tx) => defs.createTag(tx, (await open(tx, request)).namespace, request.params.name));
    return reply.status(201).send(tagView(t));
  });
  api.get('/v2/metadefs/namespaces/:namespace/tags/:name', { config: read(), schema: { params: ByName } }, async (request) =>
    tagView(await defs.getTag(store.db, (await open(store.db, request)).namespace, request.params.name)),
  );
  api.put('/v2/metadefs/namespaces/:namespace/tags/:name', { config: write(), schema: { params: ByName } }, async (request) =>
    tagView(await store.tx(async (tx) => defs.renameTag(tx, (await open(tx, request)).namespace, request.params.name, bodyOf(request.body).name))),
  );
  api.delete('/v2/metadefs/namespaces/:namespace/tags/:name', { config: write(), schema: { params: ByName } }, async (request, reply) => {
    await store.tx(async (tx) => defs.deleteTag(tx, (await open(tx, request)).namespace, request.params.name));
    return reply.status(204).send();
  });

  // Resource types

  api.get('/v2/metadefs/resource_types', { config: read() }, async () => ({
    resource_types: (await defs.listResourceTypes(store.db)).map((t) => ({ name: t.name, created_at: iso(t.createdAt), updated_at: iso(t.updatedAt) })),
  }));
  api.get('/v2/metadefs/namespaces/:namespace/resource_types', { config: read(), schema: { params: ByNs } }, async (request) => {
    const ns = await open(store.db, request);
    return { resource_type_associations: (await defs.listAssociations(store.db, ns.namespace)).map(associationView) };
  });
  api.post('/v2/metadefs/namespaces/:namespace/resource_types', { config: write(), schema: { params: ByNs } }, async (request, reply) => {
    const a = await store.tx(async (tx) => defs.addAssociation(tx, (await open(tx, request)).namespace, bodyOf(request.body)));
    return reply.status(201).send(associationView(a));
  });
  api.delete('/v2/metadefs/namespaces/:namespace/resource_types/:name', { config: write(), schema: { params: ByName } }, async (request, reply) => {
    await store.tx(async (tx) => defs.removeAssociation(tx, (await open(tx, request)).namespace, request.params.name));
    return reply.status(204).send();
  });
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
