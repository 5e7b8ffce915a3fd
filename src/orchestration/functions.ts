/**
 * HOT's intrinsic functions: checked once against the template (validate, create), then
 * evaluated with the stack's parameters and its resources' ids and attributes.
 */

/** A template error, with the place in the template it was found at. */
export class TemplateError extends Error {}

export const FUNCTIONS = ['get_param', 'get_resource', 'get_attr', 'str_replace', 'list_join', 'str_split'] as const;

export interface Scope {
  param(name: string): unknown;
  /** The resource's reference: the id of what it made. */
  resource(name: string): unknown;
  attr(name: string, path: unknown[]): unknown;
}

export interface Names {
  params: Set<string>;
  resources: Set<string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The function a value calls, when it is a one-key map naming one. */
function callOf(value: unknown): [string, unknown] | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || !(FUNCTIONS as readonly string[]).includes(keys[0]!)) return undefined;
  return [keys[0]!, value[keys[0]!]];
}

/** Checks every function call in value: arguments of the right shape, references to parameters
 * and resources that exist. `at` names the place (resources.server.properties…). */
export function checkFunctions(value: unknown, names: Names, at: string): void {
  const call = callOf(value);
  if (!call) {
    if (Array.isArray(value)) value.forEach((v, i) => checkFunctions(v, names, `${at}[${i}]`));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) checkFunctions(v, names, `${at}.${k}`);
    return;
  }
  const [fn, args] = call;
  const here = `${at}.${fn}`;
  switch (fn) {
    case 'get_param': {
      const name = Array.isArray(args) ? args[0] : args;
      if (typeof name !== 'string') throw new TemplateError(`${here}: Argument to "get_param" must be a parameter name or a list whose first item is one.`);
      if (!names.params.has(name) && !name.startsWith('OS::')) throw new TemplateError(`${here}: The Parameter (${name}) was not defined in template.`);
      if (Array.isArray(args)) args.slice(1).forEach((a, i) => checkFunctions(a, names, `${here}[${i + 1}]`));
      return;
    }
    case 'get_resource':
      if (typeof args !== 'string') throw new TemplateError(`${here}: Argument to "get_resource" must be a resource name.`);
      if (!names.resources.has(args)) throw new TemplateError(`${here}: The specified reference "${args}" is incorrect: no such resource.`);
      return;
    case 'get_attr': {
      if (!Array.isArray(args) || args.length < 1 || typeof args[0] !== 'string') {
        throw new TemplateError(`${here}: Arguments to "get_attr" must be of the form [resource_name, attribute, (path), ...]`);
      }
      if (!names.resources.has(args[0])) throw new TemplateError(`${here}: The specified reference "${args[0]}" is incorrect: no such resource.`);
      args.slice(1).forEach((a, i) => checkFunctions(a, names, `${here}[${i + 1}]`));
      return;
    }
    case 'str_replace': {
      if (!isObject(args) || !('template' in args) || !isObject(args.params)) {
        throw new TemplateError(`${here}: Arguments to "str_replace" must be a map with "template" and "params".`);
      }
      checkFunctions(args.template, names, `${here}.template`);
      checkFunctions(args.params, names, `${here}.params`);
      return;
    }
    case 'list_join': {
      if (!Array.isArray(args) || args.length < 2 || typeof args[0] !== 'string') {
        throw new TemplateError(`${here}: Arguments to "list_join" must be a delimiter and one or more lists.`);
      }
      args.slice(1).forEach((a, i) => checkFunctions(a, names, `${here}[${i + 1}]`));
      return;
    }
    case 'str_split': {
      if (!Array.isArray(args) || args.length < 2 || args.length > 3 || typeof args[0] !== 'string') {
        throw new TemplateError(`${here}: Arguments to "str_split" must be a delimiter, a string and an optional index.`);
      }
      args.slice(1).forEach((a, i) => checkFunctions(a, names, `${here}[${i + 1}]`));
      return;
    }
  }
}

/** The resources value refers to through get_resource and get_attr. */
export function references(value: unknown, into = new Set<string>()): Set<string> {
  const call = callOf(value);
  if (call?.[0] === 'get_resource' && typeof call[1] === 'string') into.add(call[1]);
  else if (call?.[0] === 'get_attr' && Array.isArray(call[1]) && typeof call[1][0] === 'string') {
    into.add(call[1][0]);
    call[1].slice(1).forEach((a) => references(a, into));
  } else if (Array.isArray(value)) value.forEach((v) => references(v, into));
  else if (isObject(value)) Object.values(value).forEach((v) => references(v, into));
  return into;
}

const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Value with every function call replaced by its result. */
export function evaluate(value: unknown, scope: Scope): unknown {
  const call = callOf(value);
  if (!call) {
    if (Array.isArray(value)) return value.map((v) => evaluate(v, scope));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, scope)]));
    return value;
  }
  const [fn, raw] = call;
  switch (fn) {
    case 'get_param': {
      const args = (Array.isArray(raw) ? raw : [raw]).map((a) => evaluate(a, scope));
      return dig(scope.param(String(args[0])), args.slice(1));
    }
    case 'get_resource':
      return scope.resource(String(raw));
    case 'get_attr': {
      const args = (raw as unknown[]).map((a) => evaluate(a, scope));
      return scope.attr(String(args[0]), args.slice(1));
    }
    case 'str_replace': {
      const args = evaluate(raw, scope) as { template: unknown; params: Record<string, unknown> };
      let out = text(args.template);
      // Longest keys first, so that a key inside another does not cut it.
      for (const key of Object.keys(args.params).sort((a, b) => b.length - a.length)) out = out.split(key).join(text(args.params[key]));
      return out;
    }
    case 'list_join': {
      const [delim, ...lists] = evaluate(raw, scope) as [string, ...unknown[]];
      return lists
        .flatMap((l) => (Array.isArray(l) ? l : typeof l === 'string' ? [l] : []))
        .map(text)
        .join(delim);
    }
    case 'str_split': {
      const [delim, str, index] = evaluate(raw, scope) as [string, unknown, unknown];
      const parts = text(str).split(delim);
      return index === undefined ? parts : parts[Number(index)];
    }
  }
  return undefined;
}

/** A path of keys and indexes into a value (get_attr's and get_param's extra arguments). */
export function dig(value: unknown, path: unknown[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined) return null;
    v = Array.isArray(v) ? v[Number(key)] : (v as Record<string, unknown>)[String(key)];
  }
  return v ?? null;
}
