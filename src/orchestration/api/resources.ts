import type { FastifyInstance } from 'fastify';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { badRequest, notFound } from '../../lib/errors.ts';
import { sourcesOfStack, type StackRow } from '../stack-template.ts';
import { typeNamed } from '../registry.ts';
import { RESOURCE_TYPES } from '../resources/index.ts';
import type { Orchestration } from '../service.ts';
import { resourcesOf } from '../stacks.ts';
import { stackEvents, stacks } from '../tables.ts';
import { HOT_VERSIONS } from '../template.ts';
import { FUNCTIONS } from '../functions.ts';
import { baseOf, bothForms, stackOf, templateOf } from './stacks.ts';
import { eventView, resourceView, stackPath } from './views.ts';

/** Which resources depend on each one, from the stack's template. */
function requiredBy(stack: StackRow): Map<string, string[]> {
  const t = templateOf(stack);
  const by = new Map<string, string[]>();
  for (const [name, r] of Object.entries(t.resources)) for (const d of r.dependsOn) by.set(d, [...(by.get(d) ?? []), name]);
  return by;
}

export function resourceRoutes(api: FastifyInstance, svc: Orchestration): void {
  bothForms(api, 'GET', '/resources', 'resource:index', async (request) => {
    const stack = await stackOf(svc, request.params);
    const depth = request.query.nested_depth === undefined ? 0 : Number(request.query.nested_depth);
    if (!Number.isInteger(depth) || depth < 0) throw badRequest(`Invalid nested_depth ${request.query.nested_depth}`);
    const base = baseOf(request, stack.projectId);
    // With nested_depth, the resources of the nested stacks too, that many levels down, each
    // naming the resource its stack belongs to.
    const walk = async (s: StackRow, level: number, parent?: string): Promise<unknown[]> => {
      const by = requiredBy(s);
      const out: unknown[] = [];
      for (const r of await resourcesOf(svc.store, s)) {
        out.push({ ...resourceView(base, s, r, by.get(r.name) ?? []), ...(parent ? { parent_resource: parent } : {}) });
        if (level >= depth || !r.physicalId || !typeNamed(r.type, sourcesOfStack(s))?.nested) continue;
        const [child] = await svc.store.db
          .select()
          .from(stacks)
          .where(and(eq(stacks.id, r.physicalId), eq(stacks.parentId, s.id)));
        if (child) out.push(...(await walk(child, level + 1, r.name)));
      }
      return out;
    };
    return { resources: await walk(stack, 0) };
  });

  bothForms(api, 'GET', '/resources/:resource', 'resource:show', async (request) => {
    const stack = await stackOf(svc, request.params);
    const rows = await resourcesOf(svc.store, stack);
    const row = rows.find((r) => r.name === request.params.resource);
    if (!row) throw notFound(`The Resource (${request.params.resource}) could not be found in Stack ${stack.name}.`, 'ResourceNotFound');
    const type = typeNamed(row.type, sourcesOfStack(stack));
    const attributes: Record<string, unknown> = {};
    for (const name of type?.attributes ?? []) attributes[name] = row.physicalId ? (type!.attribute?.(row.data, name) ?? row.data[name] ?? null) : null;
    const view = resourceView(baseOf(request, stack.projectId), stack, row, requiredBy(stack).get(row.name) ?? []);
    return { resource: { ...view, description: '', attributes, metadata: {} } };
  });

  const events = async (request: Parameters<Parameters<typeof bothForms>[4]>[0]) => {
    const stack = await stackOf(svc, request.params);
    const q = request.query;
    const depth = q.nested_depth === undefined ? 0 : Number(q.nested_depth);
    if (!Number.isInteger(depth) || depth < 0) throw badRequest(`Invalid nested_depth ${q.nested_depth}`);
    if (depth && request.params.resource) throw badRequest('nested_depth cannot be given with a resource.');
    // With nested_depth, the events of the nested stacks too, that many levels down, in the order they happened.
    const within = [stack];
    for (let level = 0, parents = [stack]; level < depth && parents.length; level++) {
      parents = await svc.store.db
        .select()
        .from(stacks)
        .where(
          inArray(
            stacks.parentId,
            parents.map((p) => p.id),
          ),
        );
      within.push(...parents);
    }
    const stackOfEvent = new Map(within.map((s) => [s.id, s]));
    let rows = await svc.store.db
      .select()
      .from(stackEvents)
      .where(inArray(stackEvents.stackId, [...stackOfEvent.keys()]))
      .orderBy(asc(stackEvents.seq));
    const resource = request.params.resource ?? q.resource_name;
    if (resource) rows = rows.filter((e) => e.resourceName === resource);
    if (q.resource_status) rows = rows.filter((e) => e.status === q.resource_status || `${e.action}_${e.status}` === q.resource_status);
    if (q.resource_action) rows = rows.filter((e) => e.action === q.resource_action);
    if (q.sort_dir === 'desc') rows.reverse();
    if (q.marker) {
      const at = rows.findIndex((e) => e.id === q.marker);
      if (at < 0) throw notFound(`The event (${q.marker}) could not be found.`, 'EntityNotFound');
      rows = rows.slice(at + 1);
    }
    if (q.limit !== undefined) {
      const limit = Number(q.limit);
      if (!Number.isInteger(limit) || limit < 0) throw badRequest(`Invalid limit ${q.limit}`);
      rows = rows.slice(0, limit);
    }
    const base = baseOf(request, stack.projectId);
    if (!depth) return { events: rows.map((e) => eventView(base, stack, e)) };
    // heatclient takes the root_stack link as the sign that the API went into the nested stacks itself.
    const root = { href: stackPath(base, stack), rel: 'root_stack' };
    return {
      events: rows.map((e) => {
        const view = eventView(base, stackOfEvent.get(e.stackId)!, e);
        return { ...view, stack_name: stackOfEvent.get(e.stackId)!.name, links: [...view.links, root] };
      }),
    };
  };
  bothForms(api, 'GET', '/events', 'events:index', events);
  bothForms(api, 'GET', '/resources/:resource/events', 'events:index', events);

  api.get<{ Params: { project_id: string }; Querystring: { with_description?: string; name?: string } }>(
    '/:project_id/resource_types',
    { config: { policy: 'stacks:list_resource_types' } },
    async (request) => {
      const described = String(request.query.with_description).toLowerCase() === 'true';
      const names = Object.keys(RESOURCE_TYPES)
        .filter((n) => !request.query.name || n.includes(request.query.name))
        .sort();
      return { resource_types: described ? names.map((n) => ({ resource_type: n, description: '' })) : names };
    },
  );

  api.get<{ Params: { project_id: string; type: string } }>(
    '/:project_id/resource_types/:type',
    { config: { policy: 'stacks:list_resource_types' } },
    async (request) => {
      const type = RESOURCE_TYPES[request.params.type];
      if (!type) throw notFound(`The Resource Type (${request.params.type}) could not be found.`, 'EntityNotFound');
      return {
        resource_type: request.params.type,
        description: '',
        support_status: { status: 'SUPPORTED', version: null, message: null, previous_status: null },
        properties: Object.fromEntries(
          type.properties.map((p) => [
            p,
            { required: type.required?.includes(p) ?? false, update_allowed: type.updatable?.includes(p) ?? false, immutable: false },
          ]),
        ),
        attributes: Object.fromEntries([...type.attributes, 'show'].map((a) => [a, { description: '' }])),
      };
    },
  );

  api.get<{ Params: { project_id: string; version: string } }>(
    '/:project_id/template_versions/:version/functions',
    { config: { policy: 'stacks:list_template_versions' } },
    async (request) => {
      const version = request.params.version.replace(/^heat_template_version\./, '');
      if (!(version in HOT_VERSIONS) && !Object.values(HOT_VERSIONS).some((aliases) => aliases.includes(version))) {
        throw notFound(`Template with version ${request.params.version} not found`, 'NotFound');
      }
      return { template_functions: FUNCTIONS.map((f) => ({ functions: f, description: FUNCTION_DESCRIPTIONS[f] })) };
    },
  );

  api.get('/:project_id/template_versions', { config: { policy: 'stacks:list_template_versions' } }, async () => ({
    template_versions: Object.entries(HOT_VERSIONS).map(([v, aliases]) => ({
      version: `heat_template_version.${v}`,
      type: 'hot',
      aliases: aliases.map((a) => `heat_template_version.${a}`),
    })),
  }));
}

const FUNCTION_DESCRIPTIONS: Record<(typeof FUNCTIONS)[number], string> = {
  get_param: 'A function for resolving parameter references.',
  get_resource: 'A function for resolving resource references.',
  get_attr: 'A function for resolving resource attributes.',
  str_replace: 'A function for performing string substitutions.',
  list_join: 'A function for joining one or more lists of strings.',
  str_split: 'A function for splitting delimited strings into a list.',
  repeat: 'A function for iterating over a list of items.',
  if: 'A function to return corresponding value based on condition evaluation.',
  get_file: 'A function for including a file inline.',
};
