import { Formatted, text } from '../output.ts';

// The formatted columns of osc-lib (format_columns), which the compute commands print: one text
// for tables, the value itself for json, yaml and value.

/** osc-lib's format_dict: `k='v', k2='v2'`, keys sorted, nested mappings flattened as a.b. */
export function formatDict(data: Record<string, unknown>, prefix?: string): string {
  return Object.keys(data)
    .sort()
    .map((k) => {
      const key = prefix ? `${prefix}.${k}` : k;
      const v = data[k];
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return formatDict(v as Record<string, unknown>, key);
      return v === null || v === undefined ? `${key}=` : `${key}='${text(v)}'`;
    })
    .join(', ');
}

/** DictColumn: a mapping. */
export const dictColumn = (d: Record<string, unknown> | null | undefined) => new Formatted(d ?? {}, formatDict(d ?? {}));

/** ListColumn: items sorted, comma-separated. */
export const listColumn = (items: string[]) => new Formatted(items, [...items].sort().join(', '));

/** ListDictColumn: one `k='v'` line per mapping. */
export const listDictColumn = (items: Record<string, unknown>[]) => new Formatted(items, items.map((d) => formatDict(d)).join('\n'));

/** DictListColumn: `label=a, b; label2=c`, as server addresses are shown. */
export const dictListColumn = (d: Record<string, string[]>) =>
  new Formatted(
    d,
    Object.keys(d)
      .sort()
      .map((k) => `${k}=${[...d[k]!].sort().join(', ')}`)
      .join('; '),
  );

const POWER_STATES = ['NOSTATE', 'Running', '', 'Paused', 'Shutdown', '', 'Crashed', 'Suspended'];

/** openstackclient's power state: a name in tables, Nova's number elsewhere. */
export const powerState = (n: number | null | undefined) => new Formatted(n ?? null, (typeof n === 'number' ? POWER_STATES[n] : undefined) ?? 'N/A');

/** Fields in Python's sorted() order, as `zip(*sorted(info.items()))` shows them. */
export const sortedFields = (info: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Python's message for a failed open(): `[Errno 2] No such file or directory: 'f'`. */
export function osError(err: unknown, path: string): string {
  const e = err as NodeJS.ErrnoException;
  const known: Record<string, [number, string]> = {
    ENOENT: [2, 'No such file or directory'],
    EACCES: [13, 'Permission denied'],
    EISDIR: [21, 'Is a directory'],
    ENOTDIR: [20, 'Not a directory'],
  };
  const [errno, message] = known[e.code ?? ''] ?? [e.errno ? -e.errno : 0, e.message];
  return `[Errno ${errno}] ${message}: '${path}'`;
}

/** Writes a line on stderr, as openstackclient logs a failure it goes on after. */
export const logError = (line: string) => process.stderr.write(line + '\n');
