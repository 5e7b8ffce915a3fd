import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { forbidden, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import type { ImageService } from '../../image/index.ts';
import {
  addFloatingIp,
  changePassword,
  changeSecurityGroup,
  createBackup,
  removeFloatingIp,
  resetState,
  triggerCrashDump,
  type NmiSender,
} from '../admin-actions.ts';
import { forceDeleteServer, restoreServer } from '../soft-delete.ts';
import { actionContext } from './instance-actions.ts';
import { servedFrom, versionOf } from './microversion.ts';

const Ip = Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })]);
const GroupName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false });
const only = { additionalProperties: false } as const;

/** The bodies of the actions this file serves, one key each, joined to the server action union. */
export const ADMIN_ACTION_BODIES = [
  Type.Object({ 'os-resetState': Type.Object({ state: Type.Union([Type.Literal('active'), Type.Literal('error')]) }, { additionalProperties: false }) }, only),
  Type.Object({ trigger_crash_dump: Type.Null() }, only),
  Type.Object(
    {
      createBackup: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 255 }),
          backup_type: Type.String(),
          // Nova takes a non-negative integer, or its digits as a string.
          rotation: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]),
          metadata: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }))),
        },
        { additionalProperties: false },
      ),
    },
    only,
  ),
  Type.Object({ changePassword: Type.Object({ adminPass: Type.String() }, { additionalProperties: false }) }, only),
  Type.Object({ addSecurityGroup: GroupName }, only),
  Type.Object({ removeSecurityGroup: GroupName }, only),
  Type.Object({ addFloatingIp: Type.Object({ address: Ip, fixed_address: Type.Optional(Ip) }, { additionalProperties: false }) }, only),
  Type.Object({ removeFloatingIp: Type.Object({ address: Ip }, { additionalProperties: false }) }, only),
  // Nova checks no body for these two.
  Type.Object({ restore: Type.Unknown() }, only),
  Type.Object({ forceDelete: Type.Unknown() }, only),
] as const;

/** An action Nova stopped serving at `v` is not there for newer requests: Nova's 404. */
function goneFrom(request: FastifyRequest, v: string): void {
  if (versionOf(request).atLeast(v)) throw notFound('The resource could not be found.');
}

/** A handler of one action: answers the request itself. */
export type ActionHandler = (request: FastifyRequest, reply: FastifyReply, id: string, body: any) => Promise<unknown>;

export function adminActions(store: Store, images: ImageService, sendNmi: NmiSender): Record<string, ActionHandler> {
  const accepted = (reply: FastifyReply) => reply.status(202).send();
  return {
    async 'os-resetState'(request, reply, id, body) {
      if (!allows('compute:os-admin-actions:reset_state', authOf(request)))
        throw forbidden(`Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.`);
      await store.tx((tx) => resetState(tx, actionContext(request), id, body.state));
      return accepted(reply);
    },
    async trigger_crash_dump(request, reply, id) {
      servedFrom(request, '2.17');
      await triggerCrashDump(store, actionContext(request), id, sendNmi);
      return accepted(reply);
    },
    async createBackup(request, reply, id, body) {
      const rotation = Number(body.rotation);
      const imageId = await store.tx((tx) =>
        createBackup(tx, images, actionContext(request), id, {
          name: body.name,
          backupType: body.backup_type,
          rotation,
          metadata: body.metadata ?? {},
        }),
      );
      // With rotation 0 the backup is not kept: Nova names no image then.
      if (rotation === 0) return accepted(reply);
      reply.header('location', `${request.publicUrl}/image/v2/images/${imageId}`);
      return versionOf(request).atLeast('2.45') ? reply.status(202).send({ image_id: imageId }) : accepted(reply);
    },
    async changePassword(request, _reply, id) {
      return store.tx((tx) => changePassword(tx, authOf(request), id));
    },
    async addSecurityGroup(request, reply, id, body) {
      await store.tx((tx) => changeSecurityGroup(tx, authOf(request), id, body.name, true));
      return accepted(reply);
    },
    async removeSecurityGroup(request, reply, id, body) {
      await store.tx((tx) => changeSecurityGroup(tx, authOf(request), id, body.name, false));
      return accepted(reply);
    },
    // Gone from 2.44, as in Nova: clients use the network API.
    async addFloatingIp(request, reply, id, body) {
      goneFrom(request, '2.44');
      await store.tx((tx) => addFloatingIp(tx, authOf(request), id, body.address, body.fixed_address));
      return accepted(reply);
    },
    async removeFloatingIp(request, reply, id, body) {
      goneFrom(request, '2.44');
      await store.tx((tx) => removeFloatingIp(tx, authOf(request), id, body.address));
      return accepted(reply);
    },
    async restore(request, reply, id) {
      await store.tx((tx) => restoreServer(tx, actionContext(request), id));
      return accepted(reply);
    },
    async forceDelete(request, reply, id) {
      await store.tx((tx) => forceDeleteServer(tx, actionContext(request), id));
      return accepted(reply);
    },
  };
}
