import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { AuthContext } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { ImageService } from '../../image/index.ts';
import { shelveOffload, shelveServer, unshelveServer, type UnshelveTarget } from '../shelve.ts';

// The server actions that change the guest beyond its power state: their bodies and what each
// asks of the server, in one transaction; the host's agent carries them out.

const UnshelveBody = Type.Union([
  Type.Null(),
  Type.Object({ availability_zone: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])) }, { additionalProperties: false }),
]);

export const LIFECYCLE_BODIES = [
  Type.Object({ shelve: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ shelveOffload: Type.Unknown() }, { additionalProperties: false }),
  // null, or from 2.77 where to go.
  Type.Object({ unshelve: Type.Unknown() }, { additionalProperties: false }),
] as const;

export type LifecycleAction = (tx: Db, auth: AuthContext, id: string, value: unknown) => Promise<void>;

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
  };
}
