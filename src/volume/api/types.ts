import type { FastifyInstance } from 'fastify';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import { isAdmin } from '../policy.ts';
import type { VolumeService } from '../service.ts';
import { addTypeAccess, createType, defaultType, deleteExtraSpec, deleteType, findType, listTypes, removeTypeAccess, setExtraSpecs, typeAccess, updateType } from '../types.ts';
import { bodyOf, boolOf, textOf } from './input.ts';
import { typeView } from './views.ts';

type Params = { project_id: string; id: string };

function specsOf(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest("Missing required element 'extra_specs' in request body.");
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Cinder's volume types, their extra specs and access lists: /v3/{project_id}/types. */
export function typeRoutes(app: FastifyInstance, svc: VolumeService): void {
  const db = svc.store.db;
  const read = { config: { policy: 'volume:type:get' } };
  const manage = { config: { policy: 'volume:type:manage' } };
  const visible = (request: { auth: unknown }) => {
    const auth = authOf(request as never);
    return { project: auth.project?.id, all: isAdmin(auth) };
  };

  app.get<{ Params: Params; Querystring: { is_public?: string } }>('/:project_id/types', read, async (request) => {
    const { project, all } = visible(request);
    const q = request.query.is_public;
    // is_public=None lists every type the caller may see; the default is the public ones only.
    const isPublic = q === undefined ? (all ? true : undefined) : q.toLowerCase() === 'none' ? undefined : boolOf('is_public', q);
    return { volume_types: (await listTypes(db, project, all, isPublic)).map(typeView) };
  });
  app.get<{ Params: Params }>('/:project_id/types/default', read, async () => ({ volume_type: typeView(await defaultType(db)) }));
  app.get<{ Params: Params }>('/:project_id/types/:id', read, async (request) => {
    const { project, all } = visible(request);
    return { volume_type: typeView(await findType(db, request.params.id, project, all)) };
  });

  app.post<{ Params: Params }>('/:project_id/types', manage, async (request) => {
    const b = bodyOf(request, 'volume_type');
    const name = textOf('name', b.name);
    if (!name) throw badRequest("Invalid input received: 'name' is a required property.");
    const isPublic = b['os-volume-type-access:is_public'] ?? b.is_public;
    const type = await svc.store.tx((tx) =>
      createType(tx, {
        name,
        description: textOf('description', b.description),
        isPublic: isPublic === undefined || isPublic === null ? true : boolOf('is_public', isPublic),
        extraSpecs: b.extra_specs === undefined || b.extra_specs === null ? {} : specsOf(b.extra_specs),
      }),
    );
    return { volume_type: typeView(type) };
  });

  app.put<{ Params: Params }>('/:project_id/types/:id', manage, async (request) => {
    const b = bodyOf(request, 'volume_type');
    const isPublic = b.is_public ?? b['os-volume-type-access:is_public'];
    const type = await svc.store.tx((tx) =>
      updateType(tx, request.params.id, {
        name: textOf('name', b.name) ?? undefined,
        description: textOf('description', b.description),
        isPublic: isPublic === undefined || isPublic === null ? undefined : boolOf('is_public', isPublic),
      }),
    );
    return { volume_type: typeView(type) };
  });

  app.delete<{ Params: Params }>('/:project_id/types/:id', manage, async (request, reply) => {
    await svc.store.tx((tx) => deleteType(tx, request.params.id));
    return reply.status(202).send();
  });

  app.get<{ Params: Params }>('/:project_id/types/:id/extra_specs', read, async (request) => {
    const { project, all } = visible(request);
    return { extra_specs: (await findType(db, request.params.id, project, all)).extraSpecs };
  });
  app.post<{ Params: Params }>('/:project_id/types/:id/extra_specs', manage, async (request) => {
    const specs = specsOf((request.body as { extra_specs?: unknown } | undefined)?.extra_specs);
    await svc.store.tx(async (tx) => setExtraSpecs(tx, (await findType(tx, request.params.id, undefined, true)).id, specs));
    return { extra_specs: specs };
  });
  app.get<{ Params: Params & { key: string } }>('/:project_id/types/:id/extra_specs/:key', read, async (request) => {
    const { project, all } = visible(request);
    const specs = (await findType(db, request.params.id, project, all)).extraSpecs;
    if (!(request.params.key in specs)) throw badRequest(`Volume Type ${request.params.id} has no extra specs with key ${request.params.key}.`);
    return { [request.params.key]: specs[request.params.key] };
  });
  app.put<{ Params: Params & { key: string } }>('/:project_id/types/:id/extra_specs/:key', manage, async (request) => {
    const specs = specsOf(request.body);
    if (Object.keys(specs).length !== 1 || !(request.params.key in specs)) throw badRequest('Request body and URI mismatch');
    await svc.store.tx(async (tx) => setExtraSpecs(tx, (await findType(tx, request.params.id, undefined, true)).id, specs));
    return specs;
  });
  app.delete<{ Params: Params & { key: string } }>('/:project_id/types/:id/extra_specs/:key', manage, async (request, reply) => {
    await svc.store.tx(async (tx) => deleteExtraSpec(tx, (await findType(tx, request.params.id, undefined, true)).id, request.params.key));
    return reply.status(202).send();
  });

  app.get<{ Params: Params }>('/:project_id/types/:id/os-volume-type-access', manage, async (request) => {
    const type = await findType(db, request.params.id, undefined, true);
    if (type.isPublic) throw badRequest('Access list not available for public volume types.');
    return { volume_type_access: (await typeAccess(db, type.id)).map((p) => ({ volume_type_id: type.id, project_id: p })) };
  });
  app.post<{ Params: Params }>('/:project_id/types/:id/action', manage, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, { project?: unknown } | undefined>;
    const add = body.addProjectAccess;
    const remove = body.removeProjectAccess;
    const project = (add ?? remove)?.project;
    if (typeof project !== 'string' || !project) throw badRequest('Invalid request body: addProjectAccess or removeProjectAccess with a project is expected.');
    await svc.store.tx((tx) => (add ? addTypeAccess(tx, request.params.id, project) : removeTypeAccess(tx, request.params.id, project)));
    return reply.status(202).send();
  });
}
