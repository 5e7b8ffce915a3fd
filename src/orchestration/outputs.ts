import { evaluate } from './functions.ts';
import { pseudoParameters, scopeOf, sourcesOfStack, stackTemplate, type ResourceRow, type StackRow } from './stack-template.ts';
import { parameterValues, readTemplate } from './template.ts';

export interface Output {
  output_key: string;
  description: string;
  output_value: unknown;
  output_error?: string;
}

/** The stack's outputs, evaluated against what its resources are now; an output that cannot be
 * evaluated carries the reason as Heat's output_error. */
export function outputsOf(stack: StackRow, rows: ResourceRow[]): Output[] {
  const { t, params } = stackTemplate(stack);
  const scope = scopeOf(t, params, new Map(rows.map((r) => [r.name, r])));
  return Object.entries(t.outputs).map(([key, o]) => {
    const base = { output_key: key, description: o.description ?? 'No description given' };
    try {
      return { ...base, output_value: evaluate(o.value, scope) };
    } catch (err) {
      return { ...base, output_value: null, output_error: (err as Error).message };
    }
  });
}

/** The parameters as stack show prints them: strings, hidden ones masked, the pseudo ones included. */
export function shownParameters(stack: StackRow): Record<string, string> {
  const t = readTemplate(stack.template, sourcesOfStack(stack));
  const values = parameterValues(t, stack.parameters);
  const shown: Record<string, string> = { ...pseudoParameters(stack) };
  for (const [name, value] of Object.entries(values)) {
    shown[name] = t.parameters[name]!.hidden
      ? '******'
      : Array.isArray(value)
        ? value.join(',')
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  }
  return shown;
}
