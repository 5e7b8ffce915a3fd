import { parse as parseYaml } from 'yaml';
import { checkCondition, checkFunctions, conditionHolds, inlineFiles, references, TemplateError, type Names, type Scope } from './functions.ts';
import { typeNamed, type Sources } from './registry.ts';

/** The HOT versions Heat accepts, with the release names that stand for some of them. */
export const HOT_VERSIONS: Record<string, string[]> = {
  '2013-05-23': [],
  '2014-10-16': [],
  '2015-04-30': [],
  '2015-10-15': [],
  '2016-04-08': [],
  '2016-10-14': ['newton'],
  '2017-02-24': ['ocata'],
  '2017-09-01': ['pike'],
  '2018-03-02': ['queens'],
  '2018-08-31': ['rocky'],
  '2021-04-16': ['wallaby'],
};
const ALIASES = new Map(Object.entries(HOT_VERSIONS).flatMap(([v, names]) => names.map((n) => [n, v] as const)));

const PARAMETER_TYPES = ['string', 'number', 'json', 'comma_delimited_list', 'boolean'];
const TOP_LEVEL = ['heat_template_version', 'description', 'parameter_groups', 'parameters', 'resources', 'outputs', 'conditions'];
const RESOURCE_KEYS = ['type', 'properties', 'depends_on', 'metadata', 'deletion_policy', 'update_policy', 'description', 'condition', 'external_id'];

export interface Parameter {
  type: string;
  default?: unknown;
  description?: string;
  label?: string;
  hidden?: boolean;
  constraints?: Record<string, any>[];
}

export interface ResourceDef {
  type: string;
  properties: Record<string, unknown>;
  dependsOn: string[];
  deletionPolicy?: string;
  /** Made only where this condition holds. */
  condition?: unknown;
}

export interface Template {
  raw: Record<string, unknown>;
  version: string;
  description: string;
  parameters: Record<string, Parameter>;
  resources: Record<string, ResourceDef>;
  outputs: Record<string, { value: unknown; description?: string; condition?: unknown }>;
  conditions: Record<string, unknown>;
  sources: Sources;
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The template a request carries: already a map (the clients parse YAML themselves), or text. */
export function templateBody(template: unknown): Record<string, unknown> {
  if (typeof template === 'string') {
    let parsed: unknown;
    try {
      parsed = parseYaml(template);
    } catch (err) {
      throw new TemplateError(`Error parsing template: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!isObject(parsed)) throw new TemplateError('The template is not a JSON object or YAML mapping.');
    return parsed;
  }
  if (!isObject(template)) throw new TemplateError('The template is not a JSON object or YAML mapping.');
  return template;
}

/** Reads and checks a HOT template: its version, sections, parameter declarations, resource
 * types, function calls and references, and that its dependencies have no cycle. */
export function readTemplate(raw: Record<string, unknown>, sources: Sources = { files: {}, registry: {} }): Template {
  const declared = raw.heat_template_version;
  const version =
    typeof declared === 'string' ? (ALIASES.get(declared) ?? declared) : declared instanceof Date ? declared.toISOString().slice(0, 10) : String(declared);
  if (!(version in HOT_VERSIONS)) {
    if (declared === undefined) throw new TemplateError('Template format version not found.');
    throw new TemplateError(
      `The template version is invalid: "heat_template_version: ${String(declared)}". "heat_template_version" should be one of: ${Object.keys(HOT_VERSIONS).join(', ')}, ${[...ALIASES.keys()].join(', ')}`,
    );
  }
  for (const key of Object.keys(raw)) if (!TOP_LEVEL.includes(key)) throw new TemplateError(`"${key}" is not a valid template section`);

  const parameters: Record<string, Parameter> = {};
  for (const [name, p] of Object.entries(section(raw, 'parameters'))) {
    if (!isObject(p)) throw new TemplateError(`parameters.${name}: must be a map.`);
    if (!PARAMETER_TYPES.includes(p.type)) throw new TemplateError(`parameters.${name}: Invalid type (${String(p.type)})`);
    if (p.constraints !== undefined && !Array.isArray(p.constraints)) throw new TemplateError(`parameters.${name}.constraints: must be a list.`);
    parameters[name] = { type: p.type, default: p.default, description: p.description, label: p.label, hidden: p.hidden === true, constraints: p.constraints };
  }

  const conditions = section(raw, 'conditions');
  const names: Names = {
    params: new Set(Object.keys(parameters)),
    resources: new Set(Object.keys(section(raw, 'resources'))),
    conditions: new Set(Object.keys(conditions)),
  };
  for (const [name, c] of Object.entries(conditions)) checkCondition(c, names, `conditions.${name}`);
  const resources: Record<string, ResourceDef> = {};
  for (const [name, r] of Object.entries(section(raw, 'resources'))) {
    const at = `resources.${name}`;
    if (!isObject(r)) throw new TemplateError(`${at}: must be a map.`);
    for (const key of Object.keys(r))
      if (!RESOURCE_KEYS.includes(key)) throw new TemplateError(`${at}: "${key}" is not a valid keyword inside a resource definition`);
    if (typeof r.type !== 'string') throw new TemplateError(`${at}: Resource ${name} is missing "type"`);
    const type = typeNamed(r.type, sources, at);
    if (!type) throw new TemplateError(`${at}: The Resource Type (${r.type}) could not be found.`);
    const properties = inlineFiles(r.properties ?? {}, sources.files, `${at}.properties`);
    if (!isObject(properties)) throw new TemplateError(`${at}.properties: must be a map.`);
    for (const key of Object.keys(properties)) {
      if (!type.properties.includes(key)) throw new TemplateError(`${at}.properties: Unknown Property ${key}`);
    }
    for (const key of type.required ?? []) {
      if (properties[key] === undefined) throw new TemplateError(`${at}.properties: Property ${key} not assigned`);
    }
    checkFunctions(properties, names, `${at}.properties`);
    const dependsOn = r.depends_on === undefined ? [] : Array.isArray(r.depends_on) ? r.depends_on : [r.depends_on];
    for (const d of dependsOn) {
      if (typeof d !== 'string' || !names.resources.has(d))
        throw new TemplateError(`${at}.depends_on: The specified reference "${String(d)}" is incorrect: no such resource.`);
    }
    if (r.deletion_policy !== undefined && !['Delete', 'Retain'].includes(r.deletion_policy)) {
      throw new TemplateError(`${at}.deletion_policy: "${String(r.deletion_policy)}" is not one of Delete, Retain.`);
    }
    if (r.condition !== undefined) checkCondition(r.condition, names, `${at}.condition`);
    resources[name] = {
      type: r.type,
      properties,
      dependsOn: [...new Set([...dependsOn, ...references(properties)])],
      deletionPolicy: r.deletion_policy,
      condition: r.condition,
    };
  }

  const outputs: Template['outputs'] = {};
  for (const [key, o] of Object.entries(section(raw, 'outputs'))) {
    if (!isObject(o) || !('value' in o)) throw new TemplateError(`outputs.${key}: Each output definition must contain a value key.`);
    const value = inlineFiles(o.value, sources.files, `outputs.${key}.value`);
    checkFunctions(value, names, `outputs.${key}.value`);
    if (o.condition !== undefined) checkCondition(o.condition, names, `outputs.${key}.condition`);
    outputs[key] = { value, description: o.description, condition: o.condition };
  }
  for (const [name, r] of Object.entries(resources)) checkAttributes(r.properties, resources, sources, `resources.${name}.properties`);
  for (const [key, o] of Object.entries(outputs)) checkAttributes(o.value, resources, sources, `outputs.${key}.value`);
  const description = typeof raw.description === 'string' ? raw.description : 'No description';
  const template = { raw, version, description, parameters, resources, outputs, conditions, sources };
  implicitDependencies(template);
  creationOrder(template);
  return template;
}

/** Refuses a get_attr of an attribute its resource's type does not have (`show` is every type's). */
function checkAttributes(value: unknown, resources: Record<string, ResourceDef>, sources: Sources, at: string): void {
  if (Array.isArray(value)) return value.forEach((v, i) => checkAttributes(v, resources, sources, `${at}[${i}]`));
  if (!isObject(value)) return;
  const args = Object.keys(value).length === 1 ? value.get_attr : undefined;
  if (Array.isArray(args) && typeof args[0] === 'string' && typeof args[1] === 'string') {
    const type = typeNamed(resources[args[0]]!.type, sources)!;
    if (args[1] !== 'show' && !type.attributes.includes(args[1]) && !type.hasAttribute?.(args[1]))
      throw new TemplateError(`${at}.get_attr: The Referenced Attribute (${args[0]} ${args[1]}) is incorrect.`);
  }
  for (const [k, v] of Object.entries(value)) checkAttributes(v, resources, sources, `${at}.${k}`);
}

/** The scope of a template's conditions: its parameters' values and its conditions' truths
 * (each worked out once; one that leads back to itself is refused). */
export function conditionScope(t: Template, params: Record<string, unknown>): Scope {
  const known = new Map<string, boolean | 'working'>();
  const scope: Scope = {
    param: (name) => params[name],
    condition(name) {
      const seen = known.get(name);
      if (seen === 'working') throw new TemplateError(`conditions.${name}: Circular definition of condition "${name}"`);
      if (seen !== undefined) return seen;
      known.set(name, 'working');
      const holds = conditionHolds(t.conditions[name], scope);
      known.set(name, holds);
      return holds;
    },
    resource: () => null,
    attr: () => null,
  };
  return scope;
}

/** The template with its parameters' values known: the resources and outputs whose condition does
 * not hold are left out, and so are dependencies on them. */
export function activeTemplate(t: Template, params: Record<string, unknown>): Template {
  const scope = conditionScope(t, params);
  const on = (c: unknown) => c === undefined || conditionHolds(c, scope);
  const kept = Object.entries(t.resources).filter(([, r]) => on(r.condition));
  const names = new Set(kept.map(([n]) => n));
  const resources = Object.fromEntries(kept.map(([n, r]) => [n, { ...r, dependsOn: r.dependsOn.filter((d) => names.has(d)) }]));
  const outputs = Object.fromEntries(Object.entries(t.outputs).filter(([, o]) => on(o.condition)));
  return { ...t, resources, outputs };
}

function section(raw: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = raw[name] ?? {};
  if (!isObject(value)) throw new TemplateError(`The template section "${name}" should be a map.`);
  return value;
}

/** As Heat does, a floating IP waits for the stack's router interfaces and gateways: before
 * them, its port's subnet is not reachable from the external network and Neutron refuses it. */
function implicitDependencies(t: Template): void {
  const routed = Object.entries(t.resources).filter(([, r]) => r.type === 'OS::Neutron::RouterInterface' || r.type === 'OS::Neutron::Router');
  for (const r of Object.values(t.resources)) {
    if (r.type !== 'OS::Neutron::FloatingIP' && r.type !== 'OS::Neutron::FloatingIPAssociation') continue;
    for (const [name] of routed) if (!r.dependsOn.includes(name)) r.dependsOn.push(name);
  }
}

/** The resources in an order where each follows what it depends on; a cycle is refused. */
export function creationOrder(t: Template): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new TemplateError(`Circular Dependency Found: ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const d of t.resources[name]!.dependsOn) visit(d, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(t.resources)) visit(name, []);
  return order;
}

/** The parameters' values (partial: only those given or defaulted): the user's, else the defaults, converted to their types and checked
 * against their constraints. */
export function parameterValues(t: Template, given: Record<string, unknown>, opts: { partial?: boolean } = {}): Record<string, unknown> {
  for (const name of Object.keys(given)) {
    if (!(name in t.parameters)) throw new TemplateError(`The Parameter (${name}) was not defined in template.`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(t.parameters)) {
    const raw = given[name] ?? p.default;
    if (raw === undefined) {
      // Validating a template checks the values it is given; it needs none.
      if (opts.partial) continue;
      throw new TemplateError(`The Parameter (${name}) was not provided.`);
    }
    const value = convert(name, p.type, raw);
    checkConstraints(name, p, value);
    values[name] = value;
  }
  return values;
}

function convert(name: string, type: string, raw: unknown): unknown {
  const bad = () => new TemplateError(`Parameter '${name}' is invalid: Value '${String(raw)}' is not a valid ${type}.`);
  switch (type) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad();
      return n;
    }
    case 'boolean': {
      const s = String(raw).toLowerCase();
      if (['true', 't', 'on', 'y', 'yes', '1'].includes(s)) return true;
      if (['false', 'f', 'off', 'n', 'no', '0'].includes(s)) return false;
      throw bad();
    }
    case 'comma_delimited_list':
      return Array.isArray(raw)
        ? raw.map(String)
        : String(raw) === ''
          ? []
          : String(raw)
              .split(',')
              .map((s) => s.trim());
    case 'json':
      if (typeof raw === 'string') {
        try {
          return JSON.parse(raw);
        } catch {
          throw bad();
        }
      }
      return raw;
    default:
      if (typeof raw === 'object') throw bad();
      return String(raw);
  }
}

function checkConstraints(name: string, p: Parameter, value: unknown): void {
  for (const c of p.constraints ?? []) {
    const fail = (why: string) => new TemplateError(`Parameter '${name}' is invalid: ${c.description ?? why}`);
    if (c.range) {
      const n = Number(value);
      if ((c.range.min !== undefined && n < c.range.min) || (c.range.max !== undefined && n > c.range.max)) {
        throw fail(`${n} is out of range (min: ${c.range.min ?? 'None'}, max: ${c.range.max ?? 'None'})`);
      }
    }
    if (c.length) {
      const len = Array.isArray(value) ? value.length : String(value).length;
      if ((c.length.min !== undefined && len < c.length.min) || (c.length.max !== undefined && len > c.length.max)) {
        throw fail(`length (${len}) is out of range (min: ${c.length.min ?? 'None'}, max: ${c.length.max ?? 'None'})`);
      }
    }
    if (c.allowed_values && Array.isArray(c.allowed_values)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) {
        if (!c.allowed_values.map(String).includes(String(v))) throw fail(`"${String(v)}" is not an allowed value [${c.allowed_values.join(', ')}]`);
      }
    }
    if (c.allowed_pattern !== undefined) {
      if (!new RegExp(`^(?:${c.allowed_pattern})$`).test(String(value))) throw fail(`"${String(value)}" does not match pattern "${c.allowed_pattern}"`);
    }
  }
}
