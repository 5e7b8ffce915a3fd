import type { AlarmRow, HistoryRow } from './alarms.ts';

/** Aodh writes times in UTC without a zone, to the microsecond. */
const time = (d: Date | null) => (d ? d.toISOString().replace('Z', '000') : null);

export const alarmView = (a: AlarmRow) => ({
  alarm_id: a.id,
  name: a.name,
  description: a.description,
  type: a.type,
  [`${a.type}_rule`]: a.rule,
  enabled: a.enabled,
  state: a.state,
  state_reason: a.stateReason,
  state_timestamp: time(a.stateTimestamp),
  timestamp: time(a.timestamp),
  evaluate_timestamp: time(a.evaluateTimestamp),
  severity: a.severity,
  repeat_actions: a.repeatActions,
  alarm_actions: a.alarmActions,
  ok_actions: a.okActions,
  insufficient_data_actions: a.insufficientDataActions,
  time_constraints: a.timeConstraints,
  project_id: a.projectId,
  user_id: a.userId,
});

export const historyView = (h: HistoryRow) => ({
  event_id: h.eventId,
  alarm_id: h.alarmId,
  type: h.type,
  detail: h.detail,
  timestamp: time(h.timestamp),
  user_id: h.userId,
  project_id: h.projectId,
  on_behalf_of: h.onBehalfOf,
  severity: h.severity,
});
