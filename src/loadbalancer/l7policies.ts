// L7 policies and their rules, as Octavia defines them: a listener's policies are tried in the
// order of their position, and the first whose rules all match acts (sends the request to a pool,
// redirects it, or rejects it). A policy without rules matches nothing.

import { randomUUID } from 'node:crypto';
import { and, eq, gte, ne, sql } from 'drizzle-orm';
import { badRequest } from '../lib/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { closeGap, findChild, underLock, type L7PolicyRow, type L7RuleRow } from './children.ts';
import { poolFits } from './listeners.ts';
import type { Caller } from './provisioning.ts';
import { l7Policies, l7Rules, pools, type L7Action, type L7CompareType, type L7RuleType } from './tables.ts';
import { withinQuota } from './quotas.ts';

export interface L7PolicyFields {
  action?: L7Action;
  position?: number;
  redirectPoolId?: string | null;
  redirectUrl?: string | null;
  redirectPrefix?: string | null;
  redirectHttpCode?: number | null;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  tags?: string[];
}

export const REDIRECT_CODES = [301, 302, 303, 307, 308];

/** An absolute http(s) URL HAProxy can put in a Location header as one word. */
const isUrl = (v: string) => /^https?:\/\/[^\s'"]+$/.test(v) && URL.canParse(v);

/** The policy as it will be once changed: what its action needs is there, what it does not use is
 * cleared (Octavia's rules), and a redirect pool is an HTTP pool of the same load balancer. */
async function settleAction(tx: Db, lbId: string, p: L7PolicyFields & { action: L7Action }): Promise<L7PolicyFields> {
  const out: L7PolicyFields = { ...p, redirectPoolId: null, redirectUrl: null, redirectPrefix: null, redirectHttpCode: null };
  const code = () => {
    const c = p.redirectHttpCode ?? 302;
    if (!REDIRECT_CODES.includes(c))
      throw badRequest(`Invalid input for field/attribute redirect_http_code. Value: '${c}'. Value should be one of: ${REDIRECT_CODES.join(', ')}`);
    return c;
  };
  if (p.action === 'REDIRECT_TO_POOL') {
    if (!p.redirectPoolId) throw badRequest('Validation failure: A valid pool must be specified when the L7 policy action is REDIRECT_TO_POOL.');
    const [pool] = await tx
      .select()
      .from(pools)
      .where(and(eq(pools.id, p.redirectPoolId), eq(pools.loadBalancerId, lbId)));
    if (!pool || pool.provisioningStatus === 'PENDING_DELETE')
      throw badRequest(`Validation failure: Pool ${p.redirectPoolId} not found on this load balancer.`);
    if (!poolFits('HTTP', pool.protocol))
      throw badRequest(`Validation failure: The pool protocol '${pool.protocol}' is invalid for an L7 policy of an HTTP listener.`);
    out.redirectPoolId = pool.id;
  } else if (p.action === 'REDIRECT_TO_URL') {
    if (!p.redirectUrl || !isUrl(p.redirectUrl))
      throw badRequest('Validation failure: A valid URL must be specified when the L7 policy action is REDIRECT_TO_URL.');
    [out.redirectUrl, out.redirectHttpCode] = [p.redirectUrl, code()];
  } else if (p.action === 'REDIRECT_PREFIX') {
    if (!p.redirectPrefix || !isUrl(p.redirectPrefix))
      throw badRequest('Validation failure: A valid prefix must be specified when the L7 policy action is REDIRECT_PREFIX.');
    [out.redirectPrefix, out.redirectHttpCode] = [p.redirectPrefix, code()];
  }
  return out;
}

/** Room at `position` among the listener's policies (1 is first; past the end is last): the ones
 * from there on move down. Returns the position taken. */
async function makeRoom(tx: Db, listenerId: string, position: number | undefined, except?: string): Promise<number> {
  const [{ n } = { n: 0 }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(l7Policies)
    .where(and(eq(l7Policies.listenerId, listenerId), ne(l7Policies.provisioningStatus, 'PENDING_DELETE'), except ? ne(l7Policies.id, except) : undefined));
  const at = Math.min(position ?? n + 1, n + 1);
  await tx
    .update(l7Policies)
    .set({ position: sql`${l7Policies.position} + 1` })
    .where(and(eq(l7Policies.listenerId, listenerId), gte(l7Policies.position, at), except ? ne(l7Policies.id, except) : undefined));
  return at;
}

export async function createL7Policy(store: Store, caller: Caller, listenerId: string, input: L7PolicyFields & { action: L7Action }): Promise<L7PolicyRow> {
  const listener = await findChild(store.db, caller, 'listener', listenerId);
  if (listener.protocol !== 'HTTP') throw badRequest(`Validation failure: L7 policies are only valid on HTTP listeners, not ${listener.protocol}.`);
  return underLock(
    store,
    caller,
    listener.loadBalancerId,
    async (tx, lb) => {
      await withinQuota(tx, lb.projectId, 'l7policy');
      const fields = await settleAction(tx, lb.id, input);
      const position = await makeRoom(tx, listener.id, input.position);
      const [row] = await tx
        .insert(l7Policies)
        .values({ ...fields, action: input.action, id: randomUUID(), projectId: lb.projectId, loadBalancerId: lb.id, listenerId: listener.id, position })
        .returning();
      return row!;
    },
    { kind: 'listener', id: listener.id },
  );
}

export async function updateL7Policy(store: Store, caller: Caller, id: string, input: L7PolicyFields): Promise<L7PolicyRow> {
  const old = await findChild(store.db, caller, 'l7policy', id);
  return underLock(
    store,
    caller,
    old.loadBalancerId,
    async (tx, lb) => {
      const action = input.action ?? old.action;
      // A field the change leaves out keeps its value, unless the new action does not use it.
      const fields = await settleAction(tx, lb.id, {
        ...input,
        action,
        redirectPoolId: input.redirectPoolId !== undefined ? input.redirectPoolId : old.redirectPoolId,
        redirectUrl: input.redirectUrl !== undefined ? input.redirectUrl : old.redirectUrl,
        redirectPrefix: input.redirectPrefix !== undefined ? input.redirectPrefix : old.redirectPrefix,
        redirectHttpCode: input.redirectHttpCode !== undefined ? input.redirectHttpCode : old.redirectHttpCode,
      });
      if (input.position !== undefined && input.position !== old.position) {
        await closeGap(tx, old);
        fields.position = await makeRoom(tx, old.listenerId, input.position, id);
      } else delete fields.position;
      const [row] = await tx
        .update(l7Policies)
        .set({ ...fields, provisioningStatus: 'PENDING_UPDATE', updatedAt: new Date() })
        .where(eq(l7Policies.id, id))
        .returning();
      return row!;
    },
    { kind: 'listener', id: old.listenerId },
  );
}

export interface L7RuleFields {
  type: L7RuleType;
  compareType: L7CompareType;
  value: string;
  key?: string | null;
  invert?: boolean;
  adminStateUp?: boolean;
  tags?: string[];
}

/** Octavia's checks of a rule, and what HAProxy's configuration can carry: a value is one
 * single-quoted word there, so it may hold neither a quote nor a control character. */
export function checkRule(r: L7RuleFields): void {
  const bad = (why: string) => badRequest(`Validation failure: ${why}`);
  if (/['\x00-\x1f\x7f]/.test(r.value) || (r.key && /['\x00-\x1f\x7f]/.test(r.key)))
    throw bad('L7 rule key and value may not contain quotes or control characters.');
  if (r.type === 'HEADER' || r.type === 'COOKIE') {
    if (!r.key || !/^[\w!#$%&*+.^`|~-]+$/.test(r.key))
      throw bad(`L7 rule type ${r.type} needs a key that is a valid ${r.type === 'HEADER' ? 'header' : 'cookie'} name.`);
  } else if (r.key) throw bad(`L7 rule type ${r.type} takes no key.`);
  if (r.type === 'FILE_TYPE' && !['EQUAL_TO', 'REGEX'].includes(r.compareType)) throw bad('L7 rule type FILE_TYPE needs compare_type EQUAL_TO or REGEX.');
  if (r.type === 'PATH' && r.compareType !== 'REGEX' && !/^\S+$/.test(r.value)) throw bad('L7 rule type PATH needs a value without spaces.');
  if (r.type === 'HOST_NAME' && r.compareType !== 'REGEX' && !/^[\w.*-]+$/.test(r.value)) throw bad('L7 rule type HOST_NAME needs a host name.');
  if (r.compareType === 'REGEX') {
    try {
      new RegExp(r.value);
    } catch {
      throw bad(`L7 rule value '${r.value}' is not a valid regular expression.`);
    }
  }
}

export async function createL7Rule(store: Store, caller: Caller, policyId: string, input: L7RuleFields): Promise<L7RuleRow> {
  const policy = await findChild(store.db, caller, 'l7policy', policyId);
  checkRule(input);
  return underLock(
    store,
    caller,
    policy.loadBalancerId,
    async (tx, lb) => {
      await withinQuota(tx, lb.projectId, 'l7rule');
      const [row] = await tx
        .insert(l7Rules)
        .values({ ...input, key: input.key ?? null, id: randomUUID(), projectId: lb.projectId, loadBalancerId: lb.id, l7PolicyId: policy.id })
        .returning();
      return row!;
    },
    { kind: 'l7policy', id: policy.id },
  );
}
