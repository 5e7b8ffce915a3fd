import { sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';

// Gnocchi's resource search: a JSON tree ({"and": [{"=": {"project_id": "…"}}, …]}) or the same as
// text (project_id=… and not ended_at!=null), both turned into one SQL condition.

export type Filter = { [op: string]: unknown };

const COMPARE: Record<string, string> = {
  '=': '=', '==': '=', eq: '=',
  '!=': '<>', ne: '<>', '≠': '<>',
  '<': '<', lt: '<',
  '>': '>', gt: '>',
  '<=': '<=', le: '<=', '≤': '<=',
  '>=': '>=', ge: '>=', '≥': '>=',
  like: 'like', in: 'in',
};
const LOGIC: Record<string, 'and' | 'or'> = { and: 'and', '∧': 'and', or: 'or', '∨': 'or' };

/** Columns of every resource; any other name is an attribute of its type. */
const COLUMNS: Record<string, string> = {
  id: 'id',
  original_resource_id: 'original_resource_id',
  type: 'type',
  project_id: 'project_id',
  user_id: 'user_id',
  created_by_user_id: 'created_by_user_id',
  created_by_project_id: 'created_by_project_id',
  started_at: 'started_at',
  ended_at: 'ended_at',
  revision_start: 'revision_start',
};
const TIMES = new Set(['started_at', 'ended_at', 'revision_start']);

const NUMERIC = '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$';

/** A value the database would refuse to cast is the caller's error, not the server's. */
function timeOf(name: string, v: unknown): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw badRequest(`Invalid input: ${JSON.stringify(v)} is not a timestamp for ${name}`);
  return new Date(v).toISOString();
}
function numberOf(name: string, v: unknown): number {
  const n = Number(v);
  if (typeof v === 'boolean' || !Number.isFinite(n)) throw badRequest(`Invalid input: ${JSON.stringify(v)} is not a number for ${name}`);
  return n;
}

function operand(name: string, value: unknown): { left: SQL; right: (v: unknown) => SQL } {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw badRequest(`Invalid input: ${name} is not an attribute`);
  const column = COLUMNS[name];
  if (column === 'id') return { left: sql.raw('r.id::text'), right: (v) => sql`${String(v)}` };
  if (column && TIMES.has(column)) return { left: sql.raw(`r.${column}`), right: (v) => sql`${timeOf(name, v)}::timestamptz` };
  if (column) return { left: sql.raw(`r.${column}`), right: (v) => sql`${String(v)}` };
  // Numbers compare as numbers (a resource whose attribute is not one does not match), anything
  // else as text.
  if (typeof value === 'number') {
    const text = sql`r.attributes->>${name}`;
    return { left: sql`(case when ${text} ~ ${NUMERIC} then (${text})::float8 end)`, right: (v) => sql`${numberOf(name, v)}` };
  }
  return { left: sql`r.attributes->>${name}`, right: (v) => sql`${typeof v === 'string' ? v : JSON.stringify(v)}` };
}

/** The SQL condition of a JSON filter over the resource row aliased r. */
export function filterSql(f: unknown): SQL {
  if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).length !== 1) throw badRequest('Invalid input: a filter is an object with one operator');
  const [op, arg] = Object.entries(f)[0]!;
  const key = op.toLowerCase();
  if (LOGIC[key]) {
    if (!Array.isArray(arg) || arg.length === 0) throw badRequest(`Invalid input: ${op} takes a list`);
    return sql`(${sql.join(arg.map(filterSql), sql.raw(` ${LOGIC[key]} `))})`;
  }
  if (key === 'not') return sql`(not coalesce(${filterSql(arg)}, false))`;
  const cmp = COMPARE[key];
  if (!cmp || typeof arg !== 'object' || arg === null || Object.keys(arg).length !== 1) throw badRequest(`Invalid input: unknown operator ${op}`);
  const [name, value] = Object.entries(arg)[0]!;
  if (cmp === 'in') {
    if (!Array.isArray(value) || value.length === 0) throw badRequest('Invalid input: in takes a non-empty list');
    const { left, right } = operand(name, value[0]);
    return sql`${left} in (${sql.join(value.map(right), sql`, `)})`;
  }
  const { left, right } = operand(name, value);
  if (value === null) {
    if (cmp === '=') return sql`${left} is null`;
    if (cmp === '<>') return sql`${left} is not null`;
    throw badRequest(`Invalid input: ${op} null`);
  }
  return sql`${left} ${sql.raw(cmp)} ${right(value)}`;
}

// The text form, as `openstack metric resource search` and `aggregates` pass it.
const TOKEN = /\s*(\(|\)|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|!=|>=|<=|==|≠|≥|≤|=|<|>|∧|∨|,|\[|\]|[^\s()=<>!,"'\[\]≠≥≤∧∨]+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(text);
    if (!m) throw badRequest(`Invalid filter: cannot read ${text.slice(TOKEN.lastIndex)}`);
    tokens.push(m[1]!);
  }
  return tokens;
}

function literal(token: string | undefined): unknown {
  if (token === undefined) throw badRequest('Invalid filter: a value is missing');
  if (/^["']/.test(token)) return token.slice(1, -1).replace(/\\(.)/g, '$1');
  if (token === 'null') return null;
  if (token === 'true' || token === 'false') return token === 'true';
  if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
  return token;
}

/** Parses the text form into the JSON form. */
export function parseFilter(text: string): Filter {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i]?.toLowerCase();
  const orExpr = (): Filter => {
    const parts = [andExpr()];
    while (peek() === 'or' || peek() === '∨') (i++, parts.push(andExpr()));
    return parts.length === 1 ? parts[0]! : { or: parts };
  };
  const andExpr = (): Filter => {
    const parts = [unary()];
    while (peek() === 'and' || peek() === '∧') (i++, parts.push(unary()));
    return parts.length === 1 ? parts[0]! : { and: parts };
  };
  const unary = (): Filter => {
    if (peek() === 'not') return (i++, { not: unary() });
    if (peek() === '(') {
      i++;
      const inner = orExpr();
      if (tokens[i++] !== ')') throw badRequest('Invalid filter: a parenthesis is not closed');
      return inner;
    }
    const name = tokens[i++];
    const op = tokens[i++]?.toLowerCase();
    if (!name || !op || !COMPARE[op]) throw badRequest(`Invalid filter: expected an attribute and an operator near ${name ?? 'the end'}`);
    if (op === 'in') {
      const open = tokens[i++];
      if (open !== '[' && open !== '(') throw badRequest('Invalid filter: in takes a list in brackets');
      const values: unknown[] = [];
      while (tokens[i] !== ']' && tokens[i] !== ')') {
        values.push(literal(tokens[i++]));
        if (tokens[i] === ',') i++;
        if (i >= tokens.length) throw badRequest('Invalid filter: a list is not closed');
      }
      i++;
      return { in: { [name]: values } };
    }
    return { [op]: { [name]: literal(tokens[i++]) } };
  };
  const tree = orExpr();
  if (i !== tokens.length) throw badRequest(`Invalid filter: unexpected ${tokens[i]}`);
  return tree;
}
