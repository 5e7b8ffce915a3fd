import type { FastifyInstance } from 'fastify';
import type { Store } from '../../lib/store/db.ts';
import { createPolicy, createRule, deletePolicy, deleteRule, findPolicy, findRule, listPolicies, listRules, renameRule, updatePolicy } from '../policies.ts';
import { policyView, ruleView } from './views.ts';

type Named = { Params: { name: string }; Body: Record<string, unknown> };

export function archivePolicyRoutes(api: FastifyInstance, store: Store): void {
  api.get('/archive_policy', { config: { policy: 'telemetry:list archive policy' } }, async () => (await listPolicies(store.db)).map(policyView));
  api.post<{ Body: Record<string, unknown> }>('/archive_policy', { config: { policy: 'telemetry:create archive policy' } }, async (request, reply) =>
    reply.status(201).send(policyView(await createPolicy(store.db, request.body ?? {}))),
  );
  api.get<Named>('/archive_policy/:name', { config: { policy: 'telemetry:get archive policy' } }, async (request) => policyView(await findPolicy(store.db, request.params.name)));
  api.patch<Named>('/archive_policy/:name', { config: { policy: 'telemetry:update archive policy' } }, async (request) =>
    policyView(await store.tx((tx) => updatePolicy(tx, request.params.name, request.body ?? {}))),
  );
  api.delete<Named>('/archive_policy/:name', { config: { policy: 'telemetry:delete archive policy' } }, async (request, reply) => {
    await store.tx((tx) => deletePolicy(tx, request.params.name));
    return reply.status(204).send();
  });

  api.get('/archive_policy_rule', { config: { policy: 'telemetry:list archive policy rule' } }, async () => (await listRules(store.db)).map(ruleView));
  api.post<{ Body: Record<string, unknown> }>('/archive_policy_rule', { config: { policy: 'telemetry:create archive policy rule' } }, async (request, reply) =>
    reply.status(201).send(ruleView(await createRule(store.db, request.body ?? {}))),
  );
  api.get<Named>('/archive_policy_rule/:name', { config: { policy: 'telemetry:get archive policy rule' } }, async (request) => ruleView(await findRule(store.db, request.params.name)));
  api.patch<Named>('/archive_policy_rule/:name', { config: { policy: 'telemetry:update archive policy rule' } }, async (request) =>
    ruleView(await store.tx((tx) => renameRule(tx, request.params.name, request.body ?? {}))),
  );
  api.delete<Named>('/archive_policy_rule/:name', { config: { policy: 'telemetry:delete archive policy rule' } }, async (request, reply) => {
    await deleteRule(store.db, request.params.name);
    return reply.status(204).send();
  });
}
