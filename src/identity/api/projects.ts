import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { flag } from '../../lib/http/query.ts';
import { badRequest, forbidden } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { Identity } from '../identity.ts';
import { createProject, deleteProject, getProject, listProjects, updateProject, userProjects, type Project } from '../projects.ts';
import { createDomain, deleteDomain, getDomain, type Domain } from '../domains.ts';
import { ancestorsOf, subtreeOf, type TreeNode } from '../project-tree.ts';
import { projectIdsOf } from '../assignments.ts';
import { DEFAULT_DOMAIN_ID } from '../ids.ts';
import { domains } from '../tables.ts';
import { listLinks, projectView, selfLink } from './views.ts';

const Name = Type.String({ minLength: 1, maxLength: 64 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Fields = {
  description: Nullable(Type.String({ maxLength: 65535 })),
  enabled: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 80 })),
};
const CreateBody = Type.Object({
  project: Type.Object({
    name: Name,
    domain_id: Nullable(Type.String()),
    parent_id: Nullable(Type.String()),
    is_domain: Type.Optional(Type.Boolean()),
    ...Fields,
  }),
});
// The place of a project in the tree is fixed: these are read only to refuse a change, as Keystone does.
const UpdateBody = Type.Object({
  project: Type.Object({
    name: Type.Optional(Name),
    ...Fields,
    parent_id: Nullable(Type.String()),
    domain_id: Nullable(Type.String()),
    is_domain: Type.Optional(Type.Boolean()),
  }),
});
const ListQuery = Type.Object({
  name: Type.Optional(Type.String()),
  domain_id: Type.Optional(Type.String()),
  enabled: Type.Optional(Type.String()),
  parent_id: Type.Optional(Type.String()),
  is_domain: Type.Optional(Type.String()),
  tags: Type.Optional(Type.String()),
  'tags-any': Type.Optional(Type.String()),
  'not-tags': Type.Optional(Type.String()),
  'not-tags-any': Type.Optional(Type.String()),
});
const ShowQuery = Type.Object({
  parents_as_list: Type.Optional(Type.String()),
  subtree_as_list: Type.Optional(Type.String()),
  parents_as_ids: Type.Optional(Type.String()),
  subtree_as_ids: Type.Optional(Type.String()),
});
const ById = Type.Object({ project_id: Type.String() });

/** A domain seen as the project that acts as it (is_domain), as Keystone stores domains. */
export const domainProjectView = (base: string, d: Domain) => ({
  id: d.id,
  name: d.name,
  domain_id: null,
  description: d.description,
  enabled: d.enabled,
  parent_id: null,
  is_domain: true,
  tags: [],
  options: {},
  links: selfLink(base, `projects/${d.id}`),
});

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').filter((t) => t !== ''));

/** `{parent: {grandparent: {domain: null}}}`, as parents_as_ids shows the path to the top. */
function parentIds(project: Project, up: TreeNode[]): Record<string, unknown> {
  let nested: Record<string, unknown> = { [project.domainId]: null };
  for (const p of [...up].reverse()) nested = { [p.id]: nested };
  return nested;
}

/** `{child: {grandchild: null}, other: null}`, or null for a leaf. */
function subtreeIds(rootId: string, nodes: TreeNode[]): Record<string, unknown> | null {
  const children = nodes.filter((n) => n.parentId === rootId);
  return children.length ? Object.fromEntries(children.map((c) => [c.id, subtreeIds(c.id, nodes)])) : null;
}

export function projectRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get('/v3/projects', { config: { policy: 'identity:list_projects' }, schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query;
    const links = listLinks(request.publicUrl, 'projects');
    if (flag(q.is_domain, 'is_domain')) {
      const rows = (await db.select().from(domains).orderBy(domains.name)).filter((d) => q.name === undefined || d.name === q.name);
      return { projects: rows.map((d) => domainProjectView(request.publicUrl, d)), links };
    }
    const tags = { all: list(q.tags), any: list(q['tags-any']), notAll: list(q['not-tags']), notAny: list(q['not-tags-any']) };
    const projects = await listProjects(db, {
      name: q.name,
      domainId: q.domain_id,
      parentId: q.parent_id,
      enabled: flag(q.enabled, 'enabled'),
      tags: Object.values(tags).some((t) => t !== undefined) ? tags : undefined,
    });
    return { projects: projects.map((p) => projectView(request.publicUrl, p)), links };
  });

  api.post('/v3/projects', { config: { policy: 'identity:create_project' }, schema: { body: CreateBody } }, async (request, reply) => {
    const { project: input } = request.body;
    const auth = authOf(request);
    if (input.is_domain) {
      // A project that acts as a domain is a domain: it sits at the top, in no other domain.
      if (input.parent_id || input.domain_id) throw badRequest('A project acting as a domain cannot have a parent or a domain.');
      const domain = await identity.change((tx) => createDomain(tx, { name: input.name, description: input.description ?? undefined, enabled: input.enabled }));
      return reply.status(201).send({ project: domainProjectView(request.publicUrl, domain) });
    }
    // Like Keystone: a project goes under its parent, to the domain named, else to the domain of
    // the caller's scope.
    const domainId = input.domain_id ?? (input.parent_id ? undefined : (auth.project?.domainId ?? auth.domain?.id ?? DEFAULT_DOMAIN_ID));
    const project = await identity.change((tx) =>
      createProject(tx, { name: input.name, domainId, parentId: input.parent_id, description: input.description, enabled: input.enabled, tags: input.tags }),
    );
    return reply.status(201).send({ project: projectView(request.publicUrl, project) });
  });

  api.get('/v3/projects/:project_id', { config: { policy: 'identity:get_project' }, schema: { params: ById, querystring: ShowQuery } }, async (request) => {
    const q = request.query;
    const base = request.publicUrl;
    const p = await projectOrDomain(db, request.params.project_id);
    if (!isProject(p)) return { project: domainProjectView(base, p) };
    const [asList, asIds, subList, subIds] = [
      flag(q.parents_as_list, 'parents_as_list'),
      flag(q.parents_as_ids, 'parents_as_ids'),
      flag(q.subtree_as_list, 'subtree_as_list'),
      flag(q.subtree_as_ids, 'subtree_as_ids'),
    ];
    if (asList && asIds) throw badRequest('Cannot use parents_as_list and parents_as_ids query params at the same time.');
    if (subList && subIds) throw badRequest('Cannot use subtree_as_list and subtree_as_ids query params at the same time.');
    const view: Record<string, unknown> = projectView(base, p);
    // The lists show only the projects the caller holds a role on, as Keystone filters them.
    const visible = asList || subList ? await projectIdsOf(db, authOf(request).userId) : new Set<string>();
    const wrap = async (nodes: TreeNode[]) =>
      Promise.all(nodes.filter((n) => visible.has(n.id)).map(async (n) => ({ project: projectView(base, await getProject(db, n.id)) })));
    if (asList) view.parents = await wrap(await ancestorsOf(db, p.id));
    if (asIds) view.parents = parentIds(p, await ancestorsOf(db, p.id));
    if (subList) view.subtree = await wrap(await subtreeOf(db, p.id));
    if (subIds) view.subtree = subtreeIds(p.id, await subtreeOf(db, p.id));
    return { project: view };
  });

  api.patch('/v3/projects/:project_id', { config: { policy: 'identity:update_project' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const { parent_id, domain_id, is_domain, ...patch } = request.body.project;
    const project = await identity.change(async (tx) => {
      const current = await getProject(tx, request.params.project_id);
      if (parent_id !== undefined && parent_id !== (current.parentId ?? current.domainId)) throw forbidden('Update of `parent_id` is not allowed.');
      if (domain_id !== undefined && domain_id !== current.domainId) throw badRequest('Update of `domain_id` is not allowed.');
      if (is_domain) throw badRequest('Update of `is_domain` is not allowed.');
      return updateProject(tx, current.id, patch);
    });
    return { project: projectView(request.publicUrl, project) };
  });

  api.delete('/v3/projects/:project_id', { config: { policy: 'identity:delete_project' }, schema: { params: ById } }, async (request, reply) => {
    const id = request.params.project_id;
    await identity.change(async (tx) => (isProject(await projectOrDomain(tx, id)) ? deleteProject(tx, id) : deleteDomain(tx, id)));
    return reply.status(204).send();
  });

  api.get(
    '/v3/users/:user_id/projects',
    { config: { policy: 'identity:list_user_projects' }, schema: { params: Type.Object({ user_id: Type.String() }) } },
    async (request) => {
      const projects = await userProjects(db, request.params.user_id);
      return {
        projects: projects.map((p) => projectView(request.publicUrl, p)),
        links: listLinks(request.publicUrl, `users/${request.params.user_id}/projects`),
      };
    },
  );
}

const isProject = (x: Project | Domain): x is Project => 'parentId' in x;

/** A project, or else the domain of that id, which Keystone serves as a project too. */
async function projectOrDomain(db: Db, id: string): Promise<Project | Domain> {
  try {
    return await getProject(db, id);
  } catch (err) {
    const domain = await getDomain(db, id).catch(() => undefined);
    if (!domain) throw err;
    return domain;
  }
}
