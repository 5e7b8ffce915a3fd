import type { ErrorObject } from 'ajv';

type Schema = Record<string, unknown>;

/** The JSON type of a value, as JSON Schema names them. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The one key a branch of a tagged union requires, as Nova's actions do ({"os-stop": null}). */
function tagOf(branch: Schema): string | undefined {
  const { required } = branch;
  return branch.type === 'object' && Array.isArray(required) && required.length === 1 ? String(required[0]) : undefined;
}

/** Whether a value of that JSON type could satisfy the branch, whatever else the branch asks. */
function fits(branch: Schema, type: string): boolean {
  if ('const' in branch) return jsonType(branch.const) === type;
  const types = ([] as unknown[]).concat(branch.type ?? []);
  return types.length === 0 || types.includes(type) || (type === 'integer' && types.includes('number'));
}

const describe = (branch: Schema) => ('const' in branch ? JSON.stringify(branch.const) : String(branch.type ?? 'any value'));

const pathOf = (context: string, instancePath: string) => `${context}${instancePath.replaceAll('/', '.')}`;

/**
 * One line that says what is wrong with a request part, from Ajv's errors (compiled with
 * `verbose`, so that each error carries its schema and data). A union (anyOf/oneOf) that no
 * branch satisfies is explained by the branch the value was meant for, or else by the list of
 * alternatives: Ajv's own first error would name the first branch's complaint, which misleads.
 */
export function validationMessage(errors: ErrorObject[], context: string): string {
  // The outermost union that failed is the last error (Ajv reports a union after its branches).
  const union = [...errors].reverse().find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (!union || !Array.isArray(union.schema)) {
    const first = errors[0];
    if (!first) return `Invalid input for ${context}.`;
    const extra = first.keyword === 'additionalProperties' ? ` ('${String(first.params.additionalProperty)}')` : '';
    return `Invalid input for ${pathOf(context, first.instancePath)}: ${first.message}${extra}`;
  }
  const at = pathOf(context, union.instancePath);
  const branches = union.schema as Schema[];
  const within = (i: number) => errors.filter((e) => e.schemaPath.startsWith(`${union.schemaPath}/${i}/`));
  if (union.params.passingSchemas) return `Invalid input for ${at}: it matches more than one of ${branches.map(describe).join(', ')}.`;

  const tags = branches.map(tagOf);
  const data = union.data;
  if (tags.every((t) => t !== undefined) && jsonType(data) === 'object') {
    const keys = Object.keys(data as object);
    const meant = keys.length === 1 ? tags.indexOf(keys[0]!) : -1;
    if (meant >= 0) return validationMessage(within(meant), context);
    const got = keys.length ? `, got ${keys.join(', ')}` : '';
    return `Invalid input for ${at}: expected exactly one of ${tags.join(', ')}${got}.`;
  }
  const type = jsonType(data);
  const fitting = branches.flatMap((b, i) => (fits(b, type) ? [i] : []));
  if (fitting.length === 1 && !('const' in branches[fitting[0]!]!)) return validationMessage(within(fitting[0]!), context);
  const names = [...new Set(branches.map(describe))];
  const allConst = branches.every((b) => 'const' in b);
  return `Invalid input for ${at}: must be ${allConst ? `one of ${names.join(', ')}` : names.join(' or ')}.`;
}
