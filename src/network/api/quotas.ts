import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { admin } from '../../lib/http/policy.ts';
import { badRequest } from '../../lib/errors.ts';
import type { NetworkApi } from '../index.ts';
import {
  isNetworkResource,
  limitsOf,
  lockProjectQuota,
  projectsWithLimits,
  QUOTA_DEFAULTS,
  resetLimits,
  RESOURCES,
  setLimits,
  usageOf,
  usagesOf,
  type QuotaSet,
} from '../quotas.ts';

const ByProject = Type.Object({ project_id: Type.String() });
const UpdateBody = Type.Object({ quota: Type.Record(Type.String(), Type.Unknown()) });
const MAX = 2 ** 31 - 1;

/** A limit as Neutron converts it: an integer, or the text of one, from -1 (unlimited) up. */
function limitOf(resource: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  const reason = !Number.isInteger(n)
    ? `'${String(value)}' is not an integer`
    : n < -1
      ? `'${n}' is too small - must be at least '-1'`
      : n > MAX
        ? `'${n}' is too large - must be no larger than '${MAX}'`
        : undefined;
  if (reason) throw badRequest(`Invalid input for ${resource}. Reason: ${reason}.`, 'InvalidInput');
  return n;
}

/** check_limit and force as Neutron reads booleans. */
function flagOf(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const v = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(v)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(v)) return false;
  throw badRequest(`Invalid input for ${name}. Reason: '${String(value)}' is not a valid boolean value.`, 'InvalidInput');
}

/** Neutron's quotas extension (with quota_details): /v2.0/quotas. */
export function quotaRoutes(app: FastifyInstance, net: NetworkApi): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = net;
  const { db } = store;

  // The projects whose limits differ from the defaults; a project sees only its own entry.
  api.get('/quotas', { config: { policy: 'network:get_quota' } }, async (request) => {
    const auth = authOf(request);
    const projects = (await projectsWithLimits(db)).filter((p) => admin(auth, {}) || p === auth.project?.id);
    return { quotas: await Promise.all(projects.map(async (p) => ({ ...(await limitsOf(db, p)), project_id: p, tenant_id: p }))) };
  });

  // Which project the token is for: Neutron's `project` and older `tenant` collection actions.
  for (const key of ['project', 'tenant'] as const) {
    api.get(`/quotas/${key}`, { config: { policy: 'network:get_quota' } }, async (request) => {
      const id = authOf(request).project?.id;
      if (!id) throw badRequest('Tenant-id was missing from quota request.', 'QuotaMissingTenant');
      return { [key]: { [`${key}_id`]: id } };
    });
  }

  api.get('/quotas/:project_id', { config: { policy: 'network:get_quota' }, schema: { params: ByProject } }, async (request) => ({
    quota: await limitsOf(db, request.params.project_id),
  }));

  api.get('/quotas/:project_id/default', { config: { policy: 'network:get_quota' }, schema: { params: ByProject } }, async () => ({
    quota: { ...QUOTA_DEFAULTS },
  }));

  api.get('/quotas/:project_id/details', { config: { policy: 'network:get_quota' }, schema: { params: ByProject } }, async (request) => {
    const { project_id } = request.params;
    const [limits, used] = await Promise.all([limitsOf(db, project_id), usagesOf(db, project_id)]);
    return { quota: Object.fromEntries(RESOURCES.map((r) => [r, { limit: limits[r], used: used[r], reserved: 0 }])) };
  });

  api.put('/quotas/:project_id', { config: { policy: 'network:update_quota' }, schema: { params: ByProject, body: UpdateBody } }, async (request) => {
    const { project_id } = request.params;
    const changes: Partial<QuotaSet> = {};
    let checkLimit = false;
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(request.body.quota)) {
      if (key === 'check_limit') checkLimit = flagOf(key, value);
      else if (key === 'force') flagOf(key, value);
      // The SDK may echo the owner back; it is the path's project either way.
      else if (key === 'project_id' || key === 'tenant_id') continue;
      else if (isNetworkResource(key)) changes[key] = limitOf(key, value);
      else unknown.push(key);
    }
    if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
    const quota = await store.tx(async (tx) => {
      if (checkLimit) {
        // Under the lock that creates take, so that none slips in between the count and the change.
        await lockProjectQuota(tx, project_id);
        for (const [resource, limit] of Object.entries(changes) as [keyof QuotaSet, number][]) {
          const used = await usageOf(tx, project_id, resource);
          if (limit >= 0 && used > limit) throw badRequest(`Quota limit ${limit} for ${resource} must be greater than or equal to already used ${used}`);
        }
      }
      await setLimits(tx, project_id, changes);
      return limitsOf(tx, project_id);
    });
    return { quota };
  });

  api.delete('/quotas/:project_id', { config: { policy: 'network:delete_quota' }, schema: { params: ByProject } }, async (request, reply) => {
    await resetLimits(db, request.params.project_id);
    return reply.status(204).send();
  });
}
