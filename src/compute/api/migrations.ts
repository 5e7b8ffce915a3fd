import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, desc, eq, gte, inArray, lt, or, type SQL } from 'drizzle-orm';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import type { Migration } from '../resize.ts';
import { migrations } from '../tables.ts';
import { servedFrom, versionOf, type Microversion } from './microversion.ts';
import { authOf } from '../../lib/http/auth.ts';
import { getServer } from '../servers.ts';
import { abortLiveMigration } from '../moves.ts';
import { LIVE_MIGRATION_UNDER_WAY } from '../scheduler.ts';
import { naive } from './naive-time.ts';

// /os-migrations: the admin's list of servers' moves (resizes on one host, cold migrations and
// evacuations between hosts); /servers/{id}/migrations: a server's live migrations under way.

const Query = Type.Object({
  instance_uuid: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  migration_type: Type.Optional(Type.String()),
  source_compute: Type.Optional(Type.String()),
  host: Type.Optional(Type.String()),
  hidden: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  marker: Type.Optional(Type.String()),
  'changes-since': Type.Optional(Type.String()),
  'changes-before': Type.Optional(Type.String()),
  user_id: Type.Optional(Type.String()),
  project_id: Type.Optional(Type.String()),
});

/** Nova's flavors have an integer id inside; this cloud's flavor ids are shown as they are,
 * numbers when they are digits. */
const flavorNumber = (id: string) => (/^[0-9]+$/.test(id) ? Number(id) : id);

function view(m: Migration, v: Microversion) {
  return {
    id: m.id,
    status: m.status,
    instance_uuid: m.serverId,
    source_compute: m.sourceCompute,
    dest_compute: m.destCompute,
    source_node: m.sourceCompute,
    dest_node: m.destCompute,
    dest_host: null,
    old_instance_type_id: flavorNumber(m.oldFlavorId),
    new_instance_type_id: flavorNumber(m.newFlavorId),
    created_at: naive(m.createdAt),
    updated_at: naive(m.updatedAt),
    ...(v.atLeast('2.23') ? { migration_type: m.migrationType } : {}),
    ...(v.atLeast('2.59') ? { uuid: m.uuid } : {}),
    ...(v.atLeast('2.80') ? { user_id: m.userId, project_id: m.projectId } : {}),
  };
}

const time = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badRequest(`Invalid input for query parameters ${name}. Value: ${value}.`);
  return d;
};

/** The statuses of a live migration under way, the only ones /servers/{id}/migrations lists. */
const LIVE_UNDER_WAY = [...LIVE_MIGRATION_UNDER_WAY, 'post-migrating'];

export function migrationRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  /** A live migration under way as a server's migrations show it. */
  const ownView = (m: Migration, v: Microversion) => {
    const { instance_uuid, old_instance_type_id: _o, new_instance_type_id: _n, migration_type: _t, ...rest } = view(m, v);
    // Nova counts a live migration's bytes as it goes; the agents here do not report them.
    const bytes = {
      memory_total_bytes: null,
      memory_processed_bytes: null,
      memory_remaining_bytes: null,
      disk_total_bytes: null,
      disk_processed_bytes: null,
      disk_remaining_bytes: null,
    };
    return { ...rest, server_uuid: instance_uuid, ...bytes };
  };
  const underWay = (serverId: string) =>
    and(eq(migrations.serverId, serverId), eq(migrations.migrationType, 'live-migration'), inArray(migrations.status, LIVE_UNDER_WAY));
  const OneParams = Type.Object({ server_id: Type.String(), migration_id: Type.String() });

  api.get(
    '/servers/:server_id/migrations',
    { config: { policy: 'compute:servers:migrations:index' }, schema: { params: Type.Object({ server_id: Type.String() }) } },
    async (request) => {
      servedFrom(request, '2.23');
      const v = versionOf(request);
      const s = await getServer(store.db, authOf(request), request.params.server_id);
      const rows = await store.db.select().from(migrations).where(underWay(s.id)).orderBy(desc(migrations.id));
      return { migrations: rows.map((m) => ownView(m, v)) };
    },
  );
  api.get('/servers/:server_id/migrations/:migration_id', { config: { policy: 'compute:servers:migrations:show' }, schema: { params: OneParams } }, async (request) => {
    servedFrom(request, '2.23');
    const s = await getServer(store.db, authOf(request), request.params.server_id);
    const id = Number(request.params.migration_id);
    const [m] = Number.isSafeInteger(id) ? await store.db.select().from(migrations).where(and(eq(migrations.id, id), underWay(s.id))) : [];
    if (!m) throw notFound(`In-progress live migration ${request.params.migration_id} is not found for server ${s.id}.`);
    return { migration: ownView(m, versionOf(request)) };
  });
  api.delete(
    '/servers/:server_id/migrations/:migration_id',
    { config: { policy: 'compute:servers:migrations:delete' }, schema: { params: OneParams } },
    async (request, reply) => {
      servedFrom(request, '2.24');
      const { server_id, migration_id } = request.params;
      await store.tx((tx) => abortLiveMigration(tx, authOf(request), server_id, migration_id, versionOf(request).atLeast('2.65')));
      return reply.status(202).send();
    },
  );
  api.get('/os-migrations', { config: { policy: 'compute:os-migrations:index' }, schema: { querystring: Query } }, async (request) => {
    const v = versionOf(request);
    const q = request.query;
    const where: (SQL | undefined)[] = [];
    if (q.instance_uuid) where.push(eq(migrations.serverId, q.instance_uuid));
    if (q.status) where.push(eq(migrations.status, q.status));
    if (q.migration_type) where.push(eq(migrations.migrationType, q.migration_type as Migration['migrationType']));
    const host = q.source_compute ?? q.host;
    if (host) where.push(or(eq(migrations.sourceCompute, host), eq(migrations.destCompute, host)));
    if (v.atLeast('2.59')) {
      const since = time('changes-since', q['changes-since']);
      if (since) where.push(gte(migrations.updatedAt, since));
      if (v.atLeast('2.66')) {
        const before = time('changes-before', q['changes-before']);
        if (before) where.push(lt(migrations.updatedAt, before));
      }
      if (q.marker !== undefined) {
        const [m] = await store.db.select().from(migrations).where(eq(migrations.uuid, q.marker));
        if (!m) throw notFound(`Marker ${q.marker} could not be found.`);
        where.push(lt(migrations.id, m.id));
      }
    }
    if (v.atLeast('2.80')) {
      if (q.user_id) where.push(eq(migrations.userId, q.user_id));
      if (q.project_id) where.push(eq(migrations.projectId, q.project_id));
    }
    const rows = store.db
      .select()
      .from(migrations)
      .where(and(...where))
      .orderBy(desc(migrations.id));
    const list = v.atLeast('2.59') && q.limit !== undefined ? await rows.limit(Number(q.limit)) : await rows;
    return { migrations: list.map((m) => view(m, v)) };
  });
}
