import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eq } from 'drizzle-orm';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { inRange } from '../../lib/http/microversion.ts';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden } from '../../lib/errors.ts';
import { createBackup, deleteBackup, getBackup, resetBackupStatus, restoreBackup, updateBackup, withDependents, type Backup } from '../backups.ts';
import { isAdmin } from '../policy.ts';
import type { VolumeService } from '../service.ts';
import { backups } from '../tables.ts';
import { checkMetadata } from '../volumes.ts';
import { bodyOf, boolOf, sortAndPage, textOf } from './input.ts';
import { backupSummary, backupView } from './views.ts';

type Params = { project_id: string; id: string };
type Query = Record<string, string | undefined>;

const SORT_KEYS: Record<string, (b: Backup) => unknown> = {
  created_at: (b) => b.createdAt.getTime(),
  updated_at: (b) => b.updatedAt.getTime(),
  id: (b) => b.id,
  name: (b) => b.name,
  display_name: (b) => b.name,
  size: (b) => b.size,
  status: (b) => b.status,
  volume_id: (b) => b.volumeId,
};

async function listBackups(svc: VolumeService, auth: AuthContext, query: Query): Promise<Backup[]> {
  const all = isAdmin(auth) && query.all_tenants !== undefined && boolOf('all_tenants', query.all_tenants === '' ? 'true' : query.all_tenants);
  const project = all ? query.project_id : auth.project?.id;
  const db = svc.store.db;
  const rows = project ? await db.select().from(backups).where(eq(backups.projectId, project)) : await db.select().from(backups);
  const name = query.name ?? query.display_name;
  return sortAndPage(
    rows.filter(
      (b) =>
        (name === undefined || b.name === name) &&
        (query.status === undefined || b.status === query.status) &&
        (query.volume_id === undefined || b.volumeId === query.volume_id),
    ),
    query,
    SORT_KEYS,
  );
}

const boolOr = (name: string, value: unknown) => (value === undefined || value === null ? false : boolOf(name, value));

/** Cinder's volume backups: /v3/{project_id}/backups. */
export function backupRoutes(app: FastifyInstance, svc: VolumeService): void {
  const { store } = svc;
  const views = async (request: FastifyRequest, rows: Backup[]) => {
    const dependents = await withDependents(
      store.db,
      rows.map((b) => b.id),
    );
    const auth = authOf(request);
    const container = svc.backups?.container ?? '';
    return rows.map((b) => backupView(request, auth, b, { container, zone: svc.zone, hasDependents: dependents.has(b.id) }));
  };

  app.post<{ Params: Params }>('/:project_id/backups', { config: { policy: 'volume:backup:create' } }, async (request, reply) => {
    const auth = authOf(request);
    const b = bodyOf(request, 'backup');
    const volumeId = textOf('volume_id', b.volume_id);
    if (!volumeId) throw badRequest("Invalid input received: 'volume_id' is a required property.");
    // A cluster that is down is a 503 now, not a backup stuck in creating.
    await svc.backups?.probe();
    const backup = await store.tx((tx) =>
      createBackup(tx, svc, auth, {
        volumeId,
        name: textOf('name', b.name),
        description: textOf('description', b.description),
        incremental: boolOr('incremental', b.incremental),
        force: boolOr('force', b.force),
        snapshotId: textOf('snapshot_id', b.snapshot_id),
        metadata: b.metadata,
      }),
    );
    reply.status(202);
    return { backup: backupSummary(request, backup) };
  });

  app.get<{ Params: Params; Querystring: Query }>('/:project_id/backups', { config: { policy: 'volume:backup:get' } }, async (request) => ({
    backups: (await listBackups(svc, authOf(request), request.query)).map((b) => backupSummary(request, b)),
  }));
  app.get<{ Params: Params; Querystring: Query }>('/:project_id/backups/detail', { config: { policy: 'volume:backup:get' } }, async (request) => ({
    backups: await views(request, await listBackups(svc, authOf(request), request.query)),
  }));
  app.get<{ Params: Params }>('/:project_id/backups/:id', { config: { policy: 'volume:backup:get' } }, async (request) => ({
    backup: (await views(request, [await getBackup(store.db, authOf(request), request.params.id)]))[0],
  }));

  // 3.9: name and description; 3.43: metadata.
  app.put<{ Params: Params }>('/:project_id/backups/:id', { config: { policy: 'volume:backup:update' } }, async (request) => {
    if (!inRange(request.apiVersion, '3.9')) throw badRequest('Updating a backup needs microversion 3.9 or later.');
    const b = bodyOf(request, 'backup');
    const metadata = b.metadata === undefined ? undefined : inRange(request.apiVersion, '3.43') ? checkMetadata(b.metadata) : undefined;
    const backup = await store.tx((tx) =>
      updateBackup(tx, authOf(request), request.params.id, { name: textOf('name', b.name), description: textOf('description', b.description), metadata }),
    );
    return { backup: backupSummary(request, backup) };
  });

  app.delete<{ Params: Params }>('/:project_id/backups/:id', { config: { policy: 'volume:backup:delete' } }, async (request, reply) => {
    await svc.backups?.probe();
    await store.tx((tx) => deleteBackup(tx, authOf(request), request.params.id));
    return reply.status(202).send();
  });

  app.post<{ Params: Params }>('/:project_id/backups/:id/restore', { config: { policy: 'volume:backup:restore' } }, async (request, reply) => {
    const b = bodyOf(request, 'restore');
    await svc.backups?.probe();
    await svc.driver.probe?.();
    const restore = await store.tx((tx) =>
      restoreBackup(tx, svc, authOf(request), request.params.id, { volumeId: textOf('volume_id', b.volume_id), name: textOf('name', b.name) }),
    );
    reply.status(202);
    return { restore };
  });

  app.post<{ Params: Params }>('/:project_id/backups/:id/action', { config: { policy: 'volume:backup:delete' } }, async (request, reply) => {
    const auth = authOf(request);
    const body = (request.body ?? {}) as Record<string, { status?: unknown } | undefined>;
    if (!allows('volume:backup:reset_status', auth)) throw forbidden("Policy doesn't allow volume:backup:reset_status to be performed.");
    if (body['os-reset_status']) {
      await store.tx((tx) => resetBackupStatus(tx, auth, request.params.id, body['os-reset_status']!.status));
      return reply.status(202).send();
    }
    if (body['os-force_delete'] !== undefined) {
      await store.tx((tx) => deleteBackup(tx, auth, request.params.id, true));
      return reply.status(202).send();
    }
    throw badRequest('Invalid request body: unknown backup action.');
  });
}
