import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import type { Attachment } from '../../volume/attachments.ts';
import { attachVolume, detachVolume, listAttachments, showAttachment } from '../volumes.ts';

const ById = Type.Object({ server_id: Type.String() });
const ByVolume = Type.Object({ server_id: Type.String(), volume_id: Type.String() });
const AttachBody = Type.Object({
  volumeAttachment: Type.Object({
    volumeId: Type.String({ format: 'uuid' }),
    device: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
    tag: Type.Optional(Type.String({ maxLength: 60 })),
    delete_on_termination: Type.Optional(Type.Boolean()),
  }),
});

/** Nova's view of an attachment before 2.89: its id is the volume's. */
const attachmentView = (a: Attachment) => ({ id: a.volumeId, serverId: a.serverId, volumeId: a.volumeId, device: a.device });

export function volumeAttachmentRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const path = '/servers/:server_id/os-volume_attachments';

  api.get(path, { config: { policy: 'compute:os-volumes-attachments:index' }, schema: { params: ById } }, async (request) => ({
    volumeAttachments: (await listAttachments(db, authOf(request), request.params.server_id)).map(attachmentView),
  }));

  api.get(`${path}/:volume_id`, { config: { policy: 'compute:os-volumes-attachments:show' }, schema: { params: ByVolume } }, async (request) => ({
    volumeAttachment: attachmentView(await showAttachment(db, authOf(request), request.params.server_id, request.params.volume_id)),
  }));

  api.post(path, { config: { policy: 'compute:os-volumes-attachments:create' }, schema: { params: ById, body: AttachBody } }, async (request) => {
    const b = request.body.volumeAttachment;
    const a = await store.tx((tx) =>
      attachVolume(tx, authOf(request), request.params.server_id, {
        volumeId: b.volumeId,
        device: b.device ?? undefined,
        deleteOnTermination: b.delete_on_termination,
      }),
    );
    return { volumeAttachment: attachmentView(a) };
  });

  // Swapping a volume for another under a running guest (Nova's PUT) needs a block copy job.
  api.put(`${path}/:volume_id`, { config: { policy: 'compute:os-volumes-attachments:update' }, schema: { params: ByVolume } }, async () => {
    throw badRequest('Swapping an attached volume for another (volume update) is not supported by this cloud.');
  });

  api.delete(`${path}/:volume_id`, { config: { policy: 'compute:os-volumes-attachments:delete' }, schema: { params: ByVolume } }, async (request, reply) => {
    await store.tx((tx) => detachVolume(tx, authOf(request), request.params.server_id, request.params.volume_id));
    return reply.status(202).send();
  });
}
