import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import type { AccessRule } from '../lib/http/auth.ts';
import { badRequest, forbidden, notFound } from '../lib/errors.ts';
import { accessRules, appCredentialAccessRules } from './tables.ts';
import { newId } from './ids.ts';

/** A rule as a new application credential asks for it: the id of one of the user's rules, or
 * its service, method and path. */
export interface AccessRuleInput {
  id?: string;
  service?: string;
  method?: string;
  path?: string;
}

export interface AccessRuleFilter {
  service?: string;
  method?: string;
  path?: string;
}

const columns = { id: accessRules.id, service: accessRules.service, method: accessRules.method, path: accessRules.path };
const missing = (id: string) => notFound(`Could not find access rule: ${id}.`);

/** The user's rule with this id, or one with the same service, method and path. */
async function findRule(tx: Db, userId: string, input: AccessRuleInput): Promise<AccessRule | undefined> {
  if (input.id) {
    const [byId] = await tx
      .select({ ...columns, userId: accessRules.userId })
      .from(accessRules)
      .where(eq(accessRules.id, input.id));
    if (byId && byId.userId !== userId) throw missing(input.id);
    if (byId) return { id: byId.id, service: byId.service, method: byId.method, path: byId.path };
  }
  if (!input.service || !input.method || !input.path) return undefined;
  const [same] = await tx
    .select(columns)
    .from(accessRules)
    .where(and(eq(accessRules.userId, userId), eq(accessRules.service, input.service), eq(accessRules.method, input.method), eq(accessRules.path, input.path)));
  return same;
}

/**
 * Gives a new credential its rules, as Keystone does: a rule named by id must be the user's own,
 * a rule equal to one the user has is shared, any other is created for the user.
 */
export async function attachAccessRules(tx: Db, userId: string, credentialId: string, inputs: AccessRuleInput[]): Promise<AccessRule[]> {
  const rules = new Map<string, AccessRule>();
  for (const input of inputs) {
    let rule = await findRule(tx, userId, input);
    if (!rule) {
      if (!input.service || !input.method || !input.path) {
        throw input.id ? missing(input.id) : badRequest('An access rule needs a service, a method and a path, or the id of an existing rule.');
      }
      const spec = { service: input.service, method: input.method, path: input.path };
      // A credential created at the same moment may have made the same rule: share it.
      [rule] = await tx
        .insert(accessRules)
        .values({ id: input.id ?? newId(), userId, ...spec })
        .onConflictDoNothing()
        .returning(columns);
      rule ??= await findRule(tx, userId, spec);
      if (!rule) throw badRequest(`Access rule id ${input.id} is taken.`);
    }
    rules.set(rule.id, rule);
  }
  const list = [...rules.values()];
  if (list.length) await tx.insert(appCredentialAccessRules).values(list.map((r, position) => ({ credentialId, ruleId: r.id, position })));
  return list;
}

/** The rules of each credential, in the order they were given. */
export async function rulesOf(db: Db, credentialIds: string[]): Promise<Map<string, AccessRule[]>> {
  const byCredential = new Map<string, AccessRule[]>();
  if (!credentialIds.length) return byCredential;
  const rows = await db
    .select({ ...columns, credentialId: appCredentialAccessRules.credentialId })
    .from(appCredentialAccessRules)
    .innerJoin(accessRules, eq(accessRules.id, appCredentialAccessRules.ruleId))
    .where(inArray(appCredentialAccessRules.credentialId, credentialIds))
    .orderBy(asc(appCredentialAccessRules.position));
  for (const { credentialId, ...rule } of rows) {
    const list = byCredential.get(credentialId) ?? [];
    list.push(rule);
    byCredential.set(credentialId, list);
  }
  return byCredential;
}

export async function listAccessRules(db: Db, userId: string, filter: AccessRuleFilter = {}): Promise<AccessRule[]> {
  const where = [
    eq(accessRules.userId, userId),
    ...(filter.service !== undefined ? [eq(accessRules.service, filter.service)] : []),
    ...(filter.method !== undefined ? [eq(accessRules.method, filter.method)] : []),
    ...(filter.path !== undefined ? [eq(accessRules.path, filter.path)] : []),
  ];
  return db
    .select(columns)
    .from(accessRules)
    .where(and(...where))
    .orderBy(accessRules.service, accessRules.path, accessRules.method);
}

export async function getAccessRule(db: Db, userId: string, id: string): Promise<AccessRule> {
  const [rule] = await db
    .select(columns)
    .from(accessRules)
    .where(and(eq(accessRules.userId, userId), eq(accessRules.id, id)));
  if (!rule) throw missing(id);
  return rule;
}

/** Deletes one of the user's rules that no application credential uses any more. */
export async function deleteAccessRule(tx: Db, userId: string, id: string): Promise<void> {
  await getAccessRule(tx, userId, id);
  const [used] = await tx.select().from(appCredentialAccessRules).where(eq(appCredentialAccessRules.ruleId, id)).limit(1);
  if (used) throw forbidden('May not delete access rule in use.');
  await tx.delete(accessRules).where(eq(accessRules.id, id));
}
