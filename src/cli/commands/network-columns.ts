import { InvalidArgumentError } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { SdkError, type NetworkClient, type Resource, type ResourceKind } from '../../client/network.ts';
import { deleteCounted } from '../context.ts';
import { Formatted, text } from '../output.ts';
import { formatDict } from './compute-columns.ts';

// How openstackclient shows Neutron resources. Its `show` prints every attribute openstacksdk's
// resource class declares (whether the API sent it or not), under the class's attribute names
// renamed by a per-command map, sorted; its formatters print some values one way in tables and
// another to machines.

/** One attribute of an openstacksdk resource as openstackclient shows it. */
export interface Field {
  /** The column openstackclient shows it under. */
  column: string;
  /** The key of the API's body it is read from (default: the column). */
  key?: string;
  /** Read from this key when the body lacks `key` (openstacksdk's alias: tenant_id for project_id). */
  alias?: string;
  /** openstacksdk's default when the body has neither. */
  fallback?: unknown;
  format?: (value: unknown) => unknown;
  /** Shown only when the API gave it a value (router's ha and distributed). */
  ifSet?: boolean;
}

/** A value as openstacksdk reads it off a body. */
export function valueOf(body: Record<string, unknown>, f: Pick<Field, 'column' | 'key' | 'alias' | 'fallback'>): unknown {
  const key = f.key ?? f.column;
  if (key in body) return body[key];
  if (f.alias && f.alias in body) return body[f.alias];
  return f.fallback ?? null;
}

/** The fields of a resource in Python's sorted() order, each read and formatted. */
export function showFields(body: Record<string, unknown>, fields: Field[]): Record<string, unknown> {
  return Object.fromEntries(
    fields
      .filter((f) => !f.ifSet || valueOf(body, f) !== null)
      .map((f): [string, unknown] => {
        const value = valueOf(body, f);
        return [f.column, f.format ? f.format(value) : value];
      })
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

// The formatted columns of openstackclient's network commands.

const pySorted = (items: unknown[]) => [...items].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));

/** AdminStateColumn: UP or DOWN. */
export const adminState = (v: unknown) => new Formatted(v, v ? 'UP' : 'DOWN');

/** RouterExternalColumn: External or Internal. */
export const routerExternal = (v: unknown) => new Formatted(v, v ? 'External' : 'Internal');

/** ListColumn: items sorted, comma-separated. */
export const list = (v: unknown) => new Formatted(v, Array.isArray(v) ? pySorted(v).map(text).join(', ') : text(v));

/** DictColumn: `k='v', …`; to machines, the mapping ({} for none). */
export const dict = (v: unknown) => new Formatted(v ?? {}, v && typeof v === 'object' ? formatDict(v as Record<string, unknown>) : text(v));

/** ListDictColumn (osc-lib's format_list_of_dicts): one `k='v', …` line per mapping. */
export const listDict = (v: unknown) =>
  new Formatted(v, Array.isArray(v) ? v.map((d) => formatDict((d ?? {}) as Record<string, unknown>)).join('\n') : text(v));

/** Routes and host routes, shown with `gateway` for Neutron's `nexthop`, as the options take them. */
export const routes = (v: unknown) =>
  new Formatted(
    v,
    Array.isArray(v)
      ? v
          .map((r: Record<string, unknown>) => {
            const { nexthop, ...rest } = r;
            return formatDict(nexthop === undefined ? r : { ...rest, gateway: nexthop });
          })
          .join('\n')
      : text(v),
  );

/** AllocationPoolsColumn: `start-end,start-end`. */
export const allocationPools = (v: unknown) =>
  new Formatted(v, Array.isArray(v) ? v.map((p: { start?: string; end?: string }) => `${p.start ?? ''}-${p.end ?? ''}`).join(',') : text(v));

/** Python's json.dumps with its default separators and ASCII escapes. */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** RouterInfoColumn: the value as JSON. */
export const routerInfo = (v: unknown) => new Formatted(v, pyJson(v));

/** osc-lib's format_dict used as a plain formatter: the text in every format. */
export const dictText = (v: unknown) => (v && typeof v === 'object' ? formatDict(v as Record<string, unknown>) : v);

/** A security group's rules, each without what the group says already or what is empty. */
export const groupRules = (v: unknown) =>
  new Formatted(
    v,
    Array.isArray(v)
      ? v
          .map((rule: Record<string, unknown>) =>
            formatDict(
              Object.fromEntries(
                Object.entries(rule).filter(
                  ([k, x]) =>
                    !['security_group_id', 'tenant_id', 'project_id'].includes(k) &&
                    x !== null &&
                    x !== '' &&
                    x !== 0 &&
                    x !== false &&
                    !(Array.isArray(x) && !x.length) &&
                    !(typeof x === 'object' && x && !Object.keys(x).length),
                ),
              ),
            ),
          )
          .join('\n')
      : text(v),
  );

// Parsing of openstackclient's options.

/** osc-lib's MultiKeyValueAction: `k=v,k2=v2` with these keys (repeatable). */
export function keyValues(required: string[], optional: string[] = []) {
  return (value: string, previous?: Record<string, string>[] | false): Record<string, string>[] => {
    const params: Record<string, string> = {};
    for (const kv of value.split(',')) {
      const at = kv.indexOf('=');
      if (at < 0) throw new InvalidArgumentError(`Expected comma separated 'key=value' pairs, but got: ${kv}`);
      if (at === 0) throw new InvalidArgumentError(`Each property key must be specified: ${kv}`);
      params[kv.slice(0, at)] = kv.slice(at + 1);
    }
    const valid = [...required, ...optional];
    const invalid = Object.keys(params).filter((k) => !valid.includes(k));
    if (invalid.length) throw new InvalidArgumentError(`Invalid keys ${invalid.join(', ')} specified.\nValid keys are: ${valid.join(', ')}`);
    const absent = required.filter((k) => !(k in params));
    if (absent.length) throw new InvalidArgumentError(`Missing required keys ${absent.join(', ')}.\nRequired keys are: ${required.join(', ')}`);
    return [...(previous || []), params];
  };
}

/** For options given more than once, beside a --no-… form (which commander reads as false). */
export const append = (value: string, previous?: string[] | false) => [...(previous || []), value];

/** --fixed-ip subnet=…,ip-address=… as the API takes it, subnets named or by ID. */
export async function fixedIps(net: NetworkClient, specs: Record<string, string>[]): Promise<Record<string, string>[]> {
  return Promise.all(
    specs.map(async ({ subnet, 'ip-address': ip, ...rest }) => ({
      ...rest,
      ...(subnet ? { subnet_id: (await net.find('subnet', subnet)).id } : {}),
      ...(ip !== undefined ? { ip_address: ip } : {}),
    })),
  );
}

/**
 * openstackclient's commands that serve both Neutron and nova-network (network, floating ip and
 * security group create and show) add `Error while executing command: ` to an HTTP failure.
 */
export async function asShowOne<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SdkError && err.http) throw new ClientError(`Error while executing command: ${err.summary}${err.details ? `, ${err.details}` : ''}`);
    throw err;
  }
}

/**
 * Deletes each named resource, going on after a failure, as openstackclient's network commands
 * do: a line per failure, then a count, even for one name.
 */
export const deleteAll = (net: NetworkClient, kind: ResourceKind, word: string, refs: string[]) =>
  deleteCounted(
    refs,
    `${word}s`,
    (ref) => `Failed to delete ${word} with name or ID '${ref}'`,
    async (ref) => net.delete(kind, (await net.find(kind, ref)).id),
  );

/** The rows of a listing: each resource's columns, read off its body and formatted. */
export const rows = (items: Resource[], fields: Field[]) => items.map((r) => fields.map((f) => (f.format ? f.format(valueOf(r, f)) : valueOf(r, f))));
