import { badRequest } from '../lib/errors.ts';
import type { SQL } from 'drizzle-orm';
import { filterSql, parseFilter } from '../telemetry/filter.ts';
import { ALL_METHODS } from '../telemetry/policies.ts';
import { checkType } from '../telemetry/resources.ts';

// The threshold rules Nubo evaluates, as Aodh's API spells them: one resource's metric, or one
// metric aggregated across the resources a Gnocchi search finds.

export const ALARM_TYPES = ['gnocchi_resources_threshold', 'gnocchi_aggregation_by_resources_threshold'] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];
export const OPERATORS = ['lt', 'le', 'eq', 'ne', 'ge', 'gt'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface ThresholdRule {
  metric: string;
  threshold: number;
  comparison_operator: Operator;
  aggregation_method: string;
  granularity: number;
  evaluation_periods: number;
  resource_type: string;
  /** gnocchi_resources_threshold: the resource. */
  resource_id?: string;
  /** gnocchi_aggregation_by_resources_threshold: a Gnocchi search, as JSON text. */
  query?: string;
}

const positiveInteger = (v: unknown, what: string, fallback: number): number => {
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) throw badRequest(`${what} must be a positive integer, not ${JSON.stringify(v)}`);
  return n;
};

const text = (v: unknown, what: string, max = 255): string => {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max || v.includes('\u0000')) throw badRequest(`${what} is required: a non-empty string of at most ${max} characters`);
  return v;
};

/** Reads the `<type>_rule` object of a create or an update into a complete rule, Aodh's
 * defaults filled in (granularity 60, one evaluation period, operator eq). */
export function readRule(type: AlarmType, input: unknown): ThresholdRule {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest(`${type}_rule is required for an alarm of type ${type}`);
  const r = input as Record<string, unknown>;
  const threshold = typeof r.threshold === 'string' && r.threshold.trim() !== '' ? Number(r.threshold) : r.threshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw badRequest(`threshold must be a number, not ${JSON.stringify(r.threshold)}`);
  const operator = r.comparison_operator ?? 'eq';
  if (!OPERATORS.includes(operator as Operator)) throw badRequest(`comparison_operator must be one of ${OPERATORS.join(', ')}`);
  const method = text(r.aggregation_method, 'aggregation_method');
  if (!ALL_METHODS.includes(method)) throw badRequest(`aggregation_method ${method} is not one of ${ALL_METHODS.join(', ')}`);
  const resourceType = text(r.resource_type, 'resource_type');
  try {
    checkType(resourceType);
  } catch {
    throw badRequest(`Resource type ${resourceType} does not exist`);
  }
  const rule: ThresholdRule = {
    metric: text(r.metric, 'metric'),
    threshold,
    comparison_operator: operator as Operator,
    aggregation_method: method,
    granularity: positiveInteger(r.granularity, 'granularity', 60),
    evaluation_periods: positiveInteger(r.evaluation_periods, 'evaluation_periods', 1),
    resource_type: resourceType,
  };
  if (type === 'gnocchi_resources_threshold') return { ...rule, resource_id: text(r.resource_id, 'resource_id') };
  const query = text(r.query, 'query', 64 * 1024);
  queryFilter(query);
  return { ...rule, query };
}

/** The resource condition of a rule's query: Gnocchi's JSON search, or its text form. */
export function queryFilter(query: string): SQL {
  let tree: unknown;
  try {
    tree = JSON.parse(query);
  } catch {
    tree = parseFilter(query);
  }
  return filterSql(tree);
}

/** Whether a value breaches the threshold: the operator reads `value OP threshold`. */
export function breaches(rule: Pick<ThresholdRule, 'comparison_operator' | 'threshold'>, value: number): boolean {
  const t = rule.threshold;
  switch (rule.comparison_operator) {
    case 'lt':
      return value < t;
    case 'le':
      return value <= t;
    case 'eq':
      return value === t;
    case 'ne':
      return value !== t;
    case 'ge':
      return value >= t;
    case 'gt':
      return value > t;
  }
}
