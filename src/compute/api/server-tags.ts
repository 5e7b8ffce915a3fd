import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { getServer, MAX_TAGS, setTags } from '../servers.ts';
import { servedFrom } from './microversion.ts';
import { Tag } from './server-fields.ts';

const ById = Type.Object({ server_id: Type.String() });
const ByTag = Type.Object({ server_id: Type.String(), tag: Type.String() });
const TAG = /^[^,/]{1,60}$/;

function checkTag(tag: string): void {
  if (!TAG.test(tag)) throw badRequest(`Tag '${tag}' is invalid: it has 1 to 60 characters and no '/' nor ','.`);
}

/** /servers/{id}/tags (microversion 2.26): the whole list, and each tag. */
export function serverTagRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const read = { policy: 'compute:os-server-tags:index' };
  const write = { policy: 'compute:os-server-tags:update' };
  const path = '/servers/:server_id/tags';

  api.get(path, { config: read, schema: { params: ById } }, async (request) => {
    servedFrom(request, '2.26');
    return { tags: (await getServer(db, authOf(request), request.params.server_id)).tags };
  });

  api.put(path, { config: write, schema: { params: ById, body: Type.Object({ tags: Type.Array(Tag, { maxItems: MAX_TAGS }) }) } }, async (request) => {
    servedFrom(request, '2.26');
    const tags = await store.tx((tx) => setTags(tx, authOf(request), request.params.server_id, 'update tags', () => request.body.tags));
    return { tags };
  });

  api.delete(path, { config: write, schema: { params: ById } }, async (request, reply) => {
    servedFrom(request, '2.26');
    await store.tx((tx) => setTags(tx, authOf(request), request.params.server_id, 'delete tags', () => []));
    return reply.status(204).send();
  });

  api.get(`${path}/:tag`, { config: read, schema: { params: ByTag } }, async (request, reply) => {
    servedFrom(request, '2.26');
    const { server_id, tag } = request.params;
    if (!(await getServer(db, authOf(request), server_id)).tags.includes(tag)) throw notFound(`Instance ${server_id} has no tag '${tag}'`);
    return reply.status(204).send();
  });

  // 201 with the tag's URL when it is new, 204 when the server had it already.
  api.put(`${path}/:tag`, { config: write, schema: { params: ByTag } }, async (request, reply) => {
    servedFrom(request, '2.26');
    const { server_id, tag } = request.params;
    checkTag(tag);
    let added = false;
    await store.tx((tx) =>
      setTags(tx, authOf(request), server_id, 'update tag', (tags) => {
        added = !tags.includes(tag);
        return [...tags, tag];
      }),
    );
    if (!added) return reply.status(204).send();
    return reply
      .status(201)
      .header('location', `${request.publicUrl}/compute/v2.1/servers/${server_id}/tags/${encodeURIComponent(tag)}`)
      .send();
  });

  api.delete(`${path}/:tag`, { config: write, schema: { params: ByTag } }, async (request, reply) => {
    servedFrom(request, '2.26');
    const { server_id, tag } = request.params;
    await store.tx((tx) =>
      setTags(tx, authOf(request), server_id, 'delete tag', (tags) => {
        if (!tags.includes(tag)) throw notFound(`Instance ${server_id} has no tag '${tag}'`);
        return tags.filter((t) => t !== tag);
      }),
    );
    return reply.status(204).send();
  });
}
