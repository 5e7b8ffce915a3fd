import type { FastifyInstance } from 'fastify';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest, forbidden } from '../../lib/errors.ts';
import { isAdmin } from '../policy.ts';
import { defaultsOf, limitsOf, resetLimits, setLimits, usageOf, type QuotaSet } from '../quotas.ts';
import type { VolumeService } from '../service.ts';
import { bodyOf, boolOf } from './input.ts';

type Params = { project_id: string; target: string };

/** Cinder's quota sets (os-quota-sets), absolute limits (/limits) and availability zones. */
export function quotaRoutes(app: FastifyInstance, svc: VolumeService): void {
  const db = svc.store.db;

  app.get<{ Params: Params; Querystring: { usage?: string } }>('/:project_id/os-quota-sets/:target', { config: { policy: 'volume:quota:show' } }, async (request) => {
    const auth = authOf(request);
    const { target } = request.params;
    if (!isAdmin(auth) && target !== auth.project?.id) throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
    const limits = await limitsOf(db, target);
    if (request.query.usage === undefined || !boolOf('usage', request.query.usage)) return { quota_set: { id: target, ...limits } };
    const used = await usageOf(db, target);
    const detailed = Object.fromEntries(Object.entries(limits).map(([r, limit]) => [r, { limit, in_use: used[r] ?? 0, reserved: 0, allocated: 0 }]));
    return { quota_set: { id: target, ...detailed } };
  });

  app.get<{ Params: Params }>('/:project_id/os-quota-sets/:target/defaults', { config: { policy: 'volume:quota:show' } }, async (request) => ({
    quota_set: { id: request.params.target, ...(await defaultsOf(db)) },
  }));

  app.put<{ Params: Params }>('/:project_id/os-quota-sets/:target', { config: { policy: 'volume:quota:update' } }, async (request) => {
    const b = bodyOf(request, 'quota_set');
    const limits: QuotaSet = {};
    for (const [k, v] of Object.entries(b)) {
      // Clients send the id and tenant_id back with the set they read.
      if (k === 'id' || k === 'tenant_id') continue;
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n !== 'number') throw badRequest(`Invalid input received: Quota limit for ${k} must be an integer.`);
      limits[k] = n;
    }
    const { target } = request.params;
    await svc.store.tx((tx) => setLimits(tx, target, limits));
    return { quota_set: await limitsOf(db, target) };
  });

  app.delete<{ Params: Params }>('/:project_id/os-quota-sets/:target', { config: { policy: 'volume:quota:update' } }, async (request, reply) => {
    await resetLimits(db, request.params.target);
    return reply.status(200).send();
  });

  app.get<{ Params: { project_id: string } }>('/:project_id/limits', { config: { policy: 'volume:limits' } }, async (request) => {
    const project = authOf(request).project?.id ?? request.params.project_id;
    const [limits, used] = await Promise.all([limitsOf(db, project), usageOf(db, project)]);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: limits.volumes,
          maxTotalSnapshots: limits.snapshots,
          maxTotalVolumeGigabytes: limits.gigabytes,
          maxTotalBackups: limits.backups,
          maxTotalBackupGigabytes: limits.backup_gigabytes,
          totalVolumesUsed: used.volumes ?? 0,
          totalSnapshotsUsed: used.snapshots ?? 0,
          totalGigabytesUsed: used.gigabytes ?? 0,
          totalBackupsUsed: used.backups ?? 0,
          totalBackupGigabytesUsed: used.backup_gigabytes ?? 0,
        },
      },
    };
  });

  app.get('/:project_id/os-availability-zone', { config: { policy: 'volume:availability_zone' } }, async () => ({
    availabilityZoneInfo: [{ zoneName: svc.zone, zoneState: { available: true } }],
  }));
}
