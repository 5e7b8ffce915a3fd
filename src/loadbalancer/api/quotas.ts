import type { FastifyInstance } from 'fastify';
import { forbidden } from '../../lib/errors.ts';
import { DEFAULT_QUOTA, listQuotas, QUOTA_KINDS, quotaOf, resetQuota, setQuota, type Quota, type QuotaKind } from '../quotas.ts';
import type { LoadBalancing } from '../service.ts';
import { callerOf } from './caller.ts';
import { bodyOf, invalid } from './input.ts';

/** Octavia's quota body: each limit, also under the older names octaviaclient once used. */
const quotaView = (q: Quota) => ({ ...q, loadbalancer: q.load_balancer, healthmonitor: q.health_monitor });

const OLD_NAMES: Record<string, QuotaKind> = { loadbalancer: 'load_balancer', healthmonitor: 'health_monitor' };

/** /v2/lbaas/quotas: admins list and set any project's; a project reads its own. */
export function quotaRoutes(api: FastifyInstance, svc: LoadBalancing): void {
  const db = svc.store.db;
  const read = { config: { policy: 'loadbalancer:quota:read' } };
  const write = { config: { policy: 'loadbalancer:quota:write' } };
  type Project = { Params: { project: string } };

  api.get('/lbaas/quotas', read, async (request) => {
    const caller = callerOf(request);
    const all = await listQuotas(db);
    const seen = caller.isAdmin ? all : all.filter((q) => q.projectId === caller.projectId);
    return { quotas: seen.map((q) => ({ project_id: q.projectId, ...quotaView(q.quota) })), quotas_links: [] };
  });
  api.get('/lbaas/quotas/defaults', read, async () => ({ quota: quotaView(DEFAULT_QUOTA) }));
  api.get<Project>('/lbaas/quotas/:project', read, async (request) => {
    const caller = callerOf(request);
    if (!caller.isAdmin && request.params.project !== caller.projectId) throw forbidden('Policy does not allow this request to be performed.');
    return { quota: quotaView(await quotaOf(db, request.params.project)) };
  });
  api.put<Project>('/lbaas/quotas/:project', write, async (request, reply) => {
    const b = bodyOf(request.body, 'quota');
    const limits: Partial<Record<QuotaKind, number | null>> = {};
    for (const [field, v] of Object.entries(b)) {
      const kind = (field in QUOTA_KINDS ? field : OLD_NAMES[field]) as QuotaKind | undefined;
      if (!kind) throw invalid(field, v, 'Unknown attribute.');
      if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 2000000000)) {
        throw invalid(field, v, 'Value should be greater or equal to -1 and lower or equal to 2000000000');
      }
      limits[kind] = v as number | null;
    }
    await setQuota(db, request.params.project, limits);
    return reply.status(202).send({ quota: quotaView(await quotaOf(db, request.params.project)) });
  });
  api.delete<Project>('/lbaas/quotas/:project', write, async (request, reply) => {
    await resetQuota(db, request.params.project);
    return reply.status(204).send();
  });
}
