import { TemplateError } from './functions.ts';
import { defined, type ResourceType } from './resources/types.ts';
import { RESOURCE_TYPES } from './resources/index.ts';
import { readTemplate, templateBody } from './template.ts';

/** What a template's types and get_file are resolved against: the client's files map (by the
 * names the template uses) and the environment's resource_registry. */
export interface Sources {
  files: Record<string, string>;
  registry: Record<string, unknown>;
}

/**
 * The resource type a name stands for: the environment's mapping of it first (to another type or
 * to a template file), then Nubo's own types, then a template of the files map (a template
 * resource, made as a nested stack). at: the place in the template, for a nested template's errors.
 */
export function typeNamed(name: string, sources: Sources, at = 'resources'): ResourceType | undefined {
  const mapped = sources.registry[name];
  if (typeof mapped === 'string' && mapped !== name) {
    // Inside what it maps to, the mapping no longer applies: a template standing for
    // OS::Nova::Server may itself hold an OS::Nova::Server.
    const { [name]: _, ...rest } = sources.registry;
    return typeNamed(mapped, { ...sources, registry: rest }, at);
  }
  if (RESOURCE_TYPES[name]) return RESOURCE_TYPES[name];
  const text = sources.files[name];
  return text === undefined ? undefined : templateResource(text, sources, at);
}

const made = new Map<string, ResourceType>();

/** A resource whose type is a template: its properties are the template's parameters, its
 * attributes the template's outputs, and it is made as a nested stack of that template. */
function templateResource(text: string, sources: Sources, at: string): ResourceType {
  const key = JSON.stringify([text, sources.registry]);
  const known = made.get(key);
  if (known) return known;
  let nested;
  try {
    nested = readTemplate(templateBody(text), sources);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`${at}: nested template: ${err.message}`);
    throw err;
  }
  const params = Object.keys(nested.parameters);
  const type: ResourceType = {
    properties: params,
    required: params.filter((p) => nested.parameters[p]!.default === undefined),
    attributes: [...Object.keys(nested.outputs), 'OS::stack_id'],
    updatable: params,
    async create(ctx, p) {
      const view = await ctx.nested.create({ template: nested.raw, parameters: defined(p), registry: sources.registry });
      return { id: view.id, data: { outputs: view.outputs } };
    },
    async update(ctx, id, changed) {
      const view = await ctx.nested.update(id, { template: nested.raw, parameters: changed, registry: sources.registry });
      return { outputs: view.outputs };
    },
    delete: (ctx, id) => ctx.nested.delete(id),
    attribute: (data, name) => (name === 'OS::stack_id' ? undefined : data.outputs?.[name]),
    nested: true,
  };
  made.set(key, type);
  return type;
}
