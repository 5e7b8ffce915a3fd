import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true });

/** Aodh's alarm: a threshold rule over the metric store, evaluated by the controller, and the
 * webhooks called when its state changes. `rule` holds the `<type>_rule` object as the API gives it. */
export const alarms = pgTable(
  'alarming_alarms',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    type: text('type').notNull(),
    rule: jsonb('rule').$type<Record<string, unknown>>().notNull(),
    enabled: boolean('enabled').notNull(),
    severity: text('severity').notNull(),
    state: text('state').notNull(),
    stateReason: text('state_reason').notNull(),
    stateTimestamp: at('state_timestamp').notNull(),
    timestamp: at('timestamp').notNull(),
    evaluateTimestamp: at('evaluate_timestamp'),
    repeatActions: boolean('repeat_actions').notNull(),
    alarmActions: jsonb('alarm_actions').$type<string[]>().notNull(),
    okActions: jsonb('ok_actions').$type<string[]>().notNull(),
    insufficientDataActions: jsonb('insufficient_data_actions').$type<string[]>().notNull(),
    timeConstraints: jsonb('time_constraints').$type<unknown[]>().notNull(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
  },
  // Aodh refuses a second alarm of the same name in a project.
  (t) => [uniqueIndex('alarming_alarms_project_name').on(t.projectId, t.name)],
);

/** What happened to an alarm: its creation, rule changes and state transitions, detail as JSON text. */
export const alarmHistory = pgTable(
  'alarming_history',
  {
    eventId: uuid('event_id').primaryKey(),
    alarmId: uuid('alarm_id').notNull(),
    type: text('type').notNull(),
    detail: text('detail').notNull(),
    timestamp: at('timestamp').notNull(),
    userId: text('user_id'),
    projectId: text('project_id'),
    onBehalfOf: text('on_behalf_of').notNull(),
    severity: text('severity').notNull(),
  },
  (t) => [index('alarming_history_alarm').on(t.alarmId, t.timestamp)],
);
