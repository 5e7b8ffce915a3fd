import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { isQuotaResource, limitsOf, resetLimits, setLimits, usageOf, type QuotaSet } from '../quotas.ts';
import { classLimits } from '../quota-classes.ts';
import { groupsUsed } from '../server-groups.ts';

const ByProject = Type.Object({ project_id: Type.String() });
const Limit = Type.Union([Type.Integer({ minimum: -1, maximum: 2 ** 31 - 1 }), Type.String({ pattern: '^-?\\d+$' })]);
const UpdateBody = Type.Object({
  quota_set: Type.Intersect([Type.Record(Type.String(), Type.Union([Limit, Type.Boolean()])), Type.Object({ force: Type.Optional(Type.Unknown()) })]),
});

/** What each microversion dropped: the network service's resources at 2.36, file injection at 2.57. */
const DROPPED: [string, string[]][] = [
  ['2.36', ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules', 'networks']],
  ['2.57', ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes']],
];
const LIMITS_DROPPED: [string, string[]][] = [
  ['2.36', ['maxTotalFloatingIps', 'maxSecurityGroups', 'maxSecurityGroupRules', 'totalFloatingIpsUsed', 'totalSecurityGroupsUsed']],
  ['2.39', ['maxImageMeta']],
  ['2.57', ['maxPersonality', 'maxPersonalitySize']],
];

/** The keys a request at microversion v no longer has. */
const droppedAt = (v: Microversion, table: [string, string[]][]) => new Set(table.flatMap(([since, keys]) => (v.atLeast(since) ? keys : [])));

/** A quota set or limits without what the request's microversion dropped. */
function at<T extends Record<string, unknown>>(request: FastifyRequest, set: T, table = DROPPED): T {
  const gone = droppedAt(versionOf(request), table);
  return Object.fromEntries(Object.entries(set).filter(([k]) => !gone.has(k))) as T;
}

/** /os-quota-sets and /limits, as each microversion shows them. */
export function quotaRoutes(app: FastifyInstance, store: Store, defaults: QuotaSet): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  api.get('/os-quota-sets/:project_id/defaults', { config: { policy: 'compute:os-quota-sets:defaults' }, schema: { params: ByProject } }, async (request) => ({
    quota_set: at(request, { id: request.params.project_id, ...(await classLimits(db, defaults)) }),
  }));

  api.get('/os-quota-sets/:project_id', { config: { policy: 'compute:os-quota-sets:show' }, schema: { params: ByProject } }, async (request) => ({
    quota_set: at(request, { id: request.params.project_id, ...(await limitsOf(db, request.params.project_id, defaults)) }),
  }));

  api.get('/os-quota-sets/:project_id/detail', { config: { policy: 'compute:os-quota-sets:show' }, schema: { params: ByProject } }, async (request) => {
    const { project_id } = request.params;
    const [limits, used, groups] = await Promise.all([limitsOf(db, project_id, defaults), usageOf(db, project_id), groupsUsed(db, project_id)]);
    const inUse: Record<string, number> = { ...used, server_groups: groups };
    const detail = Object.fromEntries(
      Object.entries(limits).map(([r, limit]) => [r, { limit, in_use: inUse[r] ?? 0, reserved: 0 }]),
    );
    return { quota_set: at(request, { id: project_id, ...detail }) };
  });

  api.put(
    '/os-quota-sets/:project_id',
    { config: { policy: 'compute:os-quota-sets:update' }, schema: { params: ByProject, body: UpdateBody } },
    async (request) => {
      const { project_id } = request.params;
      const changes: Partial<QuotaSet> = {};
      const gone = droppedAt(versionOf(request), DROPPED);
      for (const [key, value] of Object.entries(request.body.quota_set)) {
        if (key === 'force') continue;
        if (!isQuotaResource(key) || gone.has(key))
          throw badRequest(`Invalid input for field/attribute quota_set. Additional properties are not allowed ('${key}' was unexpected)`);
        const n = Number(value);
        if (!Number.isInteger(n) || n < -1 || n > 2 ** 31 - 1) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${String(value)}.`);
        changes[key] = n;
      }
      await store.tx((tx) => setLimits(tx, project_id, changes));
      return { quota_set: at(request, await limitsOf(db, project_id, defaults)) };
    },
  );

  api.delete('/os-quota-sets/:project_id', { config: { policy: 'compute:os-quota-sets:delete' }, schema: { params: ByProject } }, async (request, reply) => {
    await resetLimits(db, request.params.project_id);
    return reply.status(202).send();
  });

  api.get('/limits', { config: { policy: 'compute:limits' } }, async (request) => {
    const projectId = authOf(request).project?.id ?? '';
    const [limits, used, groups] = await Promise.all([limitsOf(db, projectId, defaults), usageOf(db, projectId), groupsUsed(db, projectId)]);
    return {
      limits: {
        rate: [],
        absolute: at(
          request,
          {
            maxTotalInstances: limits.instances,
            maxTotalCores: limits.cores,
            maxTotalRAMSize: limits.ram,
            maxTotalKeypairs: limits.key_pairs,
            maxServerMeta: limits.metadata_items,
            maxPersonality: limits.injected_files,
            maxPersonalitySize: limits.injected_file_content_bytes,
            maxImageMeta: limits.metadata_items,
            maxServerGroups: limits.server_groups,
            maxServerGroupMembers: limits.server_group_members,
            maxTotalFloatingIps: limits.floating_ips,
            maxSecurityGroups: limits.security_groups,
            maxSecurityGroupRules: limits.security_group_rules,
            totalInstancesUsed: used.instances,
            totalCoresUsed: used.cores,
            totalRAMUsed: used.ram,
            totalServerGroupsUsed: groups,
            totalFloatingIpsUsed: 0,
            totalSecurityGroupsUsed: 0,
          },
          LIMITS_DROPPED,
        ),
      },
    };
  });
}
