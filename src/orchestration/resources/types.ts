import { randomBytes } from 'node:crypto';
import { ServiceError, type Services } from '../services.ts';
import type { Signal } from './wait.ts';

/** What a resource type is given to make or remove one resource of a stack. */
export interface ResourceContext {
  api: Services;
  projectId: string;
  stackId: string;
  stackName: string;
  name: string;
  /** Records the id of what the other service made, before the engine waits on it, so that a
   * crash while waiting leaves a resource the stack's delete still finds. */
  made(id: string): Promise<void>;
  /** When waiting for a resource's completion gives up (epoch ms). */
  deadline: number;
  /** Whether the engine is stopping: waits end at once, the stack's action left to the next start. */
  stopping(): boolean;
  /** Stacks of the resource's own (a template resource, a group's members). */
  nested: NestedStacks;
  /** The content of a SoftwareConfig or CloudConfig of the stack, by its id (a server's user_data). */
  config(id: string): Promise<string | undefined>;
  /** The signals a WaitConditionHandle of the project holds, by id; undefined when there is no such handle. */
  signals(handleId: string): Promise<Record<string, Signal> | undefined>;
}

/** A nested stack as its parent resource sees it once its action has ended. */
export interface NestedView {
  id: string;
  outputs: Record<string, unknown>;
  resources: { name: string; type: string; physicalId: string | null; data: Record<string, unknown> }[];
}

export interface NestedSpec {
  template: Record<string, unknown>;
  parameters: Record<string, unknown>;
  /** The resource_registry it is read with (the parent's, less a mapping that led to it). */
  registry?: Record<string, unknown>;
}

/** What a resource does with its nested stack; each call waits for the nested action's end and
 * fails with the nested stack's reason. */
export interface NestedStacks {
  /** Records the new stack's id as the resource's before making it. */
  create(spec: NestedSpec): Promise<NestedView>;
  /** Updates it, the parameters given over those it had (PATCH). */
  update(id: string, spec: NestedSpec, replaceParameters?: boolean): Promise<NestedView>;
  /** Deletes it with everything it made; one already gone is not an error. */
  delete(id: string): Promise<void>;
}

export interface Made {
  id: string;
  /** The other service's view of it, which the attributes are read from. */
  data: Record<string, unknown>;
}

export interface ResourceType {
  properties: string[];
  required?: string[];
  /** The attributes get_attr may name besides `show` (the whole view). */
  attributes: string[];
  create(ctx: ResourceContext, props: Record<string, any>): Promise<Made>;
  /** Removes it and waits until it is gone; one already gone is not an error. */
  delete(ctx: ResourceContext, id: string, data: Record<string, unknown>): Promise<void>;
  /** The properties an update may change in place; a change to any other replaces the resource. */
  updatable?: string[];
  /** Changes those properties in place (changed: their new values, unset ones as null); answers the new view. */
  update?(ctx: ResourceContext, id: string, changed: Record<string, any>, data: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Before a replacement is made: frees what the new one will take over from the old one
   * (given the old one's properties). */
  prepareReplace?(ctx: ResourceContext, id: string, properties: Record<string, any>): Promise<void>;
  /** An attribute computed from the view, where it is not one of the view's own fields. */
  attribute?(data: Record<string, any>, name: string): unknown;
  /** For types whose attributes depend on what they hold (a ResourceGroup's members'). */
  hasAttribute?(name: string): boolean;
  /** What a create cut short made before its id was recorded, found by the stack's id and the
   * resource's name it carries; for types whose service answers an id only once it has made it. */
  orphan?(ctx: ResourceContext): Promise<string | undefined>;
  /** Made as a nested stack: `stack resource list --nested-depth` goes into it. */
  nested?: boolean;
}

/** The name Heat gives what a resource makes when the template names none: the stack's and the
 * resource's names and a random suffix, unique across stacks. */
export const physicalName = (ctx: ResourceContext) => `${ctx.stackName}-${ctx.name}-${randomBytes(6).toString('hex')}`;

/** What a resource carries to name its stack and itself (a Neutron object's description or
 * tag), so that one whose id a crash kept from being recorded is still found (orphan). */
export const stackMarker = (ctx: Pick<ResourceContext, 'stackId' | 'name'>) => `heat_stack_id=${ctx.stackId} heat_resource_name=${ctx.name}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until check answers a value, or fails with the reason it gives, or times out. */
export async function waitFor<T>(ctx: Pick<ResourceContext, 'deadline' | 'stopping'>, what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > ctx.deadline) throw new ServiceError('Timeout', `${what} did not complete in time.`, 504);
    if (ctx.stopping()) throw new ServiceError('EngineStopping', `${what}: the engine stopped while waiting.`, 503);
    await sleep(delay);
  }
}

/** The id of a resource named by name or id, through a list call filtered by name then by id. */
export async function lookup(api: Services, type: string, path: string, key: string, ref: unknown, kind: string): Promise<string> {
  const value = String(ref);
  for (const filter of ['name', 'id']) {
    const sep = path.includes('?') ? '&' : '?';
    const body = await api.call(type, 'GET', `${path}${sep}${filter}=${encodeURIComponent(value)}`);
    const found = (body?.[key] ?? []) as { id: string; name?: string }[];
    const matching = found.filter((r) => (filter === 'name' ? r.name === value : r.id === value));
    if (matching.length > 1) throw new ServiceError('PhysicalResourceNameAmbiguity', `Multiple physical resources were found with name (${value}).`, 409);
    if (matching.length === 1) return matching[0]!.id;
  }
  throw new ServiceError('NotFound', `The ${kind} (${value}) could not be found.`, 404);
}

/** Drops the properties left unset, so that the other service applies its own defaults. */
export const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
