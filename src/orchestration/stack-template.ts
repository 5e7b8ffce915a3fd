import { dig, TemplateError, type Scope } from './functions.ts';
import { typeNamed, type Sources } from './registry.ts';
import type { ResourceType } from './resources/index.ts';
import type { stackResources, stacks } from './tables.ts';
import { activeTemplate, conditionScope, parameterValues, readTemplate, type Template } from './template.ts';

// A stored stack's template, read as its parameters, files and registry make it, and the scope
// its functions are evaluated in: shared by the engine, the outputs and the API's views.

export type StackRow = typeof stacks.$inferSelect;
export type ResourceRow = typeof stackResources.$inferSelect;

/** The pseudo parameters every template may read, beside its own. */
export const pseudoParameters = (stack: StackRow) => ({ 'OS::stack_id': stack.id, 'OS::stack_name': stack.name, 'OS::project_id': stack.projectId });

export const sourcesOfStack = (stack: { files: Record<string, string>; registry: Record<string, unknown> }): Sources => ({
  files: stack.files,
  registry: stack.registry,
});

/** The type of one of the stack's resources, through the stack's registry and files. */
export function typeOf(stack: StackRow, name: string): ResourceType {
  const type = typeNamed(name, sourcesOfStack(stack));
  if (!type) throw new TemplateError(`The Resource Type (${name}) could not be found.`);
  return type;
}

/** A stored stack's template as its parameters make it (the resources and outputs whose condition
 * holds), with the parameters' values, the pseudo ones among them. */
export function stackTemplate(stack: StackRow): { t: Template; params: Record<string, unknown> } {
  const read = readTemplate(stack.template, sourcesOfStack(stack));
  const params = { ...parameterValues(read, stack.parameters), ...pseudoParameters(stack) };
  return { t: activeTemplate(read, params), params };
}

/** The scope in which a stack's functions are evaluated: its parameters and conditions, and the
 * ids and attributes of the resources made so far. */
export function scopeOf(t: Template, params: Record<string, unknown>, rows: Map<string, ResourceRow>): Scope {
  return {
    ...conditionScope(t, params),
    resource: (name) => rows.get(name)?.physicalId ?? null,
    attr(name, path) {
      const row = rows.get(name);
      const def = t.resources[name];
      // A resource its condition left out has no attributes.
      if (!def) return null;
      const type = typeNamed(def.type, t.sources)!;
      const [attribute, ...rest] = path.map(String);
      if (!row?.physicalId) return null;
      if (attribute === undefined || attribute === 'show') return dig(row.data, rest);
      if (!type.attributes.includes(attribute) && !type.hasAttribute?.(attribute))
        throw new TemplateError(`The Referenced Attribute (${name} ${attribute}) is incorrect.`);
      const value = type.attribute?.(row.data, attribute) ?? row.data[attribute];
      return dig(value, rest);
    },
  };
}
