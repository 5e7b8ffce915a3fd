import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { callerOf, getVisible, type Caller, type Image } from '../access.ts';
import { addTag, createImage, deleteImage, removeTag, setDeactivated, updateImage } from '../images.ts';
import { importMethods, STORE_ID } from '../import.ts';
import { listImages, type Query } from '../listing.ts';
import { parsePatch, patchDraft, PATCH_TYPES } from '../patch.ts';
import type { ImageService } from '../service.ts';
import { imageView } from './views.ts';

const ById = Type.Object({ image_id: Type.String() });
const ByTag = Type.Object({ image_id: Type.String(), tag: Type.String() });

/** The request's query string again, without the marker: Glance's `first`, and `next` with the
 * last image of a full page as marker. */
function pageLinks(request: FastifyRequest, lastId: string | undefined) {
  const params = new URLSearchParams(request.url.split('?')[1] ?? '');
  params.delete('marker');
  const query = params.toString();
  const links: { first: string; next?: string } = { first: `/v2/images${query ? `?${query}` : ''}` };
  if (lastId) {
    params.set('marker', lastId);
    links.next = `/v2/images?${params}`;
  }
  return links;
}

/** Images: create, list, show, update by JSON patch, delete, tags, deactivate and reactivate. */
export function imageRoutes(app: FastifyInstance, svc: ImageService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = svc;
  // JSON patches are JSON under their own media types.
  app.addContentTypeParser(Object.keys(PATCH_TYPES), { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  api.post('/v2/images', { config: { policy: 'image:add_image' }, schema: { body: Type.Object({}) } }, async (request, reply) => {
    const c = callerOf(authOf(request));
    const image = await store.tx((tx) => createImage(tx, c, request.body as Record<string, unknown>, svc.quota));
    // How clients learn that data may also come by import, and to which stores.
    reply.header('openstack-image-import-methods', importMethods(svc).join(',')).header('openstack-image-store-ids', STORE_ID);
    return reply.status(201).header('location', `${request.publicUrl}/image/v2/images/${image.id}`).send(imageView(image));
  });

  // Glance's show_image_direct_url, with locations shown to the admin only, as its policy does.
  const view = (c: Caller) => (i: Image) => {
    const url = svc.settings.showDirectUrl && c.admin && (i.status === 'active' || i.status === 'deactivated') ? svc.data.location?.(i.id) : undefined;
    return url ? { ...imageView(i), direct_url: url, locations: [{ url, metadata: {} }] } : imageView(i);
  };

  api.get('/v2/images', { config: { policy: 'image:get_images' } }, async (request) => {
    const c = callerOf(authOf(request));
    const { images, limit } = await listImages(store.db, c, request.query as Query);
    const full = images.length > 0 && images.length === limit;
    return { images: images.map(view(c)), ...pageLinks(request, full ? images.at(-1)!.id : undefined), schema: '/v2/schemas/images' };
  });

  api.get('/v2/images/:image_id', { config: { policy: 'image:get_image' }, schema: { params: ById } }, async (request) => {
    const c = callerOf(authOf(request));
    return view(c)(await getVisible(store.db, c, request.params.image_id));
  });

  api.patch('/v2/images/:image_id', { config: { policy: 'image:modify_image' }, schema: { params: ById } }, async (request, reply) => {
    const changes = parsePatch(request.body, patchDraft(request.headers['content-type']));
    const image = await store.tx((tx) => updateImage(tx, callerOf(authOf(request)), request.params.image_id, changes));
    return reply.header('accept-patch', Object.keys(PATCH_TYPES).join(', ')).send(imageView(image));
  });

  api.delete('/v2/images/:image_id', { config: { policy: 'image:delete_image' }, schema: { params: ById } }, async (request, reply) => {
    // The bytes go before the record commits, as Glance deletes from its store first: a store that
    // refuses (an RBD image that disks are clones of) leaves the image as it was.
    const image = await store.tx(async (tx) => {
      const image = await deleteImage(tx, callerOf(authOf(request)), request.params.image_id);
      await svc.data.delete(image.id);
      return image;
    });
    await svc.staging.delete(image.id);
    return reply.status(204).send();
  });

  api.put('/v2/images/:image_id/tags/:tag', { config: { policy: 'image:modify_image' }, schema: { params: ByTag } }, async (request, reply) => {
    await store.tx((tx) => addTag(tx, callerOf(authOf(request)), request.params.image_id, request.params.tag));
    return reply.status(204).send();
  });

  api.delete('/v2/images/:image_id/tags/:tag', { config: { policy: 'image:modify_image' }, schema: { params: ByTag } }, async (request, reply) => {
    await store.tx((tx) => removeTag(tx, callerOf(authOf(request)), request.params.image_id, request.params.tag));
    return reply.status(204).send();
  });

  for (const action of ['deactivate', 'reactivate'] as const) {
    api.post(`/v2/images/:image_id/actions/${action}`, { config: { policy: `image:${action}` }, schema: { params: ById } }, async (request, reply) => {
      await store.tx((tx) => setDeactivated(tx, callerOf(authOf(request)), request.params.image_id, action === 'deactivate'));
      return reply.status(204).send();
    });
  }
}
