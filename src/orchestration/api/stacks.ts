import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../lib/http/auth.ts';
import { notFound } from '../../lib/errors.ts';
import type { Orchestration } from '../service.ts';
import { outputsOf, shownParameters } from '../outputs.ts';
import { createStack, deleteStack, findStack, listStacks, previewStack, readRequest, resourcesOf, updateStack, type StackRequest } from '../stacks.ts';
import { stackTemplate, type StackRow } from '../stack-template.ts';
import { previewUpdate } from '../update-preview.ts';
import { abandonStack } from '../abandon.ts';
import type { ResourceRow } from '../stack-template.ts';
import { resourceView, stackDetail, stackPath, stackSummary } from './views.ts';
import { checkConstraintNames } from '../custom-constraints.ts';

export type StackParams = { project_id: string; stack: string; id?: string };

/** The project's endpoint, as the catalog gives it. */
export const baseOf = (request: FastifyRequest, projectId: string) => `${request.publicUrl}/orchestration/v1/${projectId}`;

/** The stack a path names, by name, id, or name and id. */
export const stackOf = (svc: Orchestration, p: StackParams) => findStack(svc.store, p.project_id, p.stack, p.id);

/** Registers a route for both ways Heat's paths name a stack: /stacks/{name or id}… and /stacks/{name}/{id}…. */
export function bothForms(
  api: FastifyInstance,
  method: 'GET' | 'DELETE' | 'PUT' | 'PATCH',
  suffix: string,
  policy: string,
  handler: (request: FastifyRequest<{ Params: StackParams & Record<string, string>; Querystring: Record<string, string> }>, reply: any) => Promise<unknown>,
) {
  for (const path of [`/:project_id/stacks/:stack${suffix}`, `/:project_id/stacks/:stack/:id${suffix}`]) {
    api.route({ method, url: path, config: { policy }, handler: handler as never });
  }
}

export function stackRoutes(api: FastifyInstance, svc: Orchestration): void {
  api.get<{ Params: { project_id: string }; Querystring: { show_nested?: string } }>(
    '/:project_id/stacks',
    { config: { policy: 'stacks:index' } },
    async (request) => {
      const base = baseOf(request, request.params.project_id);
      const nested = String(request.query.show_nested).toLowerCase() === 'true';
      return { stacks: (await listStacks(svc.store, request.params.project_id, nested)).map((s) => stackSummary(base, s)) };
    },
  );

  // What a create would make, made of nothing: the template read with its parameters and environment.
  api.post<{ Params: { project_id: string }; Body: StackRequest }>('/:project_id/stacks/preview', { config: { policy: 'stacks:preview' } }, async (request) => {
    return { stack: previewStack(request.params.project_id, request.body ?? {}) };
  });

  api.post<{ Params: { project_id: string }; Body: StackRequest }>('/:project_id/stacks', { config: { policy: 'stacks:create' } }, async (request, reply) => {
    const stack = await createStack(svc.store, svc.engine, authOf(request), request.params.project_id, request.body ?? {});
    return reply.status(201).send({ stack: { id: stack.id, links: [{ href: stackPath(baseOf(request, stack.projectId), stack), rel: 'self' }] } });
  });

  // Heat's lookup: a stack named by its name or id alone is found at its full path.
  api.get<{ Params: StackParams }>('/:project_id/stacks/:stack', { config: { policy: 'stacks:show' } }, async (request, reply) => {
    const stack = await stackOf(svc, request.params);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return reply
      .status(302)
      .header('location', stackPath(baseOf(request, stack.projectId), stack) + query)
      .send();
  });

  api.get<{ Params: StackParams; Querystring: { resolve_outputs?: string } }>(
    '/:project_id/stacks/:stack/:id',
    { config: { policy: 'stacks:show' } },
    async (request) => {
      const stack = await stackOf(svc, request.params);
      const resolve = !['false', '0', 'no'].includes(String(request.query.resolve_outputs ?? 'true').toLowerCase());
      const outputs = resolve ? outputsOf(stack, await resourcesOf(svc.store, stack)) : undefined;
      return { stack: stackDetail(baseOf(request, stack.projectId), stack, { parameters: shownParameters(stack), outputs }) };
    },
  );

  bothForms(api, 'DELETE', '', 'stacks:delete', async (request, reply) => {
    await deleteStack(svc.store, svc.engine, authOf(request), await stackOf(svc, request.params));
    return reply.status(204).send();
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    // What the update would do to each resource, doing nothing (`stack update --dry-run`).
    bothForms(api, method, '/preview', 'stacks:preview_update', async (request) => {
      const stack = await stackOf(svc, request.params);
      const changes = previewUpdate(stack, await resourcesOf(svc.store, stack), (request.body ?? {}) as StackRequest, method === 'PATCH');
      const base = baseOf(request, stack.projectId);
      const view = (r: ResourceRow) => ({
        ...resourceView(base, stack, r, []),
        resource_identity: { stack_name: stack.name, stack_id: stack.id, path: `/resources/${r.name}` },
      });
      return { resource_changes: Object.fromEntries(Object.entries(changes).map(([change, rows]) => [change, rows.map(view)])) };
    });
    bothForms(api, method, '', 'stacks:update', async (request, reply) => {
      const stack = await stackOf(svc, request.params);
      await updateStack(svc.store, svc.engine, authOf(request), stack, (request.body ?? {}) as StackRequest, method === 'PATCH');
      return reply.status(202).send();
    });
  }

  // The stack is forgotten, what it made left in place.
  bothForms(api, 'DELETE', '/abandon', 'stacks:abandon', async (request) => abandonStack(svc.store, svc.engine, await stackOf(svc, request.params)));

  bothForms(api, 'GET', '/template', 'stacks:template', async (request) => (await stackOf(svc, request.params)).template);

  bothForms(api, 'GET', '/outputs', 'stacks:show', async (request) => {
    const stack = await stackOf(svc, request.params);
    return { outputs: outputsOf(stack, await resourcesOf(svc.store, stack)).map(({ output_key, description }) => ({ output_key, description })) };
  });

  bothForms(api, 'GET', '/outputs/:key', 'stacks:show', async (request) => {
    const stack = await stackOf(svc, request.params);
    const output = outputsOf(stack, await resourcesOf(svc.store, stack)).find((o) => o.output_key === request.params.key);
    if (!output) throw notFound(`Specified output key ${request.params.key} not found.`, 'NotFound');
    return { output };
  });

  api.post<{ Params: { project_id: string }; Body: StackRequest }>(
    '/:project_id/validate',
    { config: { policy: 'stacks:validate_template' } },
    async (request) => {
      const { template } = readRequest(request.body ?? {}, { partial: true });
      checkConstraintNames(template);
      const types: Record<string, string> = {
        string: 'String',
        number: 'Number',
        json: 'Json',
        comma_delimited_list: 'CommaDelimitedList',
        boolean: 'Boolean',
      };
      const parameters = Object.fromEntries(
        Object.entries(template.parameters).map(([name, p]) => [
          name,
          {
            Type: types[p.type],
            Description: p.description ?? '',
            Label: p.label ?? name,
            NoEcho: String(p.hidden ?? false),
            ...(p.default !== undefined ? { Default: p.default } : {}),
          },
        ]),
      );
      return { Description: template.description, Parameters: parameters, ParameterGroups: template.raw.parameter_groups ?? [] };
    },
  );
}

/** The template of a stored stack as its parameters make it; for the routes that show its resources. */
export const templateOf = (stack: StackRow) => stackTemplate(stack).t;
