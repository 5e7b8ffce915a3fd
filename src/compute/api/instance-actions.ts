import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { pageOf } from '../../lib/http/paging.ts';
import { ApiError, badRequest, notFound } from '../../lib/errors.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { actionsProject, getAction, listActions, type ActionContext, type InstanceAction, type InstanceActionEvent } from '../instance-actions.ts';
import { getServer } from '../servers.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { naive } from './naive-time.ts';

const ById = Type.Object({ server_id: Type.String() });
const ByRequest = Type.Object({ server_id: Type.String(), request_id: Type.String() });
const Many = Type.Array(Type.String());
const ListQuery = Type.Object({
  limit: Type.Optional(Many),
  marker: Type.Optional(Many),
  'changes-since': Type.Optional(Many),
  'changes-before': Type.Optional(Many),
});

/** Who asks, for the actions a handler records. */
export const actionContext = (request: FastifyRequest): ActionContext => ({ auth: authOf(request), requestId: request.id });

/** Nova's obfuscated host id: the same hash as the server's hostId. */
const hostIdOf = (host: string | null, projectId: string) =>
  host
    ? createHash('sha224')
        .update(projectId + host)
        .digest('hex')
    : '';

/**
 * The project whose actions these are: the server's, or from 2.21 that of a deleted server's
 * actions. 404 for a server the caller may not see, as for a server that never was.
 */
async function projectOf(db: Db, request: FastifyRequest, serverId: string): Promise<string> {
  const auth = authOf(request);
  try {
    return (await getServer(db, auth, serverId)).projectId;
  } catch (err) {
    if (!(err instanceof ApiError && err.kind === 'NotFound') || versionOf(request).below('2.21')) throw err;
    const project = await actionsProject(db, serverId);
    if (!project || !(project === auth.project?.id || allows('compute:context_is_admin', auth))) throw err;
    return project;
  }
}

function actionView(a: InstanceAction, v: Microversion) {
  return {
    action: a.action,
    instance_uuid: a.serverId,
    request_id: a.requestId,
    user_id: a.userId,
    project_id: a.projectId,
    start_time: naive(a.startTime),
    message: a.message,
    ...(v.atLeast('2.58') ? { updated_at: naive(a.updatedAt) } : {}),
  };
}

function eventView(e: InstanceActionEvent, projectId: string, v: Microversion, admin: boolean) {
  return {
    event: e.event,
    start_time: naive(e.startTime),
    finish_time: naive(e.finishTime),
    result: e.result,
    ...(admin ? { traceback: e.traceback } : {}),
    ...(admin && v.atLeast('2.62') ? { host: e.host ?? '' } : {}),
    ...(v.atLeast('2.62') ? { hostId: hostIdOf(e.host, projectId) } : {}),
    ...(v.atLeast('2.84') ? { details: e.details } : {}),
  };
}

function timeParam(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badRequest(`Invalid input for query parameters ${name}. Value: ${value}. '${value}' is not a 'date-time'`);
  return d;
}

export function instanceActionRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  api.get(
    '/servers/:server_id/os-instance-actions',
    { config: { policy: 'compute:os-instance-actions:list' }, schema: { params: ById, querystring: ListQuery } },
    async (request) => {
      const v = versionOf(request);
      const id = request.params.server_id;
      await projectOf(db, request, id);
      // Paging and time filters came with 2.58 (changes-before with 2.66); older requests list all.
      if (v.below('2.58')) return { instanceActions: ((await listActions(db, id)) as InstanceAction[]).map((a) => actionView(a, v)) };
      const q = request.query;
      const page = pageOf({ limit: q.limit?.at(-1), marker: q.marker?.at(-1) });
      const since = timeParam('changes-since', q['changes-since']?.at(-1));
      const before = v.atLeast('2.66') ? timeParam('changes-before', q['changes-before']?.at(-1)) : undefined;
      if (since && before && before < since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
      const rows = await listActions(db, id, { limit: page.limit, marker: page.marker, changesSince: since, changesBefore: before });
      if (rows === 'bad-marker') throw badRequest(`Marker ${page.marker} could not be found.`);
      const last = rows.at(-1);
      const next = last && rows.length === page.limit ? new URL(request.url, request.publicUrl) : undefined;
      next?.searchParams.set('marker', last!.requestId);
      return {
        instanceActions: rows.map((a) => actionView(a, v)),
        ...(next ? { links: [{ rel: 'next', href: `${request.publicUrl}${next.pathname}${next.search}` }] } : {}),
      };
    },
  );

  api.get(
    '/servers/:server_id/os-instance-actions/:request_id',
    { config: { policy: 'compute:os-instance-actions:show' }, schema: { params: ByRequest } },
    async (request) => {
      const v = versionOf(request);
      const auth = authOf(request);
      const { server_id: id, request_id: requestId } = request.params;
      const project = await projectOf(db, request, id);
      const found = await getAction(db, id, requestId);
      if (!found) throw notFound(`Action ${requestId} not found`);
      // Events with their tracebacks for the admin; from 2.51 events without them for the project.
      const admin = allows('compute:os-instance-actions:events', auth, { project_id: project });
      const events = admin || v.atLeast('2.51') ? { events: found.events.map((e) => eventView(e, project, v, admin)) } : {};
      return { instanceAction: { ...actionView(found.action, v), ...events } };
    },
  );
}
