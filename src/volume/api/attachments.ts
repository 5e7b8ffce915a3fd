import type { FastifyInstance, FastifyRequest } from 'fastify';
import { and, eq } from 'drizzle-orm';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { inRange } from '../../lib/http/microversion.ts';
import { admin, anyOf, definePolicy, projectMember, projectReader } from '../../lib/http/policy.ts';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import { beginDetach, completeAttach, connectAttachment, createAttachment, getAttachment, type Attachment } from '../attachments.ts';
import { isAdmin } from '../policy.ts';
import type { VolumeService } from '../service.ts';
import { attachments, volumes } from '../tables.ts';
import { bodyOf, boolOf, sortAndPage, textOf } from './input.ts';

// Cinder's attachments API (3.27+): the same rows Nova's os-volume_attachments shows. A caller
// that gives a connector gets the connection to open; completing it makes the volume in-use.

definePolicy({
  'volume:attachment:get': anyOf(admin, projectReader),
  'volume:attachment:create': anyOf(admin, projectMember),
  'volume:attachment:update': anyOf(admin, projectMember),
  'volume:attachment:delete': anyOf(admin, projectMember),
});

type Params = { project_id: string; id: string };
type Query = Record<string, string | undefined>;

const iso = (d: Date | null) => (d ? d.toISOString().replace(/Z$/, '') : null);

/** Cinder's attachment status: a row no longer held is deleted, so "detached" is never shown. */
const summary = (a: Attachment) => ({ id: a.id, status: a.status, instance: a.serverId, volume_id: a.volumeId });

function detail(svc: VolumeService, a: Attachment) {
  // The connection is given once a connector was (update), as Cinder gives it.
  const connection = a.connector ? (a.connectionInfo ?? { driver_volume_type: svc.driver.name, data: svc.driver.connection(a.volumeId) }) : {};
  return {
    ...summary(a),
    attached_at: iso(a.attachedAt),
    detached_at: iso(a.detachedAt),
    attach_mode: a.attachMode,
    connection_info: { ...connection, ...(a.device ? { mountpoint: a.device } : {}) },
  };
}

const SORT_KEYS: Record<string, (a: Attachment) => unknown> = {
  created_at: (a) => a.createdAt.getTime(),
  id: (a) => a.id,
  status: (a) => a.status,
  instance_uuid: (a) => a.serverId,
  volume_id: (a) => a.volumeId,
};

/** The attachments API exists from 3.27: older requests are not found, as in Cinder. */
function requireVersion(request: FastifyRequest, min = '3.27'): void {
  if (!inRange(request.apiVersion, min)) throw notFound('The resource could not be found.');
}

const scopeOf = (auth: AuthContext) => (isAdmin(auth) ? undefined : (auth.project?.id ?? ''));

function connectorOf(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('Invalid input received: connector must be an object.');
  return value as Record<string, unknown>;
}

/** Cinder's attachments: /v3/{project_id}/attachments. */
export function attachmentRoutes(app: FastifyInstance, svc: VolumeService): void {
  const { store } = svc;
  const { db } = store;

  for (const [path, detailed] of [
    ['/:project_id/attachments', false],
    ['/:project_id/attachments/detail', true],
  ] as const) {
    app.get<{ Params: Params; Querystring: Query }>(path, { config: { policy: 'volume:attachment:get' } }, async (request) => {
      requireVersion(request);
      const auth = authOf(request);
      const q = request.query;
      const all = isAdmin(auth) && q.all_tenants !== undefined && boolOf('all_tenants', q.all_tenants === '' ? 'true' : q.all_tenants);
      const project = all ? q.project_id : auth.project?.id;
      const rows = await db
        .select()
        .from(attachments)
        .where(project ? eq(attachments.projectId, project) : undefined);
      const shown = sortAndPage(
        rows.filter(
          (a) =>
            (q.volume_id === undefined || a.volumeId === q.volume_id) &&
            (q.instance_id === undefined || a.serverId === q.instance_id) &&
            (q.status === undefined || a.status === q.status),
        ),
        q,
        SORT_KEYS,
      );
      return { attachments: shown.map((a) => (detailed ? detail(svc, a) : summary(a))) };
    });
  }

  app.get<{ Params: Params }>('/:project_id/attachments/:id', { config: { policy: 'volume:attachment:get' } }, async (request) => {
    requireVersion(request);
    return { attachment: detail(svc, await getAttachment(db, scopeOf(authOf(request)), request.params.id)) };
  });

  app.post<{ Params: Params }>('/:project_id/attachments', { config: { policy: 'volume:attachment:create' } }, async (request) => {
    requireVersion(request);
    const auth = authOf(request);
    const b = bodyOf(request, 'attachment');
    const volumeId = textOf('volume_uuid', b.volume_uuid);
    if (!volumeId) throw badRequest("Invalid input received: 'volume_uuid' is a required property.");
    const serverId = textOf('instance_uuid', b.instance_uuid) ?? undefined;
    const connector = connectorOf(b.connector);
    const mode = textOf('mode', b.mode);
    if (mode !== undefined && mode !== null && mode !== 'rw' && mode !== 'ro') throw badRequest(`Invalid input received: mode must be rw or ro, not ${mode}.`);
    const a = await store.tx(async (tx) => {
      const row = await createAttachment(tx, { volumeId, projectId: await projectOfVolume(tx, auth, volumeId), serverId, status: 'reserved' });
      return connector ? connectAttachment(tx, row.id, connector) : row;
    });
    return { attachment: detail(svc, a) };
  });

  app.put<{ Params: Params }>('/:project_id/attachments/:id', { config: { policy: 'volume:attachment:update' } }, async (request) => {
    requireVersion(request);
    const auth = authOf(request);
    const connector = connectorOf(bodyOf(request, 'attachment').connector);
    if (!connector) throw badRequest("Invalid input received: 'connector' is a required property.");
    const a = await store.tx(async (tx) => {
      const row = await getAttachment(tx, scopeOf(auth), request.params.id);
      return connectAttachment(tx, row.id, connector);
    });
    return { attachment: detail(svc, a) };
  });

  app.post<{ Params: Params }>('/:project_id/attachments/:id/action', { config: { policy: 'volume:attachment:update' } }, async (request, reply) => {
    requireVersion(request, '3.44');
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || !('os-complete' in body)) throw badRequest('Invalid input received: the only attachment action is os-complete.');
    await store.tx(async (tx) => {
      const row = await getAttachment(tx, scopeOf(authOf(request)), request.params.id);
      await completeAttach(tx, row.id);
    });
    return reply.status(204).send();
  });

  // A row a guest holds is detached by its compute agent first; one no guest holds goes at once.
  app.delete<{ Params: Params }>('/:project_id/attachments/:id', { config: { policy: 'volume:attachment:delete' } }, async (request) => {
    requireVersion(request);
    const auth = authOf(request);
    const volumeId = await store.tx(async (tx) => {
      const row = await getAttachment(tx, scopeOf(auth), request.params.id);
      await beginDetach(tx, row.id);
      return row.volumeId;
    });
    const left = await db.select().from(attachments).where(eq(attachments.volumeId, volumeId));
    return { attachments: left.map((a) => detail(svc, a)) };
  });
}

/** The project of a volume the caller may see; others are not found. */
async function projectOfVolume(tx: Db, auth: AuthContext, volumeId: string): Promise<string> {
  const [vol] = await tx
    .select({ projectId: volumes.projectId })
    .from(volumes)
    .where(and(eq(volumes.id, volumeId), isAdmin(auth) ? undefined : eq(volumes.projectId, auth.project?.id ?? '')));
  if (!vol) throw notFound(`Volume ${volumeId} could not be found.`);
  return vol.projectId;
}
