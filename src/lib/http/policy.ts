import type { AuthContext } from './auth.ts';

/** What a rule may look at besides the caller: the path parameters of the request, or an
 * object the handler loaded (its owner's project_id, user_id). */
export type Target = Record<string, unknown>;
export type Rule = (auth: AuthContext, target: Target) => boolean;

const hasRole = (auth: AuthContext, name: string) => auth.roles.some((r) => r.name === name);

// Roles imply one another (admin → member → reader) and tokens carry the implied ones, so a
// rule names the weakest role it needs.
export const admin: Rule = (auth) => hasRole(auth, 'admin');
export const authenticated: Rule = () => true;
/** A member of the target's project (or of the token's project when the target names none). */
export const projectMember: Rule = (auth, target) =>
  hasRole(auth, 'member') && auth.project !== undefined && (target.project_id === undefined || target.project_id === auth.project.id);
export const projectReader: Rule = (auth, target) =>
  hasRole(auth, 'reader') && auth.project !== undefined && (target.project_id === undefined || target.project_id === auth.project.id);
/** The caller is the user the request is about. */
export const self: Rule = (auth, target) => target.user_id === auth.userId;
/** The caller's token is the one the request is about (scope of its own project or domain). */
export const ownScope: Rule = (auth, target) =>
  (target.project_id !== undefined && target.project_id === auth.project?.id) ||
  (target.domain_id !== undefined && target.domain_id === auth.domain?.id);

export const anyOf =
  (...rules: Rule[]): Rule =>
  (auth, target) =>
    rules.some((r) => r(auth, target));

const table = new Map<string, Rule>();

/** Registers a service's rules; the names are `service:action`, as in OpenStack's policy files. */
export function definePolicy(rules: Record<string, Rule>): void {
  for (const [name, rule] of Object.entries(rules)) table.set(name, rule);
}

export function allows(name: string, auth: AuthContext, target: Target = {}): boolean {
  const rule = table.get(name);
  if (!rule) throw new Error(`no policy rule named ${name}`);
  return rule(auth, target);
}
