import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { AuthContext } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { ImageService } from '../../image/index.ts';
import { rescueServer, unrescueServer } from '../rescue.ts';
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

export const LIFECYCLE_BODIES = [
  Type.Object({ shelve: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ shelveOffload: Type.Unknown() }, { additionalProperties: false }),
  // null, or from 2.77 where to go.
  Type.Object({ unshelve: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ rescue: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ unrescue: Type.Unknown() }, { additionalProperties: false }),
] as const;

/** What an action answers when it is not an empty 202. */
export interface ActionAnswer {
  status: number;
  body: unknown;
}

export type LifecycleAction = (tx: Db, auth: AuthContext, id: string, value: unknown) => Promise<ActionAnswer | void>;

export function lifecycleActions(images: ImageService): Record<string, LifecycleAction> {
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
  };
}
