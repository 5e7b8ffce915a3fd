import { Option, type Command } from 'commander';
import { ClientError } from '../client/errors.ts';
import { collect } from './options.ts';

/** A number openstackclient holds as a Python float, which it prints with a decimal point
 * (1.0) in every format, where JavaScript would print 1. */
export class Float {
  constructor(readonly value: number) {}
  toString(): string {
    const v = this.value;
    return Number.isInteger(v) && Math.abs(v) < 1e16 ? v.toFixed(1) : String(v);
  }
}

/** A value shown one way in tables and another to machines (json, yaml, value), as
 * openstackclient shows a catalog's endpoints. */
export class Formatted {
  constructor(
    readonly machine: unknown,
    readonly human: string,
  ) {}
}

interface OutputOptions {
  format: string;
  column?: string[];
  noindent?: boolean;
  prefix?: string;
  sortColumn?: string[];
  sortDescending?: boolean;
}

function common(cmd: Command, formats: string[]): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'the output format').choices(formats).default('table'))
    .option('-c, --column <column>', 'show this column (repeat for more)', collect)
    .option('--noindent', 'print JSON on one line');
}

/** The output options of a command that shows one resource. */
export const showOptions = (cmd: Command) =>
  common(cmd, ['json', 'shell', 'table', 'value', 'yaml']).option('--prefix <prefix>', 'prefix for the variable names of -f shell', '');

/** The output options of a command that lists resources. */
export const listOptions = (cmd: Command) =>
  common(cmd, ['csv', 'json', 'table', 'value', 'yaml'])
    .option('--sort-column <column>', 'sort by this column (repeat for more)', collect)
    .option('--sort-ascending', 'sort ascending (the default)')
    .addOption(new Option('--sort-descending', 'sort descending').conflicts('sortAscending'));

// Python's repr, which openstackclient prints for values inside lists and mappings.
function repr(value: unknown): string {
  if (typeof value !== 'string') return text(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

/** A value as Python's str() writes it, which is how openstackclient prints it in tables. */
export function text(value: unknown): string {
  if (value instanceof Formatted) return text(value.machine);
  if (value === null || value === undefined) return 'None';
  if (value instanceof Float) return value.toString();
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(repr).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${repr(k)}: ${repr(v)}`)
      .join(', ')}}`;
  return String(value);
}

const machine = (value: unknown) => (value instanceof Formatted ? value.machine : value);
const human = (value: unknown) => (value instanceof Formatted ? value.human : text(value));

/** The columns -c picked, in their original order; none recognised is an error, as in cliff. */
function pick(columns: string[], wanted: string[] | undefined): number[] {
  if (!wanted?.length) return columns.map((_, i) => i);
  const picked = columns.flatMap((c, i) => (wanted.includes(c) ? [i] : []));
  if (!picked.length) {
    throw new ClientError(`No recognized column names in [${wanted.map(repr).join(', ')}]. Recognized columns are (${columns.map(repr).join(', ')}).`);
  }
  return picked;
}

/** cliff right-aligns a column whose first value is a number. */
async function table(head: string[], rows: string[][], numeric: boolean[] = []): Promise<string> {
  const { default: Table } = await import('cli-table3');
  // prettytable's ASCII look, which openstackclient prints.
  const chars = {
    top: '-',
    'top-mid': '+',
    'top-left': '+',
    'top-right': '+',
    bottom: '-',
    'bottom-mid': '+',
    'bottom-left': '+',
    'bottom-right': '+',
    left: '|',
    'left-mid': '+',
    mid: '-',
    'mid-mid': '+',
    right: '|',
    'right-mid': '+',
    middle: '|',
  };
  const colAligns = head.map((_, i) => (numeric[i] ? ('right' as const) : ('left' as const)));
  const t = new Table({ head, chars, colAligns, style: { head: [], border: [], compact: true } });
  t.push(...rows);
  return t.toString() + '\n';
}

async function yaml(data: unknown): Promise<string> {
  const { stringify, Scalar } = await import('yaml');
  const floats = (v: unknown): unknown =>
    v instanceof Float
      ? Object.assign(new Scalar(v.value), { minFractionDigits: 1 })
      : // PyYAML writes a string of several lines single-quoted, folded, never as a block.
        typeof v === 'string' && v.includes('\n')
        ? Object.assign(new Scalar(v), { type: Scalar.QUOTE_SINGLE })
        : Array.isArray(v)
          ? v.map(floats)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, floats(x)]))
            : v;
  // PyYAML's layout, which openstackclient prints: keys sorted, list items level with their key,
  // and YAML 1.1's types, so that strings reading as dates or yes/no are quoted as PyYAML does.
  return stringify(floats(data), { indentSeq: false, sortMapEntries: true, singleQuote: true, version: '1.1' });
}

/** Loads what the command's output format needs, ahead of printing. */
export async function preload(cmd: Command): Promise<void> {
  const format = cmd.opts<Partial<OutputOptions>>().format;
  if (format === 'table') await import('cli-table3');
  else if (format === 'yaml') await import('yaml');
}

// Python's json.dumps: without indent (--noindent) `, ` and `: ` between items; with it, items on
// their own lines. Undefined members are left out, as JSON.stringify leaves them.
function dumps(v: unknown, indent?: string, depth = 0): string {
  if (v instanceof Float) return v.toString();
  const pad = indent === undefined ? '' : '\n' + indent.repeat(depth + 1);
  const end = indent === undefined ? '' : '\n' + indent.repeat(depth);
  const sep = indent === undefined ? ', ' : ',';
  if (Array.isArray(v)) return v.length ? `[${v.map((x) => pad + (x === undefined ? 'null' : dumps(x, indent, depth + 1))).join(sep)}${end}]` : '[]';
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return entries.length ? `{${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${dumps(x, indent, depth + 1)}`).join(sep)}${end}}` : '{}';
  }
  return JSON.stringify(v);
}

const json = (data: unknown, o: OutputOptions) => dumps(data, o.noindent ? undefined : '  ') + '\n';

/** Prints one resource as Field/Value pairs, in the order given. */
export async function printShow(cmd: Command, data: Record<string, unknown>): Promise<void> {
  const o = cmd.opts<OutputOptions>();
  const names = Object.keys(data);
  const fields = pick(names, o.column).map((i) => names[i]!);
  let out: string;
  switch (o.format) {
    case 'json':
      out = json(Object.fromEntries(fields.map((f) => [f, machine(data[f])])), o);
      break;
    case 'yaml':
      // cliff dumps one field after the other, in the command's order (usage show's is not sorted).
      out = (await Promise.all(fields.map((f) => yaml({ [f]: machine(data[f]) })))).join('');
      break;
    case 'value':
      out = fields.map((f) => text(data[f]) + '\n').join('');
      break;
    case 'shell':
      out = fields.map((f) => `${o.prefix ?? ''}${f.replace(/[:-]/g, '_')}="${text(data[f]).replace(/"/g, '\\"')}"\n`).join('');
      break;
    default:
      // Nothing to show is an empty line, as cliff prints it (keypair create, which printed the key).
      out = fields.length
        ? await table(
            ['Field', 'Value'],
            fields.map((f) => [f, human(data[f])]),
          )
        : '\n';
  }
  process.stdout.write(out);
}

function compare(a: unknown, b: unknown): number {
  if (a instanceof Float) a = a.value;
  if (b instanceof Float) b = b.value;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0;
}

const csvCell = (v: unknown) =>
  typeof v === 'number' || typeof v === 'boolean' || v instanceof Float ? text(v) : `"${(v === null || v === undefined ? '' : text(v)).replace(/"/g, '""')}"`;

/** Prints rows under the given column headings; an empty list prints an empty line, as cliff does. */
export async function printList(cmd: Command, columns: string[], rows: unknown[][]): Promise<void> {
  const o = cmd.opts<OutputOptions>();
  const sortBy = (o.sortColumn ?? []).map((c) => columns.indexOf(c)).filter((i) => i >= 0);
  const sorted = sortBy.length
    ? [...rows].sort((a, b) => {
        for (const i of sortBy) {
          const c = compare(machine(a[i]), machine(b[i]));
          if (c) return o.sortDescending ? -c : c;
        }
        return 0;
      })
    : rows;
  const idx = pick(columns, o.column);
  const head = idx.map((i) => columns[i]!);
  const cells = sorted.map((row) => idx.map((i) => row[i]));
  const records = () => cells.map((row) => Object.fromEntries(row.map((v, j) => [head[j]!, machine(v)])));
  let out: string;
  switch (o.format) {
    case 'json':
      out = json(records(), o);
      break;
    case 'yaml':
      out = await yaml(records());
      break;
    case 'value':
      out = cells.map((row) => row.map(text).join(' ') + '\n').join('');
      break;
    case 'csv':
      out = [head.map(csvCell), ...cells.map((row) => row.map((v) => csvCell(machine(v))))].map((r) => r.join(',') + '\n').join('');
      break;
    default:
      out = cells.length
        ? await table(
            head,
            cells.map((row) => row.map(human)),
            // As cliff: a column is numeric by its first value's type; a formatted one is text.
            cells[0]!.map((v) => typeof v === 'number' || v instanceof Float),
          )
        : '\n';
  }
  process.stdout.write(out);
}

/** A resource's fields as openstackclient shows them: sorted by name, without `links`. */
export function fieldsOf(resource: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(resource)
      .filter(([key]) => key !== 'links')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
