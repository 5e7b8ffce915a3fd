import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Store } from '../../lib/store/db.ts';
import { recordAction } from '../instance-actions.ts';
import type { Quotas } from '../quotas.ts';
import { confirmResizeServer, resizeServer, revertResizeServer } from '../resize.ts';
import type { ActionHandler } from './admin-actions.ts';
import { actionContext } from './instance-actions.ts';

const only = { additionalProperties: false } as const;

/** The bodies of resize, confirmResize and revertResize, joined to the server action union. */
export const RESIZE_ACTION_BODIES = [
  Type.Object(
    {
      resize: Type.Object(
        {
          // Nova takes the flavor's id as a string or an integer (or a URL ending in it).
          flavorRef: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]),
          'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
        },
        only,
      ),
    },
    only,
  ),
  // Nova checks no body for these two ({} or null from clients).
  Type.Object({ confirmResize: Type.Unknown() }, only),
  Type.Object({ revertResize: Type.Unknown() }, only),
] as const;

/** Nova's answers: resize and revertResize 202, confirmResize 204; each recorded as an action. */
export function resizeActions(store: Store, quotas: Quotas): Record<string, ActionHandler> {
  const answer = (reply: FastifyReply, status: number) => reply.status(status).send();
  return {
    async resize(request, reply, id, body) {
      const ctx = actionContext(request);
      await store.tx(async (tx) => {
        await resizeServer(tx, ctx.auth, id, String(body.flavorRef), quotas);
        await recordAction(tx, ctx, id, { action: 'resize', event: 'compute_resize_instance' });
      });
      return answer(reply, 202);
    },
    async confirmResize(request, reply, id) {
      const ctx = actionContext(request);
      await store.tx(async (tx) => {
        await confirmResizeServer(tx, ctx.auth, id);
        await recordAction(tx, ctx, id, { action: 'confirmResize', event: 'compute_confirm_resize' });
      });
      return answer(reply, 204);
    },
    async revertResize(request, reply, id) {
      const ctx = actionContext(request);
      await store.tx(async (tx) => {
        await revertResizeServer(tx, ctx.auth, id);
        await recordAction(tx, ctx, id, { action: 'revertResize', event: 'compute_revert_resize' });
      });
      return answer(reply, 202);
    },
  };
}
