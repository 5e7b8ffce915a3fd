import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import type { QuotaSet } from '../quotas.ts';
import { classLimits, setClassLimits } from '../quota-classes.ts';
import { versionOf, type Microversion } from './microversion.ts';

const ById = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });
const UpdateBody = Type.Object({
  quota_class_set: Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String({ pattern: '^-?\\d+$' })])),
});

/** The resources a quota class shows at a microversion: the network ones until 2.50, server groups from 2.50, file injection until 2.57. */
function resourcesAt(v: Microversion): (keyof QuotaSet)[] {
  const base: (keyof QuotaSet)[] = ['instances', 'cores', 'ram', 'metadata_items', 'key_pairs'];
  const injection: (keyof QuotaSet)[] = v.below('2.57') ? ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'] : [];
  const network: (keyof QuotaSet)[] = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'];
  const groups: (keyof QuotaSet)[] = ['server_groups', 'server_group_members'];
  return [...base, ...injection, ...(v.below('2.50') ? network : groups)];
}

/** /os-quota-class-sets: the default class, whose limits every project has unless given its own. */
export function quotaClassRoutes(app: FastifyInstance, store: Store, defaults: QuotaSet): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const view = async (id: string, v: Microversion) => {
    const limits = await classLimits(db, defaults, id);
    return Object.fromEntries(resourcesAt(v).map((r) => [r, limits[r]]));
  };

  api.get('/os-quota-class-sets/:id', { config: { policy: 'compute:os-quota-class-sets:show' }, schema: { params: ById } }, async (request) => ({
    quota_class_set: { id: request.params.id, ...(await view(request.params.id, versionOf(request))) },
  }));

  api.put(
    '/os-quota-class-sets/:id',
    { config: { policy: 'compute:os-quota-class-sets:update' }, schema: { params: ById, body: UpdateBody } },
    async (request) => {
      const v = versionOf(request);
      const allowed = resourcesAt(v) as string[];
      const changes: Record<string, number> = {};
      for (const [key, value] of Object.entries(request.body.quota_class_set)) {
        if (!allowed.includes(key))
          throw badRequest(`Invalid input for field/attribute quota_class_set. Additional properties are not allowed ('${key}' was unexpected)`);
        const n = Number(value);
        if (!Number.isInteger(n) || n < -1 || n > 2 ** 31 - 1) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${String(value)}.`);
        changes[key] = n;
      }
      await store.tx((tx) => setClassLimits(tx, request.params.id, changes));
      return { quota_class_set: await view(request.params.id, v) };
    },
  );
}
