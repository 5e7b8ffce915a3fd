import type { FastifyInstance } from 'fastify';
import type { Db } from '../../lib/store/db.ts';
import { childNotFound, deleteChild, findChild, listChildren, updateChild, type L7PolicyRow, type L7RuleRow } from '../children.ts';
import { checkRule, createL7Policy, createL7Rule, updateL7Policy, type L7PolicyFields } from '../l7policies.ts';
import type { Caller } from '../provisioning.ts';
import type { LoadBalancing } from '../service.ts';
import { L7_ACTIONS, L7_COMPARE_TYPES, L7_RULE_TYPES } from '../tables.ts';
import { callerOf, type Query } from './caller.ts';
import { bodyOf, bool, filtered, int, oneOf, required, tags, text, type Body } from './input.ts';
import { l7PolicyView, l7RuleView } from './views.ts';

const drop = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

async function policyViews(db: Db, caller: Caller, rows: L7PolicyRow[]) {
  const rules = await listChildren(db, caller, 'l7rule');
  return rows.map((p) =>
    l7PolicyView(
      p,
      rules.filter((r) => r.l7PolicyId === p.id && r.provisioningStatus !== 'PENDING_DELETE').map((r) => r.id),
    ),
  );
}

/** A field that may be given as null to clear it. */
const nullable = <T>(b: Body, field: string, read: () => T | undefined): T | null | undefined => (b[field] === null ? null : read());

const policyFields = (b: Body): L7PolicyFields =>
  drop({
    name: text(b, 'name'),
    description: text(b, 'description'),
    adminStateUp: bool(b, 'admin_state_up'),
    action: oneOf(b, 'action', L7_ACTIONS),
    position: int(b, 'position', 1, 2147483647),
    redirectPoolId: nullable(b, 'redirect_pool_id', () => text(b, 'redirect_pool_id', 36)),
    redirectUrl: nullable(b, 'redirect_url', () => text(b, 'redirect_url')),
    redirectPrefix: nullable(b, 'redirect_prefix', () => text(b, 'redirect_prefix')),
    redirectHttpCode: nullable(b, 'redirect_http_code', () => int(b, 'redirect_http_code', 100, 599)),
    tags: tags(b),
  });

const ruleFields = (b: Body) =>
  drop({
    type: oneOf(b, 'type', L7_RULE_TYPES),
    compareType: oneOf(b, 'compare_type', L7_COMPARE_TYPES),
    value: text(b, 'value'),
    key: nullable(b, 'key', () => text(b, 'key')),
    invert: bool(b, 'invert'),
    adminStateUp: bool(b, 'admin_state_up'),
    tags: tags(b),
  });

/** Octavia's /v2/lbaas/l7policies and their rules under /l7policies/{id}/rules. */
export function l7Routes(api: FastifyInstance, svc: LoadBalancing): void {
  const db = svc.store.db;
  const read = { config: { policy: 'loadbalancer:read' } };
  const write = { config: { policy: 'loadbalancer:write' } };
  type Id = { Params: { id: string } };

  api.get<{ Querystring: Query }>('/lbaas/l7policies', read, async (request) => {
    const caller = callerOf(request);
    const rows = (await listChildren(db, caller, 'l7policy')).sort((a, b) => a.listenerId.localeCompare(b.listenerId) || a.position - b.position);
    return { l7policies: filtered(await policyViews(db, caller, rows), request.query), l7policies_links: [] };
  });
  api.post('/lbaas/l7policies', write, async (request, reply) => {
    const caller = callerOf(request);
    const b = bodyOf(request.body, 'l7policy');
    const f = policyFields(b);
    const row = await createL7Policy(svc.store, caller, required(text(b, 'listener_id', 36), 'listener_id'), { ...f, action: required(f.action, 'action') });
    return reply.status(201).send({ l7policy: (await policyViews(db, caller, [row]))[0] });
  });
  api.get<Id>('/lbaas/l7policies/:id', read, async (request) => {
    const caller = callerOf(request);
    return { l7policy: (await policyViews(db, caller, [await findChild(db, caller, 'l7policy', request.params.id)]))[0] };
  });
  api.put<Id>('/lbaas/l7policies/:id', write, async (request) => {
    const caller = callerOf(request);
    const row = await updateL7Policy(svc.store, caller, request.params.id, policyFields(bodyOf(request.body, 'l7policy')));
    return { l7policy: (await policyViews(db, caller, [row]))[0] };
  });
  api.delete<Id>('/lbaas/l7policies/:id', write, async (request, reply) => {
    await deleteChild(svc.store, callerOf(request), 'l7policy', request.params.id);
    return reply.status(204).send();
  });

  type Rule = { Params: { policy: string; id: string } };
  const ruleOf = async (caller: Caller, policy: string, id: string): Promise<L7RuleRow> => {
    await findChild(db, caller, 'l7policy', policy);
    const r = await findChild(db, caller, 'l7rule', id);
    if (r.l7PolicyId !== policy) throw childNotFound('l7rule', id);
    return r;
  };
  api.get<{ Params: { policy: string }; Querystring: Query }>('/lbaas/l7policies/:policy/rules', read, async (request) => {
    const caller = callerOf(request);
    await findChild(db, caller, 'l7policy', request.params.policy);
    const rows = (await listChildren(db, caller, 'l7rule')).filter((r) => r.l7PolicyId === request.params.policy);
    return { rules: filtered(rows.map(l7RuleView), request.query), rules_links: [] };
  });
  api.post<{ Params: { policy: string } }>('/lbaas/l7policies/:policy/rules', write, async (request, reply) => {
    const f = ruleFields(bodyOf(request.body, 'rule'));
    const row = await createL7Rule(svc.store, callerOf(request), request.params.policy, {
      ...f,
      type: required(f.type, 'type'),
      compareType: required(f.compareType, 'compare_type'),
      value: required(f.value, 'value'),
    });
    return reply.status(201).send({ rule: l7RuleView(row) });
  });
  api.get<Rule>('/lbaas/l7policies/:policy/rules/:id', read, async (request) => ({
    rule: l7RuleView(await ruleOf(callerOf(request), request.params.policy, request.params.id)),
  }));
  api.put<Rule>('/lbaas/l7policies/:policy/rules/:id', write, async (request) => {
    const caller = callerOf(request);
    const old = await ruleOf(caller, request.params.policy, request.params.id);
    const f = ruleFields(bodyOf(request.body, 'rule'));
    checkRule({ type: old.type, compareType: old.compareType, value: old.value, key: old.key, ...f });
    return { rule: l7RuleView(await updateChild(svc.store, caller, 'l7rule', old.id, f as Partial<L7RuleRow>)) };
  });
  api.delete<Rule>('/lbaas/l7policies/:policy/rules/:id', write, async (request, reply) => {
    const caller = callerOf(request);
    await ruleOf(caller, request.params.policy, request.params.id);
    await deleteChild(svc.store, caller, 'l7rule', request.params.id);
    return reply.status(204).send();
  });
}
