import { isDeepStrictEqual } from 'node:util';

/**
 * HOT's intrinsic functions: checked once against the template (validate, create), then
 * evaluated with the stack's parameters and its resources' ids and attributes.
 */

/** A template error, with the place in the template it was found at. */
export class TemplateError extends Error {}

export const FUNCTIONS = ['get_param', 'get_resource', 'get_attr', 'str_replace', 'list_join', 'str_split', 'repeat', 'if', 'get_file'] as const;

/** The functions a condition is written with (the conditions section, `if`'s first argument, a
 * resource's or an output's `condition`). */
export const CONDITION_FUNCTIONS = ['equals', 'not', 'and', 'or'] as const;

/** Heat's other functions: refused by name rather than passed on as a plain map. */
const REFUSED = [
  'yaql',
  'map_merge',
  'map_replace',
  'list_concat',
  'list_concat_unique',
  'contains',
  'digest',
  'filter',
  'make_url',
  'str_replace_strict',
  'str_replace_vstrict',
  'get_resource_attribute',
  'Fn::GetAZs',
  'Fn::Select',
];

export interface Scope {
  param(name: string): unknown;
  /** Whether a condition of the conditions section holds. */
  condition(name: string): boolean;
  /** The resource's reference: the id of what it made. */
  resource(name: string): unknown;
  attr(name: string, path: unknown[]): unknown;
}

export interface Names {
  params: Set<string>;
  resources: Set<string>;
  conditions: Set<string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The function a value calls, when it is a one-key map naming one. */
function callOf(value: unknown): [string, unknown] | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  if (REFUSED.includes(keys[0]!)) throw new TemplateError(`"${keys[0]}" is not supported by this cloud.`);
  if (!(FUNCTIONS as readonly string[]).includes(keys[0]!)) return undefined;
  return [keys[0]!, value[keys[0]!]];
}

/** Checks every function call in value: arguments of the right shape, references to parameters
 * and resources that exist. `at` names the place (resources.server.properties…). */
export function checkFunctions(value: unknown, names: Names, at: string): void {
  const call = placed(at, () => callOf(value));
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
    case 'repeat': {
      if (!isObject(args) || !isObject(args.for_each) || !('template' in args) || Object.keys(args.for_each).length === 0) {
        throw new TemplateError(`${here}: Arguments to "repeat" must be a map with "for_each" (a map of lists) and "template".`);
      }
      checkFunctions(args.for_each, names, `${here}.for_each`);
      checkFunctions(args.template, names, `${here}.template`);
      return;
    }
    case 'if': {
      if (!Array.isArray(args) || args.length !== 3) throw new TemplateError(`${here}: Arguments to "if" must be a condition and two values.`);
      checkCondition(args[0], names, `${here}[0]`);
      checkFunctions(args[1], names, `${here}[1]`);
      checkFunctions(args[2], names, `${here}[2]`);
      return;
    }
    case 'get_file':
      // Replaced by the file's content before any check (inlineFiles); one left is not in the files map.
      throw new TemplateError(`${here}: No content found in the "files" section for get_file path: ${String(args)}`);
  }
}

/** Runs check, giving a refusal without a place the place it was found at. */
function placed<T>(at: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof TemplateError && !err.message.startsWith(at)) throw new TemplateError(`${at}: ${err.message}`);
    throw err;
  }
}

/** Checks a condition: true or false, the name of one in the conditions section, or equals, not,
 * and, or over get_param and values. */
export function checkCondition(value: unknown, names: Names, at: string): void {
  if (typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (!names.conditions.has(value)) throw new TemplateError(`${at}: Invalid condition "${value}"`);
    return;
  }
  const fn = isObject(value) && Object.keys(value).length === 1 ? Object.keys(value)[0]! : undefined;
  const args = fn ? (value as Record<string, unknown>)[fn] : undefined;
  const here = `${at}.${fn}`;
  switch (fn) {
    case 'equals':
      if (!Array.isArray(args) || args.length !== 2) throw new TemplateError(`${here}: Arguments to "equals" must be a list of two values.`);
      return args.forEach((a, i) => checkFunctions(a, names, `${here}[${i}]`));
    case 'not':
      return checkCondition(args, names, here);
    case 'and':
    case 'or':
      if (!Array.isArray(args) || args.length < 2) throw new TemplateError(`${here}: Arguments to "${fn}" must be a list of two or more conditions.`);
      return args.forEach((a, i) => checkCondition(a, names, `${here}[${i}]`));
    case 'get_param':
      return checkFunctions(value, names, at);
  }
  throw new TemplateError(`${at}: Invalid condition: expected true, false, a condition's name or one of ${CONDITION_FUNCTIONS.join(', ')}.`);
}

/** A condition's truth, in the scope of the stack's parameters and its other conditions. */
export function conditionHolds(value: unknown, scope: Scope): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return scope.condition(value);
  const [fn, args] = Object.entries(value as Record<string, any>)[0]!;
  switch (fn) {
    case 'equals': {
      const [a, b] = (args as unknown[]).map((v) => evaluate(v, scope));
      return isDeepStrictEqual(a ?? null, b ?? null);
    }
    case 'not':
      return !conditionHolds(args, scope);
    case 'and':
      return (args as unknown[]).every((c) => conditionHolds(c, scope));
    case 'or':
      return (args as unknown[]).some((c) => conditionHolds(c, scope));
    default: {
      // get_param of a boolean parameter.
      const v = evaluate(value, scope);
      return v === true || String(v).toLowerCase() === 'true';
    }
  }
}

/** Value with each get_file replaced by the file's content from the client's files map. */
export function inlineFiles(value: unknown, files: Record<string, string>, at: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => inlineFiles(v, files, `${at}[${i}]`));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'get_file') {
    const path = value.get_file;
    if (typeof path !== 'string') throw new TemplateError(`${at}.get_file: Argument to "get_file" must be a string.`);
    const content = files[path];
    if (content === undefined) throw new TemplateError(`${at}.get_file: No content found in the "files" section for get_file path: ${path}`);
    return content;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inlineFiles(v, files, `${at}.${k}`)]));
}

/** repeat's result: the template once per combination of the for_each lists' items (or, without
 * permutations, once per position of lists of equal length), each key replaced by its item. */
function repeat(args: { for_each: Record<string, unknown>; template: unknown; permutations?: unknown }): unknown[] {
  const lists = Object.entries(args.for_each).map(([key, list]) => {
    if (!Array.isArray(list)) throw new TemplateError(`repeat: The values of the "for_each" argument to "repeat" must be lists`);
    return [key, list] as const;
  });
  let combos: [string, unknown][][];
  if (args.permutations === false) {
    const n = lists[0]![1].length;
    if (lists.some(([, l]) => l.length !== n)) throw new TemplateError('repeat: Lists of "for_each" must have the same length when permutations is false.');
    combos = Array.from({ length: n }, (_, i) => lists.map(([k, l]) => [k, l[i]] as [string, unknown]));
  } else {
    combos = [[]];
    for (const [key, list] of lists) combos = combos.flatMap((c) => list.map((item) => [...c, [key, item] as [string, unknown]]));
  }
  return combos.map((combo) => substitute(args.template, combo));
}

/** The value with each key replaced by its item, in strings and map keys alike. */
export function substitute(value: unknown, pairs: [string, unknown][]): unknown {
  if (typeof value === 'string') {
    const whole = pairs.find(([k]) => k === value);
    if (whole) return whole[1];
    return pairs.reduce((s, [k, v]) => s.split(k).join(text(v)), value);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, pairs));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [substitute(k, pairs) as string, substitute(v, pairs)]));
  return value;
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
    case 'repeat': {
      const args = raw as { for_each: Record<string, unknown>; template: unknown; permutations?: unknown };
      // The lists are evaluated first; the template only once each copy has its items.
      const forEach = evaluate(args.for_each, scope) as Record<string, unknown>;
      return repeat({ ...args, for_each: forEach }).map((v) => evaluate(v, scope));
    }
    case 'if': {
      const [cond, yes, no] = raw as [unknown, unknown, unknown];
      return evaluate(conditionHolds(cond, scope) ? yes : no, scope);
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
