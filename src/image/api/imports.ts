import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError } from '../../lib/errors.ts';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { idleLimited } from '../../lib/http/idle.ts';
import { callerOf, getVisible } from '../access.ts';
import { importMethods, startImport, STORE_ID, type ImportRequest } from '../import.ts';
import { stageImageData } from '../stage.ts';
import { getTask, listTasks, tasksOfImage, type TaskQuery } from '../tasks.ts';
import type { ImageService } from '../service.ts';
import { RbdImageStore } from '../stores/rbd.ts';
import { taskView } from './views.ts';

const ById = Type.Object({ image_id: Type.String() });

const ImportBody = Type.Object({
  method: Type.Object({ name: Type.String(), uri: Type.Optional(Type.String()) }),
  stores: Type.Optional(Type.Array(Type.String())),
  all_stores: Type.Optional(Type.Boolean()),
  all_stores_must_succeed: Type.Optional(Type.Boolean()),
});

/** The one store, as Glance's stores info tells it: its type, and for rbd (as Glance's rbd store
 * shows) the pool and the RBD object size by which images are cut, with the cephx user. */
function storeInfo(svc: ImageService) {
  const data = svc.data;
  if (data instanceof RbdImageStore) {
    const { pool, user } = data.cli;
    return { description: `Image data as RBD images in the Ceph pool "${pool}".`, type: 'rbd', properties: { pool, user, chunk_size: 4 * 2 ** 20, thin_provisioning: false } };
  }
  return { description: 'Image data on the local disks of the controller.', type: 'file', properties: { thin_provisioning: false } };
}

/** Interoperable image import (stage, then import), the stores and import methods on offer, and
 * the tasks imports run as. */
export function importRoutes(app: FastifyInstance, svc: ImageService, idleMs: number): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.put('/v2/images/:image_id/stage', { config: { policy: 'image:upload_image' }, schema: { params: ById } }, async (request, reply) => {
    if (!(request.body instanceof Readable)) throw new ApiError('UnsupportedMediaType', 'Image data must be sent as application/octet-stream.');
    const length = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
    const id = request.params.image_id;
    const silent = () =>
      new ApiError('BadRequest', `No data came for ${idleMs / 1000} s: staging the data of image ${id} is abandoned.`, 'RequestTimeout', 408);
    try {
      await stageImageData(svc, callerOf(authOf(request)), id, idleLimited(request.body, idleMs, silent), length);
    } catch (err) {
      if (err instanceof ApiError && err.status === 408) reply.header('connection', 'close');
      else if (!request.raw.complete && !request.raw.destroyed) request.raw.resume();
      throw err;
    }
    return reply.status(204).send();
  });

  api.post('/v2/images/:image_id/import', { config: { policy: 'image:modify_image' }, schema: { params: ById, body: ImportBody } }, async (request, reply) => {
    const auth = authOf(request);
    const who = { caller: callerOf(auth), userId: auth.userId, requestId: request.id, mayCopy: allows('image:copy_image', auth) };
    await startImport(svc, who, request.params.image_id, request.body as ImportRequest);
    return reply.status(202).send();
  });

  api.get('/v2/info/import', { config: { policy: 'image:get_images' } }, async () => ({
    'import-methods': { description: 'Import methods available.', type: 'array', value: importMethods(svc) },
  }));

  api.get('/v2/info/stores', { config: { policy: 'image:get_images' } }, async () => ({
    stores: [{ id: STORE_ID, description: storeInfo(svc).description, default: true }],
  }));

  api.get('/v2/info/stores/detail', { config: { policy: 'image:stores_info_detail' } }, async () => {
    const { description, type, properties } = storeInfo(svc);
    return { stores: [{ id: STORE_ID, description, default: true, type, weight: 0, properties }] };
  });

  api.get('/v2/images/:image_id/tasks', { config: { policy: 'image:get_image' }, schema: { params: ById } }, async (request) => {
    const image = await getVisible(svc.store.db, callerOf(authOf(request)), request.params.image_id);
    return { tasks: (await tasksOfImage(svc.store.db, image.id)).map((t) => taskView(t, true)) };
  });

  api.get('/v2/tasks', { config: { policy: 'image:tasks_api_access' } }, async (request) => {
    const q = request.query as TaskQuery;
    const { tasks, limit } = await listTasks(svc.store.db, q);
    const params = new URLSearchParams(request.url.split('?')[1] ?? '');
    params.delete('marker');
    const links: { first: string; next?: string } = { first: `/v2/tasks${params.size ? `?${params}` : ''}` };
    if (tasks.length && tasks.length === limit) {
      params.set('marker', tasks.at(-1)!.id);
      links.next = `/v2/tasks?${params}`;
    }
    return { tasks: tasks.map((t) => taskView(t, false)), ...links, schema: '/v2/schemas/tasks' };
  });

  api.get(
    '/v2/tasks/:task_id',
    { config: { policy: 'image:tasks_api_access' }, schema: { params: Type.Object({ task_id: Type.String() }) } },
    async (request) => taskView(await getTask(svc.store.db, request.params.task_id), true),
  );
}
