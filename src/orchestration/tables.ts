import { bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

/**
 * A stack: its template and parameters as given, and where its last action stands (Heat's
 * action and status, shown together as CREATE_COMPLETE, DELETE_FAILED…). A deleted stack's row
 * is removed once every resource it made is gone.
 */
export const stacks = pgTable(
  'orchestration_stacks',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    template: jsonb('template').$type<Record<string, unknown>>().notNull(),
    /** The parameters the user gave; defaults are applied when the template is read. */
    parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull().default({}),
    action: text('action').notNull(),
    status: text('status').notNull(),
    statusReason: text('status_reason').notNull().default(''),
    disableRollback: boolean('disable_rollback').notNull().default(true),
    timeoutMins: integer('timeout_mins'),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    /** The client's files map (get_file's contents, nested templates), by the names the template uses. */
    files: jsonb('files').$type<Record<string, string>>().notNull().default({}),
    /** The environment's resource_registry: type names mapped to other types or to template files. */
    registry: jsonb('registry').$type<Record<string, unknown>>().notNull().default({}),
    /** The stack whose resource this nested stack is (a template resource, a ResourceGroup); null at the top. */
    parentId: text('parent_id'),
    createdAt: time('created_at'),
    updatedAt: timestamp('updated_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('orchestration_stacks_project_name').on(t.projectId, t.name), index('orchestration_stacks_project').on(t.projectId)],
);

/** A resource of a stack, recorded before the engine asks another service to make it, so that
 * whatever it made can always be found and removed; physicalId is the other service's id. */
export const stackResources = pgTable(
  'orchestration_resources',
  {
    stackId: text('stack_id').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    physicalId: text('physical_id'),
    action: text('action').notNull(),
    status: text('status').notNull(),
    statusReason: text('status_reason').notNull().default(''),
    /** The properties it was made or last updated with, evaluated: an update compares the new
     * ones with them to tell what changed. */
    properties: jsonb('properties').$type<Record<string, unknown>>(),
    /** What the resource's attributes are read from (the other service's view of it). */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: time('created_at'),
    updatedAt: timestamp('updated_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('orchestration_resources_stack_name').on(t.stackId, t.name)],
);

/** What happened to a stack and its resources, in order (seq), as `stack event list` shows it. */
export const stackEvents = pgTable(
  'orchestration_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull().unique(),
    stackId: text('stack_id').notNull(),
    resourceName: text('resource_name').notNull(),
    physicalId: text('physical_id'),
    resourceType: text('resource_type'),
    action: text('action').notNull(),
    status: text('status').notNull(),
    reason: text('reason').notNull().default(''),
    time: time('time'),
  },
  (t) => [index('orchestration_events_stack').on(t.stackId, t.seq)],
);
