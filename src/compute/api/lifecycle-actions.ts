import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { AuthContext } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { ImageService } from '../../image/index.ts';
import type { Quotas } from '../quotas.ts';
import { rebuildServer } from '../rebuild.ts';
import { rescueServer, unrescueServer } from '../rescue.ts';
import { factOf, serverView } from './server-view.ts';
import { versionOf } from './microversion.ts';
import { shelveOffload, shelveServer, unshelveServer, type UnshelveTarget } from '../shelve.ts';

// The server actions that change the guest beyond its power state: their bodies and what each
// asks of the server, in one transaction; the host's agent carries them out.

const UnshelveBody = Type.Union([
  Type.Null(),
  Type.Object({ availability_zone: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])) }, { additionalProperties: false }),
]);

// adminPass is taken and not used: without a guest agent the rescue system's password is its own.
const RescueBody = Type.Union([
  Type.Null(),
  Type.Object({ adminPass: Type.Optional(Type.String()), rescue_image_ref: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
]);

const Meta = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));
const Nullable = (t: ReturnType<typeof Type.String>) => Type.Optional(Type.Union([t, Type.Null()]));

// What each microversion adds to a rebuild; personality (until 2.57), trusted_image_certificates
// (2.63) and preserve_ephemeral are taken: this cloud has no files to inject, certificates to
// check or ephemeral disks to keep.
const RebuildBody = Type.Object(
  {
    imageRef: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    metadata: Type.Optional(Meta),
    adminPass: Type.Optional(Type.String()),
    preserve_ephemeral: Type.Optional(Type.Boolean()),
    accessIPv4: Type.Optional(Type.String()),
    accessIPv6: Type.Optional(Type.String()),
    'OS-DCF:diskConfig': Type.Optional(Type.String()),
    personality: Type.Optional(Type.Array(Type.Unknown())),
    description: Nullable(Type.String({ maxLength: 255 })),
    key_name: Nullable(Type.String({ minLength: 1, maxLength: 255 })),
    user_data: Nullable(Type.String({ maxLength: 65535 })),
    trusted_image_certificates: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: false },
);
const REBUILD_SINCE: Record<string, string> = { description: '2.19', key_name: '2.54', user_data: '2.57', trusted_image_certificates: '2.63', hostname: '2.90' };

export const LIFECYCLE_BODIES = [
  Type.Object({ shelve: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ shelveOffload: Type.Unknown() }, { additionalProperties: false }),
  // null, or from 2.77 where to go.
  Type.Object({ unshelve: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ rescue: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ unrescue: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ rebuild: Type.Unknown() }, { additionalProperties: false }),
] as const;

/** What an action answers when it is not an empty 202. */
export interface ActionAnswer {
  status: number;
  body: unknown;
}

export type LifecycleAction = (tx: Db, auth: AuthContext, id: string, value: unknown, request: FastifyRequest) => Promise<ActionAnswer | void>;

export function lifecycleActions(images: ImageService, quotas: Quotas): Record<string, LifecycleAction> {
  return {
    shelve: (tx, auth, id) => shelveServer(tx, images, auth, id),
    shelveOffload: (tx, auth, id) => shelveOffload(tx, auth, id),
    unshelve(tx, auth, id, value) {
      if (!Value.Check(UnshelveBody, value)) {
        throw badRequest(`Invalid input for field/attribute unshelve. Value: ${JSON.stringify(value)}. It is null or an object with availability_zone.`);
      }
      return unshelveServer(tx, auth, id, value as UnshelveTarget | null);
    },
    async rescue(tx, auth, id, value) {
      if (!Value.Check(RescueBody, value)) {
        throw badRequest(`Invalid input for field/attribute rescue. Value: ${JSON.stringify(value)}. It is null or an object with adminPass and rescue_image_ref.`);
      }
      await rescueServer(tx, auth, id, (value as { rescue_image_ref?: string } | null)?.rescue_image_ref);
      // Nova's answer when it sets no instance password (enable_instance_password off).
      return { status: 200, body: {} };
    },
    unrescue: (tx, auth, id) => unrescueServer(tx, auth, id),
    async rebuild(tx, auth, id, value, request) {
      const v = versionOf(request);
      if (!Value.Check(RebuildBody, value)) {
        const first = [...Value.Errors(RebuildBody, value)][0];
        throw badRequest(`Invalid input for field/attribute rebuild: ${first ? `${first.instancePath || '/'} ${first.message}` : 'not an object'}.`);
      }
      for (const [field, since] of Object.entries(REBUILD_SINCE)) {
        if (field in value && !v.atLeast(since)) throw badRequest(`Invalid input for field/attribute rebuild. Additional properties are not allowed ('${field}' was unexpected)`);
      }
      if (value.personality !== undefined && v.atLeast('2.57')) throw badRequest(`Invalid input for field/attribute rebuild. Additional properties are not allowed ('personality' was unexpected)`);
      const s = await rebuildServer(
        tx,
        auth,
        id,
        {
          imageRef: value.imageRef,
          name: value.name,
          metadata: value.metadata,
          description: value.description,
          keyName: value.key_name,
          userData: value.user_data,
          hostname: value.hostname,
          accessIpv4: value.accessIPv4,
          accessIpv6: value.accessIPv6,
        },
        quotas,
      );
      return { status: 202, body: { server: serverView(request.publicUrl, auth, s, await factOf(tx, s), v) } };
    },
  };
}
