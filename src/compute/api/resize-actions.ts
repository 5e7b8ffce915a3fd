import { Type } from 'typebox';
import type { Store } from '../../lib/store/db.ts';
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

/** Nova's answers: resize and revertResize 202, confirmResize 204. */
export function resizeActions(store: Store, quotas: Quotas): Record<string, ActionHandler> {
  return {
    async resize(request, reply, id, body) {
      await store.tx((tx) => resizeServer(tx, actionContext(request), id, String(body.flavorRef), quotas));
      return reply.status(202).send();
    },
    async confirmResize(request, reply, id) {
      await store.tx((tx) => confirmResizeServer(tx, actionContext(request), id));
      return reply.status(204).send();
    },
    async revertResize(request, reply, id) {
      await store.tx((tx) => revertResizeServer(tx, actionContext(request), id));
      return reply.status(202).send();
    },
  };
}
