import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Identity } from '../identity.ts';
import { addTag, checkTag, removeTag, setTags, tagsOf } from '../project-tags.ts';

const ById = Type.Object({ project_id: Type.String() });
const tagsUrl = (base: string, projectId: string) => `${base}/identity/v3/projects/${projectId}/tags`;
const ByTag = Type.Object({ project_id: Type.String(), tag: Type.String() });

/** /v3/projects/{p}/tags: the whole set read, replaced or cleared, or one tag at a time. */
export function projectTagRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  // Keystone wraps a tag list with the link of the request itself.
  const wrap = (url: string, tags: string[]) => ({ links: { self: url }, tags });

  api.get('/v3/projects/:project_id/tags', { config: { policy: 'identity:list_project_tags' }, schema: { params: ById } }, async (request) =>
    wrap(tagsUrl(request.publicUrl, request.params.project_id), await tagsOf(db, request.params.project_id)),
  );

  api.put(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:update_project_tags' }, schema: { params: ById, body: Type.Object({ tags: Type.Array(Type.String()) }) } },
    async (request) =>
      wrap(tagsUrl(request.publicUrl, request.params.project_id), await identity.change((tx) => setTags(tx, request.params.project_id, request.body.tags))),
  );

  api.delete('/v3/projects/:project_id/tags', { config: { policy: 'identity:delete_project_tags' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => setTags(tx, request.params.project_id, []));
    return reply.status(204).send();
  });

  // GET checks a tag as HEAD does (Fastify answers HEAD from this route).
  api.get('/v3/projects/:project_id/tags/:tag', { config: { policy: 'identity:get_project_tag' }, schema: { params: ByTag } }, async (request, reply) => {
    await checkTag(db, request.params.project_id, request.params.tag);
    return reply.status(204).send();
  });

  api.put('/v3/projects/:project_id/tags/:tag', { config: { policy: 'identity:create_project_tag' }, schema: { params: ByTag } }, async (request, reply) => {
    const { project_id, tag } = request.params;
    await identity.change((tx) => addTag(tx, project_id, tag));
    return reply
      .status(201)
      .header('location', `${tagsUrl(request.publicUrl, project_id)}/${encodeURIComponent(tag)}`)
      .send();
  });

  api.delete('/v3/projects/:project_id/tags/:tag', { config: { policy: 'identity:delete_project_tag' }, schema: { params: ByTag } }, async (request, reply) => {
    await identity.change((tx) => removeTag(tx, request.params.project_id, request.params.tag));
    return reply.status(204).send();
  });
}
