import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import type { Attachment } from '../../volume/attachments.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { introducedIn } from './server-fields.ts';
import { attachVolume, detachVolume, listAttachments, showAttachment } from '../volumes.ts';
import { recordAction } from '../instance-actions.ts';
import { actionContext } from './instance-actions.ts';

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

/**
 * Nova's view of an attachment: its id is the volume's until 2.89 lists and shows it by
 * attachment_id and bdm_uuid instead (one row here is both Cinder's attachment and Nova's block
 * device mapping); device tags (2.70) are none, delete_on_termination shown from 2.79.
 */
function attachmentView(a: Attachment, v: Microversion, created = false) {
  return {
    ...(v.below('2.89') || created ? { id: a.volumeId } : { attachment_id: a.id, bdm_uuid: a.id }),
    serverId: a.serverId,
    volumeId: a.volumeId,
    device: a.device,
    ...(v.atLeast('2.70') ? { tag: null } : {}),
    ...(v.atLeast('2.79') ? { delete_on_termination: a.deleteOnTermination } : {}),
  };
}

export function volumeAttachmentRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const path = '/servers/:server_id/os-volume_attachments';

  api.get(path, { config: { policy: 'compute:os-volumes-attachments:index' }, schema: { params: ById } }, async (request) => ({
    volumeAttachments: (await listAttachments(db, authOf(request), request.params.server_id)).map((a) => attachmentView(a, versionOf(request))),
  }));

  api.get(`${path}/:volume_id`, { config: { policy: 'compute:os-volumes-attachments:show' }, schema: { params: ByVolume } }, async (request) => ({
    volumeAttachment: attachmentView(await showAttachment(db, authOf(request), request.params.server_id, request.params.volume_id), versionOf(request)),
  }));

  api.post(path, { config: { policy: 'compute:os-volumes-attachments:create' }, schema: { params: ById, body: AttachBody } }, async (request) => {
    const b = request.body.volumeAttachment;
    const v = versionOf(request);
    introducedIn(v, 'volumeAttachment', b, { tag: '2.49', delete_on_termination: '2.79' });
    // Nova's answer when the hypervisor cannot tag devices for the guest's metadata.
    if (b.tag !== undefined) throw badRequest('Tagged volume attachment is not supported for this instance.');
    const a = await store.tx(async (tx) => {
      const made = await attachVolume(tx, authOf(request), request.params.server_id, {
        volumeId: b.volumeId,
        device: b.device ?? undefined,
        deleteOnTermination: b.delete_on_termination,
      });
      await recordAction(tx, actionContext(request), request.params.server_id, { action: 'attach_volume', event: 'compute_attach_volume' });
      return made;
    });
    return { volumeAttachment: attachmentView(a, v, true) };
  });

  // Swapping a volume for another under a running guest (Nova's PUT) needs a block copy job.
  api.put(`${path}/:volume_id`, { config: { policy: 'compute:os-volumes-attachments:update' }, schema: { params: ByVolume } }, async () => {
    throw badRequest('Swapping an attached volume for another (volume update) is not supported by this cloud.');
  });

  api.delete(`${path}/:volume_id`, { config: { policy: 'compute:os-volumes-attachments:delete' }, schema: { params: ByVolume } }, async (request, reply) => {
    await store.tx(async (tx) => {
      const detaching = await detachVolume(tx, authOf(request), request.params.server_id, request.params.volume_id);
      // Done once the guest let it go, an error once it kept it: not when the agent next reports.
      await recordAction(tx, actionContext(request), request.params.server_id, {
        action: 'detach_volume',
        event: 'compute_detach_volume',
        awaits: { detachOf: detaching },
      });
    });
    return reply.status(202).send();
  });
}
