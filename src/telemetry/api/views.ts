import type { FastifyRequest } from 'fastify';
import { authOf } from '../../lib/http/auth.ts';
import type { MetricRow } from '../metrics.ts';
import { timedelta, type ArchivePolicy, type ArchivePolicyRule } from '../policies.ts';
import type { ResourceRow } from '../resources.ts';
import { RESOURCE_TYPES, type Caller } from '../types.ts';

export function callerOf(request: FastifyRequest): Caller {
  const auth = authOf(request);
  return { userId: auth.userId, projectId: auth.project?.id ?? '', admin: auth.roles.some((r) => r.name === 'admin') };
}

const iso = (d: Date | null) => (d ? d.toISOString().replace(/Z$/, '+00:00') : null);

export const policyView = (p: ArchivePolicy) => ({
  name: p.name,
  back_window: p.backWindow,
  definition: p.definition.map((d) => ({ granularity: timedelta(d.granularity), points: d.points, timespan: timedelta(d.granularity * d.points) })),
  aggregation_methods: [...p.aggregationMethods].sort(),
});

export const ruleView = (r: ArchivePolicyRule) => ({ name: r.name, metric_pattern: r.metricPattern, archive_policy_name: r.archivePolicyName });

/** A resource as read through `asType`: through `generic` (lists of every type, show by any id)
 * Gnocchi gives the generic attributes only, and clients build their columns from that. */
export const resourceView = (r: ResourceRow, metrics: Record<string, string>, asType = r.type) => ({
  id: r.id,
  original_resource_id: r.originalResourceId,
  type: r.type,
  project_id: r.projectId,
  user_id: r.userId,
  creator: `${r.createdByUserId}:${r.createdByProjectId}`,
  created_by_user_id: r.createdByUserId,
  created_by_project_id: r.createdByProjectId,
  started_at: iso(r.startedAt),
  ended_at: iso(r.endedAt),
  revision_start: iso(r.revisionStart),
  revision_end: null,
  metrics,
  ...(asType === 'generic' ? {} : r.attributes),
});

export const metricView = (m: MetricRow, policy: ArchivePolicy, resource?: ReturnType<typeof resourceView> | null) => ({
  id: m.id,
  archive_policy: policyView(policy),
  creator: `${m.createdByUserId}:${m.createdByProjectId}`,
  created_by_user_id: m.createdByUserId,
  created_by_project_id: m.createdByProjectId,
  name: m.name,
  unit: m.unit,
  resource_id: m.resourceId,
  ...(resource !== undefined ? { resource } : {}),
});

export const resourceTypeView = (name: string) => ({
  name,
  state: 'active',
  attributes: Object.fromEntries(
    Object.entries(RESOURCE_TYPES[name]!).map(([a, s]) => [a, s.type === 'string' ? { type: 'string', required: s.required, min_length: 0, max_length: 255 } : { type: s.type, required: s.required }]),
  ),
});
