import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { flag } from '../../lib/http/query.ts';
import type { Identity } from '../identity.ts';
import { createProject, deleteProject, getProject, listProjects, updateProject, userProjects } from '../projects.ts';
import { DEFAULT_DOMAIN_ID } from '../ids.ts';
import { listLinks, projectView } from './views.ts';

const Name = Type.String({ minLength: 1, maxLength: 64 });
const Fields = {
  description: Type.Optional(Type.String({ maxLength: 65535 })),
  enabled: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 80 })),
};
const CreateBody = Type.Object({
  project: Type.Object({
    name: Name,
    domain_id: Type.Optional(Type.String()),
    parent_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    is_domain: Type.Optional(Type.Literal(false)),
    ...Fields,
  }),
});
const UpdateBody = Type.Object({ project: Type.Object({ name: Type.Optional(Name), ...Fields }) });
const ListQuery = Type.Object({ name: Type.Optional(Type.String()), domain_id: Type.Optional(Type.String()), enabled: Type.Optional(Type.String()) });
const ById = Type.Object({ project_id: Type.String() });

export function projectRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/projects', { config: { policy: 'identity:list_projects' }, schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query;
    const projects = await listProjects(db, { name: q.name, domainId: q.domain_id, enabled: flag(q.enabled, 'enabled') });
    return { projects: projects.map((p) => projectView(request.publicUrl, p)), links: listLinks(request.publicUrl, 'projects') };
  });

  api.post('/v3/projects', { config: { policy: 'identity:create_project' }, schema: { body: CreateBody } }, async (request, reply) => {
    const { project: input } = request.body;
    const auth = authOf(request);
    // Like Keystone: a project goes to the domain named, else to the domain of the caller's scope.
    const domainId = input.domain_id ?? auth.project?.domainId ?? auth.domain?.id ?? DEFAULT_DOMAIN_ID;
    const project = await identity.change((tx) =>
      createProject(tx, { name: input.name, domainId, description: input.description, enabled: input.enabled, tags: input.tags }),
    );
    return reply.status(201).send({ project: projectView(request.publicUrl, project) });
  });

  api.get('/v3/projects/:project_id', { config: { policy: 'identity:get_project' }, schema: { params: ById } }, async (request) => ({
    project: projectView(request.publicUrl, await getProject(db, request.params.project_id)),
  }));

  api.patch('/v3/projects/:project_id', { config: { policy: 'identity:update_project' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const project = await identity.change((tx) => updateProject(tx, request.params.project_id, request.body.project));
    return { project: projectView(request.publicUrl, project) };
  });

  api.delete('/v3/projects/:project_id', { config: { policy: 'identity:delete_project' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => deleteProject(tx, request.params.project_id));
    return reply.status(204).send();
  });

  api.get(
    '/v3/users/:user_id/projects',
    { config: { policy: 'identity:list_user_projects' }, schema: { params: Type.Object({ user_id: Type.String() }) } },
    async (request) => {
      const projects = await userProjects(db, request.params.user_id);
      return { projects: projects.map((p) => projectView(request.publicUrl, p)), links: listLinks(request.publicUrl, `users/${request.params.user_id}/projects`) };
    },
  );
}
