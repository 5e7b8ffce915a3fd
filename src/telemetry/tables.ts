import { doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true });

/** One granularity of an archive policy: a bucket of `granularity` seconds, `points` of them kept. */
export interface PolicyLevel {
  granularity: number;
  points: number;
}

/** Gnocchi's archive policy: the levels every metric under it is rolled up into, and the
 * aggregation methods served (mean, max, rate:mean…). */
export const archivePolicies = pgTable('telemetry_archive_policies', {
  name: text('name').primaryKey(),
  backWindow: integer('back_window').notNull().default(0),
  definition: jsonb('definition').$type<PolicyLevel[]>().notNull(),
  aggregationMethods: jsonb('aggregation_methods').$type<string[]>().notNull(),
});

/** Which policy a metric created without one gets, by a glob on its name (longest match wins). */
export const archivePolicyRules = pgTable('telemetry_archive_policy_rules', {
  name: text('name').primaryKey(),
  metricPattern: text('metric_pattern').notNull(),
  archivePolicyName: text('archive_policy_name').notNull(),
});

/** A thing measured (an instance, a port, a disk…), typed as Gnocchi's; the attributes of its type
 * are kept in `attributes`. ended_at is set once it is gone. */
export const resources = pgTable(
  'telemetry_resources',
  {
    id: uuid('id').primaryKey(),
    originalResourceId: text('original_resource_id').notNull(),
    type: text('type').notNull(),
    projectId: text('project_id'),
    userId: text('user_id'),
    createdByUserId: text('created_by_user_id').notNull(),
    createdByProjectId: text('created_by_project_id').notNull(),
    startedAt: at('started_at').notNull().defaultNow(),
    endedAt: at('ended_at'),
    revisionStart: at('revision_start').notNull().defaultNow(),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('telemetry_resources_project').on(t.projectId), index('telemetry_resources_type').on(t.type)],
);

/** A time series. Its newest raw point is kept so that a rate can be rolled up on write. */
export const metrics = pgTable(
  'telemetry_metrics',
  {
    id: uuid('id').primaryKey(),
    name: text('name'),
    unit: text('unit'),
    resourceId: uuid('resource_id'),
    archivePolicyName: text('archive_policy_name').notNull(),
    createdByUserId: text('created_by_user_id').notNull(),
    createdByProjectId: text('created_by_project_id').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    lastAt: at('last_at'),
    lastValue: doublePrecision('last_value'),
  },
  (t) => [index('telemetry_metrics_resource').on(t.resourceId, t.name), index('telemetry_metrics_policy').on(t.archivePolicyName)],
);

/**
 * One bucket of one granularity of a metric, rolled up as measures arrive: every method the API
 * serves is derived from these sums (mean = sum / count, std from the sum of squares), and the
 * r* columns hold the same for the differences between consecutive raw points (rate:…).
 */
export const aggregates = pgTable(
  'telemetry_aggregates',
  {
    metricId: uuid('metric_id').notNull(),
    granularity: integer('granularity').notNull(),
    ts: at('ts').notNull(),
    count: integer('count').notNull(),
    sum: doublePrecision('sum').notNull(),
    sumsq: doublePrecision('sumsq').notNull(),
    min: doublePrecision('min').notNull(),
    max: doublePrecision('max').notNull(),
    last: doublePrecision('last').notNull(),
    lastAt: at('last_at').notNull(),
    rcount: integer('rcount').notNull().default(0),
    rsum: doublePrecision('rsum').notNull().default(0),
    rsumsq: doublePrecision('rsumsq').notNull().default(0),
    rmin: doublePrecision('rmin'),
    rmax: doublePrecision('rmax'),
    rlast: doublePrecision('rlast'),
  },
  (t) => [primaryKey({ columns: [t.metricId, t.granularity, t.ts] })],
);
