import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../../lib/store/db.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { getEndpoint } from '../catalog.ts';
import { getProject } from '../projects.ts';
import {
  addEndpointToProject,
  addGroupToProject,
  checkEndpointInProject,
  createEndpointGroup,
  deleteEndpointGroup,
  endpointsOfGroup,
  endpointsOfProject,
  getEndpointGroup,
  getGroupInProject,
  groupsOfProject,
  listEndpointGroups,
  projectsOfEndpoint,
  projectsOfGroup,
  removeEndpointFromProject,
  removeGroupFromProject,
  updateEndpointGroup,
  type EndpointGroup,
} from '../endpoint-filters.ts';
import { endpointView } from './catalog.ts';
import { listLinks, projectView, selfLink } from './views.ts';

const P = 'OS-EP-FILTER';

export const endpointGroupView = (base: string, g: EndpointGroup) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  filters: g.filters,
  links: selfLink(base, `${P}/endpoint_groups/${g.id}`),
});

const Filters = Type.Record(Type.String(), Type.Unknown());
const CreateBody = Type.Object({
  endpoint_group: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    filters: Type.Optional(Filters),
  }),
});
const UpdateBody = Type.Object({
  endpoint_group: Type.Object(
    {
      id: Type.Optional(Type.String()),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      filters: Type.Optional(Filters),
    },
    { minProperties: 1 },
  ),
});
const GroupParams = Type.Object({ endpoint_group_id: Type.String() });
const GroupProjectParams = Type.Object({ endpoint_group_id: Type.String(), project_id: Type.String() });
const ProjectParams = Type.Object({ project_id: Type.String() });
const ProjectEndpointParams = Type.Object({ project_id: Type.String(), endpoint_id: Type.String() });
const EndpointParams = Type.Object({ endpoint_id: Type.String() });

async function projectsOf(db: Db, ids: string[]) {
  return Promise.all(ids.map((id) => getProject(db, id)));
}

/** OS-EP-FILTER: endpoint groups, and the endpoints (one by one or by group) given to projects. */
export function endpointFilterRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get(
    `/v3/${P}/endpoint_groups`,
    { config: { policy: 'identity:list_endpoint_groups' }, schema: { querystring: Type.Object({ name: Type.Optional(Type.String()) }) } },
    async (request) => ({
      endpoint_groups: (await listEndpointGroups(db, { name: request.query.name })).map((g) => endpointGroupView(request.publicUrl, g)),
      links: listLinks(request.publicUrl, `${P}/endpoint_groups`),
    }),
  );
  api.post(`/v3/${P}/endpoint_groups`, { config: { policy: 'identity:create_endpoint_group' }, schema: { body: CreateBody } }, async (request, reply) => {
    const group = await identity.change((tx) => createEndpointGroup(tx, request.body.endpoint_group));
    return reply.status(201).send({ endpoint_group: endpointGroupView(request.publicUrl, group) });
  });
  api.get(
    `/v3/${P}/endpoint_groups/:endpoint_group_id`,
    { config: { policy: 'identity:get_endpoint_group' }, schema: { params: GroupParams } },
    async (request) => ({
      endpoint_group: endpointGroupView(request.publicUrl, await getEndpointGroup(db, request.params.endpoint_group_id)),
    }),
  );
  api.patch(
    `/v3/${P}/endpoint_groups/:endpoint_group_id`,
    { config: { policy: 'identity:update_endpoint_group' }, schema: { params: GroupParams, body: UpdateBody } },
    async (request) => {
      const { id, ...patch } = request.body.endpoint_group;
      if (id !== undefined && id !== request.params.endpoint_group_id) throw badRequest('Cannot change ID');
      const group = await identity.change((tx) => updateEndpointGroup(tx, request.params.endpoint_group_id, patch));
      return { endpoint_group: endpointGroupView(request.publicUrl, group) };
    },
  );
  api.delete(
    `/v3/${P}/endpoint_groups/:endpoint_group_id`,
    { config: { policy: 'identity:delete_endpoint_group' }, schema: { params: GroupParams } },
    async (request, reply) => {
      await identity.change((tx) => deleteEndpointGroup(tx, request.params.endpoint_group_id));
      return reply.status(204).send();
    },
  );

  api.get(
    `/v3/${P}/endpoint_groups/:endpoint_group_id/endpoints`,
    { config: { policy: 'identity:list_endpoints_associated_with_endpoint_group' }, schema: { params: GroupParams } },
    async (request) => ({
      endpoints: (await endpointsOfGroup(db, request.params.endpoint_group_id)).map((e) => endpointView(request.publicUrl, e)),
      links: listLinks(request.publicUrl, `${P}/endpoint_groups/${request.params.endpoint_group_id}/endpoints`),
    }),
  );
  api.get(
    `/v3/${P}/endpoint_groups/:endpoint_group_id/projects`,
    { config: { policy: 'identity:list_projects_associated_with_endpoint_group' }, schema: { params: GroupParams } },
    async (request) => ({
      projects: (await projectsOf(db, await projectsOfGroup(db, request.params.endpoint_group_id))).map((p) => projectView(request.publicUrl, p)),
      links: listLinks(request.publicUrl, `${P}/endpoint_groups/${request.params.endpoint_group_id}/projects`),
    }),
  );
  api.get(
    `/v3/${P}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
    { config: { policy: 'identity:get_endpoint_group_in_project' }, schema: { params: GroupProjectParams } },
    async (request) => {
      const { endpoint_group_id, project_id } = request.params;
      await getGroupInProject(db, endpoint_group_id, project_id);
      return {
        project_endpoint_group: {
          endpoint_group_id,
          project_id,
          links: selfLink(request.publicUrl, `${P}/endpoint_groups/${endpoint_group_id}/projects/${project_id}`),
        },
      };
    },
  );
  api.put(
    `/v3/${P}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
    { config: { policy: 'identity:add_endpoint_group_to_project' }, schema: { params: GroupProjectParams } },
    async (request, reply) => {
      await identity.change((tx) => addGroupToProject(tx, request.params.endpoint_group_id, request.params.project_id));
      return reply.status(204).send();
    },
  );
  api.delete(
    `/v3/${P}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
    { config: { policy: 'identity:remove_endpoint_group_from_project' }, schema: { params: GroupProjectParams } },
    async (request, reply) => {
      await identity.change((tx) => removeGroupFromProject(tx, request.params.endpoint_group_id, request.params.project_id));
      return reply.status(204).send();
    },
  );

  api.get(
    `/v3/${P}/projects/:project_id/endpoint_groups`,
    { config: { policy: 'identity:list_endpoint_groups_for_project' }, schema: { params: ProjectParams } },
    async (request) => ({
      endpoint_groups: (await groupsOfProject(db, request.params.project_id)).map((g) => endpointGroupView(request.publicUrl, g)),
      links: listLinks(request.publicUrl, `${P}/projects/${request.params.project_id}/endpoint_groups`),
    }),
  );
  api.get(
    `/v3/${P}/projects/:project_id/endpoints`,
    { config: { policy: 'identity:list_endpoints_for_project' }, schema: { params: ProjectParams } },
    async (request) => ({
      endpoints: (await endpointsOfProject(db, request.params.project_id)).map((e) => endpointView(request.publicUrl, e)),
      links: listLinks(request.publicUrl, `${P}/projects/${request.params.project_id}/endpoints`),
    }),
  );
  // GET answers HEAD too: 204 when the endpoint is given to the project directly.
  api.get(
    `/v3/${P}/projects/:project_id/endpoints/:endpoint_id`,
    { config: { policy: 'identity:check_endpoint_in_project' }, schema: { params: ProjectEndpointParams } },
    async (request, reply) => {
      const { project_id, endpoint_id } = request.params;
      await getEndpoint(db, endpoint_id);
      await getProject(db, project_id);
      await checkEndpointInProject(db, endpoint_id, project_id);
      return reply.status(204).send();
    },
  );
  api.put(
    `/v3/${P}/projects/:project_id/endpoints/:endpoint_id`,
    { config: { policy: 'identity:add_endpoint_to_project' }, schema: { params: ProjectEndpointParams } },
    async (request, reply) => {
      const { project_id, endpoint_id } = request.params;
      await identity.change(async (tx) => {
        await getEndpoint(tx, endpoint_id);
        await getProject(tx, project_id);
        await addEndpointToProject(tx, endpoint_id, project_id);
      });
      return reply.status(204).send();
    },
  );
  api.delete(
    `/v3/${P}/projects/:project_id/endpoints/:endpoint_id`,
    { config: { policy: 'identity:remove_endpoint_from_project' }, schema: { params: ProjectEndpointParams } },
    async (request, reply) => {
      await identity.change((tx) => removeEndpointFromProject(tx, request.params.endpoint_id, request.params.project_id));
      return reply.status(204).send();
    },
  );
  api.get(
    `/v3/${P}/endpoints/:endpoint_id/projects`,
    { config: { policy: 'identity:list_projects_for_endpoint' }, schema: { params: EndpointParams } },
    async (request) => {
      await getEndpoint(db, request.params.endpoint_id);
      return {
        projects: (await projectsOf(db, await projectsOfEndpoint(db, request.params.endpoint_id))).map((p) => projectView(request.publicUrl, p)),
        links: listLinks(request.publicUrl, `${P}/endpoints/${request.params.endpoint_id}/projects`),
      };
    },
  );
}
