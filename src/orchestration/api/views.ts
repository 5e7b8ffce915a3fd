import type { ResourceRow, StackRow } from '../engine.ts';
import type { stackEvents } from '../tables.ts';

type EventRow = typeof stackEvents.$inferSelect;

/** Heat's times: ISO 8601 to the second, in UTC. */
export const heatTime = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);

/** The stack's URL below the project's endpoint: Heat names stacks by name and id together. */
export const stackPath = (base: string, stack: StackRow) => `${base}/stacks/${encodeURIComponent(stack.name)}/${stack.id}`;

export function stackSummary(base: string, s: StackRow) {
  return {
    id: s.id,
    stack_name: s.name,
    description: typeof s.template.description === 'string' ? s.template.description : 'No description',
    creation_time: heatTime(s.createdAt),
    updated_time: heatTime(s.updatedAt),
    deletion_time: null,
    stack_status: `${s.action}_${s.status}`,
    stack_status_reason: s.statusReason,
    stack_owner: null,
    parent: null,
    stack_user_project_id: s.projectId,
    tags: s.tags.length ? s.tags : null,
    links: [{ href: stackPath(base, s), rel: 'self' }],
  };
}

export function stackDetail(base: string, s: StackRow, extra: { parameters: Record<string, string>; outputs?: unknown[] }) {
  const summary = stackSummary(base, s);
  return {
    ...summary,
    template_description: summary.description,
    disable_rollback: s.disableRollback,
    timeout_mins: s.timeoutMins,
    notification_topics: [],
    capabilities: [],
    parameters: extra.parameters,
    ...(extra.outputs ? { outputs: extra.outputs } : {}),
  };
}

export function resourceView(base: string, stack: StackRow, r: ResourceRow, requiredBy: string[]) {
  return {
    resource_name: r.name,
    logical_resource_id: r.name,
    physical_resource_id: r.physicalId ?? '',
    resource_type: r.type,
    resource_status: `${r.action}_${r.status}`,
    resource_status_reason: r.statusReason,
    creation_time: heatTime(r.createdAt),
    updated_time: heatTime(r.updatedAt ?? r.createdAt),
    required_by: requiredBy,
    links: [
      { href: `${stackPath(base, stack)}/resources/${encodeURIComponent(r.name)}`, rel: 'self' },
      { href: stackPath(base, stack), rel: 'stack' },
    ],
  };
}

export function eventView(base: string, stack: StackRow, e: EventRow) {
  const resource = `${stackPath(base, stack)}/resources/${encodeURIComponent(e.resourceName)}`;
  return {
    id: e.id,
    event_time: heatTime(e.time),
    resource_name: e.resourceName,
    logical_resource_id: e.resourceName,
    physical_resource_id: e.physicalId ?? '',
    resource_status: `${e.action}_${e.status}`,
    resource_status_reason: e.reason,
    links: [
      { href: `${resource}/events/${e.id}`, rel: 'self' },
      { href: resource, rel: 'resource' },
      { href: stackPath(base, stack), rel: 'stack' },
    ],
  };
}
