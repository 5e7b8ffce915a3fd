import { and, eq, ne, or, sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import { alarms } from './tables.ts';

// Which alarms a list or a query asks for: Aodh's simple query (q.field, q.op, q.value, as
// `openstack alarm list --filter` sends it) and its complex query ({"=": {"name": "x"}}, as
// `alarm show NAME` and `alarm list --query` send it), both over the same fields.

const FIELDS = {
  alarm_id: alarms.id,
  name: alarms.name,
  type: alarms.type,
  state: alarms.state,
  severity: alarms.severity,
  enabled: alarms.enabled,
  project_id: alarms.projectId,
  user_id: alarms.userId,
  description: alarms.description,
} as const;

const BOOLEAN: Record<string, boolean> = { true: true, false: false, True: true, False: false };

function compare(field: string, op: string, value: unknown): SQL {
  const column = FIELDS[field as keyof typeof FIELDS];
  if (!column) throw badRequest(`Unknown query field ${field}: one of ${Object.keys(FIELDS).join(', ')}`);
  let v: unknown = value;
  if (field === 'enabled') {
    v = typeof value === 'boolean' ? value : BOOLEAN[String(value)];
    if (v === undefined) throw badRequest(`enabled is true or false, not ${JSON.stringify(value)}`);
  } else if (typeof value !== 'string' && typeof value !== 'number') throw badRequest(`A query value for ${field} is a string`);
  // The id column is a uuid: compared as text so that any string is a match or not, never an error.
  const left = field === 'alarm_id' ? sql`${column}::text` : column;
  const right = field === 'enabled' ? v : String(v);
  if (op === 'eq' || op === '=') return eq(left as never, right);
  if (op === 'ne' || op === '!=') return ne(left as never, right);
  throw badRequest(`Unsupported operator ${op} for alarms: eq or ne`);
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** q.field=…&q.op=…&q.value=…, repeated; all must hold. */
export function simpleQuery(q: Record<string, string | string[] | undefined>): SQL | undefined {
  const fields = list(q['q.field']);
  const ops = list(q['q.op']);
  const values = list(q['q.value']);
  if (fields.length !== values.length) throw badRequest('Each q.field needs its q.value');
  if (fields.length === 0) return undefined;
  return and(...fields.map((f, i) => compare(f, ops[i] ?? 'eq', values[i])));
}

/** The filter of POST /v2/query/alarms: JSON text of =, !=, and, or. */
export function complexQuery(filter: unknown): SQL | undefined {
  if (filter === undefined || filter === null || filter === '') return undefined;
  let tree: unknown;
  try {
    tree = typeof filter === 'string' ? JSON.parse(filter) : filter;
  } catch {
    throw badRequest('filter must be a JSON expression');
  }
  const walk = (node: unknown, depth: number): SQL => {
    if (depth > 20 || typeof node !== 'object' || node === null || Array.isArray(node) || Object.keys(node).length !== 1) throw badRequest('A filter is an object with one operator');
    const [op, arg] = Object.entries(node)[0]!;
    const key = op.toLowerCase();
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(arg) || arg.length === 0) throw badRequest(`${op} takes a list`);
      const parts = arg.map((a) => walk(a, depth + 1));
      return (key === 'and' ? and(...parts) : or(...parts))!;
    }
    if (typeof arg !== 'object' || arg === null || Array.isArray(arg) || Object.keys(arg).length !== 1) throw badRequest(`${op} takes one field and its value`);
    const [field, value] = Object.entries(arg)[0]!;
    return compare(field, key, value);
  };
  return walk(tree, 0);
}

/** sort=name:asc, as aodhclient sends it. */
export function readSort(v: string | string[] | undefined): { column: keyof typeof alarms.$inferSelect; desc: boolean }[] {
  const columns: Record<string, keyof typeof alarms.$inferSelect> = { name: 'name', state: 'state', severity: 'severity', type: 'type', timestamp: 'timestamp', state_timestamp: 'stateTimestamp', alarm_id: 'id' };
  return list(v).map((s) => {
    const [key = '', dir = 'asc'] = s.split(':');
    if (!columns[key] || (dir !== 'asc' && dir !== 'desc')) throw badRequest(`Invalid sort ${s}: KEY:asc|desc with KEY one of ${Object.keys(columns).join(', ')}`);
    return { column: columns[key]!, desc: dir === 'desc' };
  });
}
