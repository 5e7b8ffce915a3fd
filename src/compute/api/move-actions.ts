import { Type } from 'typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { evacuateServer, liveMigrateServer, migrateServer, type MoveOptions } from '../moves.ts';
import type { ActionHandler } from './admin-actions.ts';
import { actionContext } from './instance-actions.ts';
import { versionOf } from './microversion.ts';
import { randomPassword } from './servers.ts';

const only = { additionalProperties: false } as const;
// Nova's boolean parameters take its words for true and false too.
const Bool = Type.Union([Type.Boolean(), Type.String({ pattern: '^([Tt]rue|TRUE|[Ff]alse|FALSE|1|0|[Yy]es|[Nn]o|[Oo]n|[Oo]ff|[TtFfYyNn])$' })]);
const truthy = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && /^(true|1|yes|on|t|y)$/i.test(v));

/** The bodies of evacuate and migrate, joined to the server action union; what each microversion
 * takes is checked by the handler. */
export const MOVE_ACTION_BODIES = [
  Type.Object(
    {
      evacuate: Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          onSharedStorage: Type.Optional(Bool),
          adminPass: Type.Optional(Type.String()),
          force: Type.Optional(Bool),
        },
        only,
      ),
    },
    only,
  ),
  // null before 2.56; from then an object that may name the host.
  Type.Object(
    {
      migrate: Type.Union([Type.Null(), Type.Object({ host: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])) }, only)]),
    },
    only,
  ),
  // host and block_migration are required (host may be null); disk_over_commit before 2.25, force
  // from 2.30 to 2.67, and block_migration's "auto" from 2.25 are checked by the handler.
  Type.Object(
    {
      'os-migrateLive': Type.Object(
        {
          host: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]),
          block_migration: Type.Union([Bool, Type.Literal('auto')]),
          disk_over_commit: Type.Optional(Bool),
          force: Type.Optional(Bool),
        },
        only,
      ),
    },
    only,
  ),
] as const;

function adminOnly(request: Parameters<ActionHandler>[0], rule: string): void {
  if (!allows(rule, authOf(request))) throw forbidden(`Policy doesn't allow os_compute_api:${rule.replace(/^compute:/, '')} to be performed.`);
}

/** Nova's answers: evacuate 200 (with the password before 2.14), migrate and os-migrateLive 202. */
export function moveActions(store: Store, opts: MoveOptions): Record<string, ActionHandler> {
  return {
    async evacuate(request, reply, id, body) {
      adminOnly(request, 'compute:os-evacuate');
      const v = versionOf(request);
      if (v.below('2.14') && body.onSharedStorage === undefined)
        throw badRequest('Invalid input for field/attribute evacuate. Value: onSharedStorage is a required property');
      if (v.atLeast('2.14') && body.onSharedStorage !== undefined)
        throw badRequest("Invalid input for field/attribute evacuate. Additional properties are not allowed ('onSharedStorage' was unexpected)");
      if (body.force !== undefined && (v.below('2.29') || v.atLeast('2.68')))
        throw badRequest("Invalid input for field/attribute evacuate. Additional properties are not allowed ('force' was unexpected)");
      const shared = truthy(body.onSharedStorage);
      // Instance disks here are local to their host, never on storage the other hosts see.
      if (shared) throw badRequest('Invalid state of instance files on shared storage: instance disks on this cloud are local to their host.');
      if (shared && body.adminPass !== undefined) throw badRequest("admin password can't be changed on existing disk");
      await store.tx((tx) => evacuateServer(tx, actionContext(request), id, { host: body.host, force: truthy(body.force) }, opts));
      // No guest agent sets a password; Nova still answers one before 2.14.
      return v.below('2.14') ? reply.status(200).send({ adminPass: body.adminPass ?? randomPassword() }) : reply.status(200).send();
    },
    async migrate(request, reply, id, body) {
      adminOnly(request, 'compute:os-migrate-server:migrate');
      if (body !== null && versionOf(request).below('2.56'))
        throw badRequest('Invalid input for field/attribute migrate. Value: must be null before microversion 2.56');
      await store.tx((tx) => migrateServer(tx, actionContext(request), id, body?.host ?? undefined, opts));
      return reply.status(202).send();
    },
    async 'os-migrateLive'(request, reply, id, body) {
      adminOnly(request, 'compute:os-migrate-server:migrate_live');
      const v = versionOf(request);
      const unexpected = (field: string) =>
        badRequest(`Invalid input for field/attribute os-migrateLive. Additional properties are not allowed ('${field}' was unexpected)`);
      if (v.below('2.25') && body.disk_over_commit === undefined)
        throw badRequest("Invalid input for field/attribute os-migrateLive. Value: 'disk_over_commit' is a required property");
      if (v.atLeast('2.25') && body.disk_over_commit !== undefined) throw unexpected('disk_over_commit');
      if (v.below('2.25') && body.block_migration === 'auto')
        throw badRequest("Invalid input for field/attribute block_migration. Value: auto. 'auto' is not of type 'boolean'");
      if (body.force !== undefined && (v.below('2.30') || v.atLeast('2.68'))) throw unexpected('force');
      const req = { host: body.host ?? undefined, force: truthy(body.force) };
      await store.tx((tx) => liveMigrateServer(tx, actionContext(request), id, req, opts));
      return reply.status(202).send();
    },
  };
}
