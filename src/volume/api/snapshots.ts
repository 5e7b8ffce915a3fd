import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eq } from 'drizzle-orm';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden, notFound } from '../../lib/errors.ts';
import { isAdmin } from '../policy.ts';
import type { VolumeService } from '../service.ts';
import { createSnapshot, deleteSnapshot, getSnapshot, resetSnapshotStatus, updateSnapshot, type Snapshot } from '../snapshots.ts';
import { snapshots } from '../tables.ts';
import { checkMetadata } from '../volumes.ts';
import { bodyOf, boolOf, metadataFilter, sortAndPage, textOf } from './input.ts';
import { snapshotView } from './views.ts';

type Params = { project_id: string; id: string };
type Query = Record<string, string | undefined>;

const SORT_KEYS: Record<string, (s: Snapshot) => unknown> = {
  created_at: (s) => s.createdAt.getTime(),
  updated_at: (s) => s.updatedAt.getTime(),
  id: (s) => s.id,
  name: (s) => s.name,
  display_name: (s) => s.name,
  size: (s) => s.size,
  status: (s) => s.status,
};

async function listSnapshots(svc: VolumeService, auth: AuthContext, query: Query): Promise<Snapshot[]> {
  const all = isAdmin(auth) && query.all_tenants !== undefined && boolOf('all_tenants', query.all_tenants === '' ? 'true' : query.all_tenants);
  const project = all ? query.project_id : auth.project?.id;
  const db = svc.store.db;
  const rows = project ? await db.select().from(snapshots).where(eq(snapshots.projectId, project)) : await db.select().from(snapshots);
  const name = query.name ?? query.display_name;
  const metadata = query.metadata ? metadataFilter(query.metadata) : undefined;
  return sortAndPage(
    rows.filter(
      (s) =>
        (name === undefined || s.name === name) &&
        (query.status === undefined || s.status === query.status) &&
        (query.volume_id === undefined || s.volumeId === query.volume_id) &&
        (!metadata || Object.entries(metadata).every(([k, v]) => s.metadata[k] === v)),
    ),
    query,
    SORT_KEYS,
  );
}

/** Cinder's snapshots: /v3/{project_id}/snapshots. */
export function snapshotRoutes(app: FastifyInstance, svc: VolumeService): void {
  const { store } = svc;

  app.post<{ Params: Params }>('/:project_id/snapshots', { config: { policy: 'volume:snapshot:create' } }, async (request, reply) => {
    const auth = authOf(request);
    const b = bodyOf(request, 'snapshot');
    const volumeId = textOf('volume_id', b.volume_id);
    if (!volumeId) throw badRequest("Invalid input received: 'volume_id' is a required property.");
    const snap = await store.tx((tx) =>
      createSnapshot(tx, auth, {
        volumeId,
        name: textOf('name', b.name ?? b.display_name),
        description: textOf('description', b.description ?? b.display_description),
        force: b.force === undefined || b.force === null ? false : boolOf('force', b.force),
        metadata: b.metadata,
      }),
    ).catch((err: Error & { status?: number }) => {
      // A volume the caller cannot see is a bad request here, as Cinder answers it.
      if (err.status === 404 && err.message.startsWith('Volume')) throw badRequest(`Invalid input received: ${err.message}`);
      throw err;
    });
    reply.status(202);
    return { snapshot: snapshotView(request, snap) };
  });

  const list = (request: FastifyRequest<{ Params: Params; Querystring: Query }>) => listSnapshots(svc, authOf(request), request.query);
  app.get<{ Params: Params; Querystring: Query }>('/:project_id/snapshots', { config: { policy: 'volume:snapshot:get' } }, async (request) => ({
    snapshots: (await list(request)).map((s) => snapshotView(request, s)),
  }));
  app.get<{ Params: Params; Querystring: Query }>('/:project_id/snapshots/detail', { config: { policy: 'volume:snapshot:get' } }, async (request) => ({
    snapshots: (await list(request)).map((s) => snapshotView(request, s)),
  }));

  app.get<{ Params: Params }>('/:project_id/snapshots/:id', { config: { policy: 'volume:snapshot:get' } }, async (request) => ({
    snapshot: snapshotView(request, await getSnapshot(store.db, authOf(request), request.params.id)),
  }));

  app.put<{ Params: Params }>('/:project_id/snapshots/:id', { config: { policy: 'volume:snapshot:update' } }, async (request) => {
    const b = bodyOf(request, 'snapshot');
    const snap = await store.tx((tx) =>
      updateSnapshot(tx, authOf(request), request.params.id, {
        name: textOf('name', b.name ?? b.display_name),
        description: textOf('description', b.description ?? b.display_description),
      }),
    );
    return { snapshot: snapshotView(request, snap) };
  });

  app.delete<{ Params: Params }>('/:project_id/snapshots/:id', { config: { policy: 'volume:snapshot:delete' } }, async (request, reply) => {
    await store.tx((tx) => deleteSnapshot(tx, authOf(request), request.params.id));
    return reply.status(202).send();
  });

  app.post<{ Params: Params }>('/:project_id/snapshots/:id/action', { config: { policy: 'volume:snapshot:update' } }, async (request, reply) => {
    const auth = authOf(request);
    const body = (request.body ?? {}) as Record<string, { status?: unknown } | undefined>;
    if (body['os-reset_status']) {
      if (!allows('volume:snapshot:reset_status', auth)) throw forbidden("Policy doesn't allow volume:snapshot:reset_status to be performed.");
      await store.tx((tx) => resetSnapshotStatus(tx, auth, request.params.id, body['os-reset_status']!.status));
      return reply.status(202).send();
    }
    if (body['os-force_delete']) {
      if (!allows('volume:snapshot:reset_status', auth)) throw forbidden("Policy doesn't allow volume:snapshot:force_delete to be performed.");
      await store.tx(async (tx) => {
        await resetSnapshotStatus(tx, auth, request.params.id, 'error');
        await deleteSnapshot(tx, auth, request.params.id);
      });
      return reply.status(202).send();
    }
    throw badRequest('Invalid request body: unknown snapshot action.');
  });

  app.get<{ Params: Params }>('/:project_id/snapshots/:id/metadata', { config: { policy: 'volume:snapshot:get' } }, async (request) => ({
    metadata: (await getSnapshot(store.db, authOf(request), request.params.id)).metadata,
  }));
  const writeMetadata = (replace: boolean) => async (request: FastifyRequest<{ Params: Params }>) => {
    const auth = authOf(request);
    const meta = checkMetadata(bodyOf(request, 'metadata'));
    const snap = await store.tx(async (tx) => {
      const s = await getSnapshot(tx, auth, request.params.id, true);
      return updateSnapshot(tx, auth, s.id, { metadata: replace ? meta : { ...s.metadata, ...meta } });
    });
    return { metadata: snap.metadata };
  };
  app.post<{ Params: Params }>('/:project_id/snapshots/:id/metadata', { config: { policy: 'volume:snapshot:update' } }, writeMetadata(false));
  app.put<{ Params: Params }>('/:project_id/snapshots/:id/metadata', { config: { policy: 'volume:snapshot:update' } }, writeMetadata(true));
  app.delete<{ Params: Params & { key: string } }>('/:project_id/snapshots/:id/metadata/:key', { config: { policy: 'volume:snapshot:update' } }, async (request, reply) => {
    const auth = authOf(request);
    await store.tx(async (tx) => {
      const s = await getSnapshot(tx, auth, request.params.id, true);
      if (!(request.params.key in s.metadata)) throw notFound(`Snapshot ${s.id} has no metadata with key ${request.params.key}.`);
      const { [request.params.key]: _, ...rest } = s.metadata;
      await updateSnapshot(tx, auth, s.id, { metadata: rest });
    });
    return reply.status(200).send();
  });
}
