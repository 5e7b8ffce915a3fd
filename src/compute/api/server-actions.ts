import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest, conflict, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { createSnapshotRecord } from '../../image/for-compute.ts';
import type { ImageService } from '../../image/index.ts';
import { activateVolumeBackedImage, snapshotVolumeBacked } from '../boot-volumes.ts';
import { getServer, lockServer, powerAction, rebootServer, requestSnapshot, setMetadata, unlockServer, type PowerAction, type Server } from '../servers.ts';
import { versionOf } from './microversion.ts';
import { recordAction } from '../instance-actions.ts';
import { ADMIN_ACTION_BODIES, type ActionHandler } from './admin-actions.ts';
import { actionContext } from './instance-actions.ts';
import { LIFECYCLE_BODIES, lifecycleActions } from './lifecycle-actions.ts';
import { RESIZE_ACTION_BODIES } from './resize-actions.ts';
import { MOVE_ACTION_BODIES } from './move-actions.ts';
import type { Quotas } from '../quotas.ts';
import { legacyConsole, type RemoteConsoles } from './remote-consoles.ts';

const ById = Type.Object({ server_id: Type.String() });
const ByKey = Type.Object({ server_id: Type.String(), key: Type.String() });
const Meta = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));

/** One action per body, named by its only key, as Nova takes them. */
// Nova takes any value with the power actions ({} from most clients, null from some).
const ActionBody = Type.Union([
  Type.Object({ 'os-stop': Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ 'os-start': Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ pause: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ unpause: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ suspend: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ resume: Type.Unknown() }, { additionalProperties: false }),
  ...LIFECYCLE_BODIES,
  // A reason from 2.73; before, any value.
  Type.Object({ lock: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ unlock: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ reboot: Type.Object({ type: Type.String({ pattern: '^([sS][oO][fF][tT]|[hH][aA][rR][dD])$' }) }) }, { additionalProperties: false }),
  ...ADMIN_ACTION_BODIES,
  ...RESIZE_ACTION_BODIES,
  ...MOVE_ACTION_BODIES,
  Type.Object(
    { createImage: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), metadata: Type.Optional(Meta) }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { 'os-getConsoleOutput': Type.Object({ length: Type.Optional(Type.Union([Type.Integer({ minimum: -1 }), Type.String(), Type.Null()])) }) },
    { additionalProperties: false },
  ),
  // The console URLs of 2.1 to 2.5; remote-consoles from 2.6.
  Type.Object({ 'os-getVNCConsole': Type.Object({ type: Type.String() }) }, { additionalProperties: false }),
  Type.Object({ 'os-getSerialConsole': Type.Object({ type: Type.String() }) }, { additionalProperties: false }),
]);

const POWER: Record<string, PowerAction> = {
  'os-stop': 'stop',
  'os-start': 'start',
  pause: 'pause',
  unpause: 'unpause',
  suspend: 'suspend',
  resume: 'resume',
};

/** The actions served, by the one key of each body. */
const ACTIONS = ActionBody.anyOf.map((o) => Object.keys(o.properties)[0]!);

/** Names the action before the body's schema is checked: one key, and one this cloud serves. */
async function knownAction(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const keys = Object.keys(body);
  if (keys.length !== 1) throw badRequest('Malformed request body: an action body has exactly one key, the action');
  if (!ACTIONS.includes(keys[0]!)) throw badRequest(`There is no such action: ${keys[0]}. The actions served are: ${ACTIONS.join(', ')}.`);
}

const LockBody = Type.Union([
  Type.Null(),
  Type.Object({ locked_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false }),
]);

/** Reads a guest's serial console on the host that runs it. */
export type ConsoleReader = (server: Server, lines?: number) => Promise<string>;

export function serverActionRoutes(
  app: FastifyInstance,
  store: Store,
  quotas: Quotas,
  images: ImageService,
  consoleOf: ConsoleReader,
  consoles: RemoteConsoles,
  more: Record<string, ActionHandler>,
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const lifecycle = lifecycleActions(images, quotas);

  api.post(
    '/servers/:server_id/action',
    { config: { policy: 'compute:servers:action' }, schema: { params: ById, body: ActionBody }, preValidation: knownAction },
    async (request, reply) => {
      const auth = authOf(request);
      const id = request.params.server_id;
      const body = request.body;
      const [action] = Object.keys(body);
      const ctx = actionContext(request);
      // Actions served by handlers of their own.
      if (action && more[action]) return more[action](request, reply, id, (body as Record<string, unknown>)[action]);
      if (action && POWER[action]) {
        const verb = POWER[action];
        await store.tx(async (tx) => {
          await powerAction(tx, auth, id, verb);
          await recordAction(tx, ctx, id, { action: verb, event: `compute_${verb}_instance` });
        });
        return reply.status(202).send();
      }
      if ('reboot' in body) {
        await store.tx(async (tx) => {
          await rebootServer(tx, auth, id, body.reboot.type.toUpperCase() === 'HARD');
          await recordAction(tx, ctx, id, { action: 'reboot', event: 'compute_reboot_instance' });
        });
        return reply.status(202).send();
      }
      if (action && lifecycle[action]) {
        const answer = await store.tx(async (tx) => {
          const done = await lifecycle[action]!(tx, auth, id, (body as Record<string, unknown>)[action], request);
          // Nova's event names: shelveOffload is compute_shelve_offload_instance.
          const event = `compute_${action.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_instance`;
          await recordAction(tx, ctx, id, { action, event });
          return done;
        });
        return answer ? reply.status(answer.status).send(answer.body) : reply.status(202).send();
      }
      if ('lock' in body) {
        const v = versionOf(request);
        if (v.atLeast('2.73') && !Value.Check(LockBody, body.lock)) {
          throw badRequest(
            `Invalid input for field/attribute lock. Value: ${JSON.stringify(body.lock)}. It is null or an object with only locked_reason (1 to 255 characters).`,
          );
        }
        const reason = v.atLeast('2.73') ? ((body.lock as { locked_reason?: string } | null)?.locked_reason ?? null) : null;
        await store.tx(async (tx) => {
          await lockServer(tx, auth, id, reason);
          await recordAction(tx, ctx, id, { action: 'lock' });
        });
        return reply.status(202).send();
      }
      if ('unlock' in body) {
        await store.tx(async (tx) => {
          await unlockServer(tx, auth, id);
          await recordAction(tx, ctx, id, { action: 'unlock' });
        });
        return reply.status(202).send();
      }
      if ('createImage' in body) {
        const { name, metadata = {} } = body.createImage;
        let volumeBacked = false;
        const imageId = await store.tx(async (tx) => {
          // A server whose disk is a volume is imaged by snapshots of its volumes, as Nova does.
          const server = await getServer(tx, auth, id, true);
          volumeBacked = !server.imageId;
          if (volumeBacked) {
            const image = await snapshotVolumeBacked(tx, images, auth, server, name, metadata);
            await recordAction(tx, ctx, id, { action: 'createImage', event: 'compute_snapshot_instance', done: { result: 'Success', host: server.host } });
            return image;
          }
          const image = await requestSnapshot(tx, auth, id, async (s) => {
            const image = await createSnapshotRecord(tx, images, auth, name, {
              ...metadata,
              image_type: 'snapshot',
              instance_uuid: s.id,
              base_image_ref: s.imageId,
              owner_user_name: auth.userName,
            });
            return image.id;
          });
          await recordAction(tx, ctx, id, { action: 'createImage', event: 'compute_snapshot_instance', awaits: { snapshotImageId: image } });
          return image;
        });
        if (volumeBacked) await activateVolumeBackedImage(images, auth.project!.id, imageId);
        // Before 2.45 the new image is named by the Location header only.
        return reply.status(202).header('location', `${request.publicUrl}/image/v2/images/${imageId}`).send();
      }
      if ('os-getVNCConsole' in body) return legacyConsole(consoles, request, id, 'vnc', body['os-getVNCConsole'].type);
      if ('os-getSerialConsole' in body) return legacyConsole(consoles, request, id, 'serial', body['os-getSerialConsole'].type);
      if (!('os-getConsoleOutput' in body)) throw badRequest(`Unknown action ${action}`);
      const { length } = body['os-getConsoleOutput'];
      const lines = length === undefined || length === null || Number(length) === -1 ? undefined : Number(length);
      if (lines !== undefined && (!Number.isInteger(lines) || lines < 0)) throw badRequest(`Invalid input for field/attribute length. Value: ${length}.`);
      const s = await getServer(db, auth, id);
      if (s.vmState === 'building' || !s.host) throw conflict(`Instance ${id} is not ready yet: its console is not available.`);
      return { output: await consoleOf(s, lines) };
    },
  );

  const read = { policy: 'compute:server-metadata:index' };
  const write = { policy: 'compute:server-metadata:update' };

  api.get('/servers/:server_id/metadata', { config: read, schema: { params: ById } }, async (request) => ({
    metadata: (await getServer(db, authOf(request), request.params.server_id)).metadata,
  }));

  api.get('/servers/:server_id/metadata/:key', { config: read, schema: { params: ByKey } }, async (request) => {
    const { metadata } = await getServer(db, authOf(request), request.params.server_id);
    const { key } = request.params;
    if (!Object.hasOwn(metadata, key)) throw notFound('Metadata item was not found');
    return { meta: { [key]: metadata[key] } };
  });

  // POST merges, PUT replaces the whole set.
  for (const [method, replace] of [
    ['post', false],
    ['put', true],
  ] as const) {
    api[method]('/servers/:server_id/metadata', { config: write, schema: { params: ById, body: Type.Object({ metadata: Meta }) } }, async (request) => ({
      metadata: await store.tx((tx) =>
        setMetadata(tx, authOf(request), request.params.server_id, quotas, (m) => (replace ? request.body.metadata : { ...m, ...request.body.metadata })),
      ),
    }));
  }

  api.put('/servers/:server_id/metadata/:key', { config: write, schema: { params: ByKey, body: Type.Object({ meta: Meta }) } }, async (request) => {
    const { key } = request.params;
    const meta = request.body.meta;
    if (Object.keys(meta).length !== 1) throw badRequest('Request body contains too many items');
    if (!Object.hasOwn(meta, key)) throw badRequest('Request body and URI mismatch');
    await store.tx((tx) => setMetadata(tx, authOf(request), request.params.server_id, quotas, (m) => ({ ...m, ...meta })));
    return { meta };
  });

  api.delete('/servers/:server_id/metadata/:key', { config: write, schema: { params: ByKey } }, async (request, reply) => {
    const { key } = request.params;
    await store.tx((tx) =>
      setMetadata(tx, authOf(request), request.params.server_id, quotas, (m) => {
        if (!Object.hasOwn(m, key)) throw notFound('Metadata item was not found');
        delete m[key];
        return m;
      }),
    );
    return reply.status(204).send();
  });
}
