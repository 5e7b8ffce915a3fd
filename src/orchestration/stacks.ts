import { randomUUID } from 'node:crypto';
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { ApiError, badRequest, conflict, notFound } from '../lib/errors.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Store } from '../lib/store/db.ts';
import { checkCustomConstraints } from './custom-constraints.ts';
import { recordEvent, type Engine, type StackRow } from './engine.ts';
import { scopeOf, stackTemplate } from './stack-template.ts';
import { evaluate, TemplateError } from './functions.ts';
import type { Sources } from './registry.ts';
import { stackResources, stacks } from './tables.ts';
import { activeTemplate, parameterValues, readTemplate, templateBody, type Template } from './template.ts';

/** A template Heat refuses: a 400 whose type names the check that failed. */
export const invalid = (err: unknown) => (err instanceof TemplateError ? new ApiError('BadRequest', err.message, 'StackValidationFailed') : err);

const NAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$/;

export interface StackRequest {
  stack_name?: unknown;
  template?: unknown;
  template_url?: unknown;
  parameters?: Record<string, unknown>;
  environment?: { parameters?: Record<string, unknown>; parameter_defaults?: Record<string, unknown>; resource_registry?: Record<string, unknown> };
  /** The client's files map: get_file's contents and templates, by the names the template (or the environment) uses. */
  files?: Record<string, unknown>;
  disable_rollback?: unknown;
  timeout_mins?: unknown;
  tags?: unknown;
}

/** The files map and resource_registry of a request: strings only (a registry's base_url and
 * per-resource sections, which only the client reads, are left out). */
export function sourcesOf(body: StackRequest): Sources {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (body.files !== undefined && !isMap(body.files)) throw badRequest('files must be a map of names to contents.');
  const registry = body.environment?.resource_registry ?? {};
  if (!isMap(registry)) throw badRequest('resource_registry must be a map.');
  const strings = (m: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(m).filter(([k, v]) => typeof v === 'string' && k !== 'base_url')) as Record<string, string>;
  return { files: strings(body.files ?? {}), registry: strings(registry) };
}

/** The template and the parameters a create or validate request carries, checked; active: the
 * template as its parameters make it (the resources and outputs whose condition holds). */
export function readRequest(
  body: StackRequest,
  opts: { partial?: boolean } = {},
): { template: Template; active: Template; parameters: Record<string, unknown>; values: Record<string, unknown>; sources: Sources } {
  if (body.template === undefined) {
    throw badRequest(body.template_url !== undefined ? 'template_url is not supported; send the template itself.' : 'No template specified');
  }
  const env = body.environment ?? {};
  const sources = sourcesOf(body);
  try {
    const template = readTemplate(templateBody(body.template), sources);
    // The environment's defaults apply to the parameters the template declares; its parameters
    // and the request's are the user's values, the request's winning.
    const defaults = Object.fromEntries(Object.entries(env.parameter_defaults ?? {}).filter(([k]) => k in template.parameters));
    const parameters = { ...defaults, ...(env.parameters ?? {}), ...(body.parameters ?? {}) };
    const values = parameterValues(template, parameters, opts);
    const active = opts.partial ? template : activeTemplate(template, values);
    return { template, active, parameters, values, sources };
  } catch (err) {
    throw invalid(err);
  }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw badRequest(
      `Invalid stack name ${String(name)} must contain only alphanumeric or "_-." characters, must start with alpha and must be 255 characters or less.`,
    );
  }
}

/** What a create would make, without making anything (`stack create --dry-run`): the stack as it
 * would show, and each resource with its properties evaluated as far as they can be before any
 * resource exists. */
export function previewStack(projectId: string, body: StackRequest) {
  checkName(body.stack_name);
  const { active, parameters } = readRequest(body);
  const name = body.stack_name;
  const values = { ...parameterValues(active, parameters), 'OS::stack_id': 'None', 'OS::stack_name': name, 'OS::project_id': projectId };
  const scope = scopeOf(active, values, new Map());
  const requiredBy = (n: string) =>
    Object.entries(active.resources)
      .filter(([, r]) => r.dependsOn.includes(n))
      .map(([other]) => other);
  const shown = (n: string, v: unknown) =>
    active.parameters[n]?.hidden ? '******' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  let resources;
  try {
    resources = Object.entries(active.resources).map(([rname, r]) => ({
      resource_name: rname,
      resource_type: r.type,
      resource_action: 'INIT',
      resource_status: 'COMPLETE',
      resource_status_reason: '',
      physical_resource_id: '',
      description: '',
      metadata: {},
      properties: evaluate(r.properties, scope),
      required_by: requiredBy(rname),
      stack_name: name,
    }));
  } catch (err) {
    throw invalid(err);
  }
  return {
    id: 'None',
    stack_name: name,
    description: active.description,
    template_description: active.description,
    parameters: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, shown(k, v)])),
    disable_rollback: body.disable_rollback !== false && body.disable_rollback !== 'false',
    timeout_mins: body.timeout_mins ?? null,
    capabilities: [],
    notification_topics: [],
    stack_owner: null,
    parent: null,
    stack_user_project_id: projectId,
    creation_time: null,
    updated_time: null,
    deletion_time: null,
    tags: null,
    links: [],
    resources,
  };
}

/** Records a new stack and its resources (none made yet), and starts creating them. */
export async function createStack(
  store: Store,
  engine: Engine,
  auth: AuthContext,
  projectId: string,
  body: StackRequest,
  nested?: { id: string; parentId: string },
): Promise<StackRow> {
  const name = body.stack_name;
  checkName(name);
  const { template, active, parameters, values, sources } = readRequest(body);
  await checkCustomConstraints(engine.services(auth.token), template, values);
  const timeout = body.timeout_mins === undefined || body.timeout_mins === null ? null : Number(body.timeout_mins);
  if (timeout !== null && !(Number.isInteger(timeout) && timeout > 0)) throw badRequest(`Invalid timeout value ${String(body.timeout_mins)}`);
  const tags = typeof body.tags === 'string' ? body.tags.split(',') : Array.isArray(body.tags) ? body.tags.map(String) : [];
  const stack = await store.tx(async (tx) => {
    const [taken] = await tx
      .select({ id: stacks.id })
      .from(stacks)
      .where(and(eq(stacks.projectId, projectId), eq(stacks.name, name)));
    if (taken) throw conflict(`The Stack (${name}) already exists.`, 'StackExists');
    const [row] = await tx
      .insert(stacks)
      .values({
        id: nested?.id ?? randomUUID(),
        parentId: nested?.parentId ?? null,
        files: sources.files,
        registry: sources.registry,
        projectId,
        userId: auth.userId,
        name,
        template: template.raw,
        parameters,
        action: 'CREATE',
        status: 'IN_PROGRESS',
        statusReason: 'Stack CREATE started',
        disableRollback: body.disable_rollback !== false && body.disable_rollback !== 'false',
        timeoutMins: timeout,
        tags,
      })
      .returning();
    const resources = Object.entries(active.resources);
    if (resources.length) {
      await tx
        .insert(stackResources)
        .values(resources.map(([rname, r]) => ({ stackId: row!.id, name: rname, type: r.type, action: 'INIT', status: 'COMPLETE' })));
    }
    await recordEvent(tx, row!.id, { resourceName: name, physicalId: row!.id, action: 'CREATE', status: 'IN_PROGRESS', reason: 'Stack CREATE started' });
    return row!;
  });
  engine.create(stack, auth.token);
  return stack;
}

/** The project's stack by name or id (and, when both are given, the id must be that name's). */
export async function findStack(store: Store, projectId: string, ref: string, id?: string): Promise<StackRow> {
  const match = id ? and(eq(stacks.id, id), eq(stacks.name, ref)) : or(eq(stacks.id, ref), eq(stacks.name, ref));
  const [row] = await store.db
    .select()
    .from(stacks)
    .where(and(eq(stacks.projectId, projectId), match));
  if (!row) throw notFound(`The Stack (${id ? `${ref}/${id}` : ref}) could not be found.`, 'EntityNotFound');
  return row;
}

/** The project's stacks; the nested ones (a resource's own) only when asked for. */
export async function listStacks(store: Store, projectId: string, showNested = false): Promise<StackRow[]> {
  const where = showNested ? eq(stacks.projectId, projectId) : and(eq(stacks.projectId, projectId), isNull(stacks.parentId));
  return store.db.select().from(stacks).where(where).orderBy(asc(stacks.createdAt));
}

export async function resourcesOf(store: Store, stack: StackRow) {
  return store.db.select().from(stackResources).where(eq(stackResources.stackId, stack.id)).orderBy(asc(stackResources.createdAt), asc(stackResources.name));
}

export type UpdateRequest = StackRequest & { clear_parameters?: unknown };

/** The template and parameters an update request brings the stack to, checked. PUT gives them
 * all; PATCH (patch) keeps what it does not give, less clear_parameters. */
export function readUpdate(stack: StackRow, body: UpdateRequest, patch: boolean) {
  if (!patch) return readRequest(body);
  const cleared = new Set(Array.isArray(body.clear_parameters) ? body.clear_parameters.map(String) : []);
  const kept = Object.fromEntries(Object.entries(stack.parameters).filter(([k]) => !cleared.has(k)));
  return readRequest({
    ...body,
    template: body.template ?? stack.template,
    parameters: { ...kept, ...(body.parameters ?? {}) },
    files: { ...stack.files, ...(body.files ?? {}) },
    environment: { ...body.environment, resource_registry: { ...stack.registry, ...(body.environment?.resource_registry ?? {}) } },
  });
}

/** Starts bringing the stack to a new template or new parameters. PUT gives them all (the
 * template is required); PATCH (patch) keeps what it does not give, less clear_parameters. */
export async function updateStack(store: Store, engine: Engine, auth: AuthContext, stack: StackRow, body: UpdateRequest, patch: boolean): Promise<void> {
  if (engine.isRunning(stack.id) || stack.status === 'IN_PROGRESS') {
    throw conflict(`Stack ${stack.name} is in progress (${stack.action}); wait until it ends before updating it.`, 'ActionInProgress');
  }
  if (stack.action === 'DELETE' || stack.action === 'ROLLBACK')
    throw badRequest(`Updating a stack when it is ${stack.action.toLowerCase()}d is not supported.`, 'NotSupported');
  const previous = stackTemplate(stack).t;
  const { template, active, parameters, values, sources } = readUpdate(stack, body, patch);
  await checkCustomConstraints(engine.services(auth.token), template, values);
  const timeout = body.timeout_mins === undefined || body.timeout_mins === null ? stack.timeoutMins : Number(body.timeout_mins);
  const disableRollback = body.disable_rollback === undefined ? stack.disableRollback : body.disable_rollback !== false && body.disable_rollback !== 'false';
  const updated = await store.tx(async (tx) => {
    const [row] = await tx
      .update(stacks)
      .set({
        template: active.raw,
        parameters,
        files: sources.files,
        registry: sources.registry,
        action: 'UPDATE',
        status: 'IN_PROGRESS',
        statusReason: 'Stack UPDATE started',
        timeoutMins: timeout,
        disableRollback,
        updatedAt: new Date(),
      })
      .where(eq(stacks.id, stack.id))
      .returning();
    const existing = new Set(
      (await tx.select({ name: stackResources.name }).from(stackResources).where(eq(stackResources.stackId, stack.id))).map((r) => r.name),
    );
    const added = Object.entries(active.resources).filter(([name]) => !existing.has(name));
    if (added.length)
      await tx.insert(stackResources).values(added.map(([name, r]) => ({ stackId: stack.id, name, type: r.type, action: 'INIT', status: 'COMPLETE' })));
    await recordEvent(tx, stack.id, {
      resourceName: stack.name,
      physicalId: stack.id,
      action: 'UPDATE',
      status: 'IN_PROGRESS',
      reason: 'Stack UPDATE started',
    });
    return row!;
  });
  engine.update(updated, previous, auth.token);
}

/** Starts removing the stack and all it made; refused while another action runs on it. */
export async function deleteStack(store: Store, engine: Engine, auth: AuthContext, stack: StackRow): Promise<void> {
  if (engine.isRunning(stack.id)) {
    if (stack.action === 'DELETE') return;
    throw conflict(`Stack ${stack.name} is in progress (${stack.action}); wait until it ends before deleting it.`, 'ActionInProgress');
  }
  const started = { ...stack, action: 'DELETE', status: 'IN_PROGRESS', statusReason: 'Stack DELETE started' };
  await store.tx(async (tx) => {
    await tx
      .update(stacks)
      .set({ action: 'DELETE', status: 'IN_PROGRESS', statusReason: 'Stack DELETE started', updatedAt: new Date() })
      .where(eq(stacks.id, stack.id));
    await recordEvent(tx, stack.id, {
      resourceName: stack.name,
      physicalId: stack.id,
      action: 'DELETE',
      status: 'IN_PROGRESS',
      reason: 'Stack DELETE started',
    });
  });
  engine.delete(started, auth.token);
}
