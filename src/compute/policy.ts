import { admin, anyOf, authenticated, definePolicy, projectMember, projectReader } from '../lib/http/policy.ts';

/** Nova's rules, by Nova's names. Keypairs are the caller's own: the queries are scoped to the
 * caller's user, so the rule only asks for a valid token. */
definePolicy({
  'compute:context_is_admin': admin,
  'compute:flavors:index': anyOf(admin, projectReader),
  'compute:flavors:show': anyOf(admin, projectReader),
  'compute:flavor-manage:create': admin,
  'compute:flavor-manage:delete': admin,
  'compute:flavor-extra-specs:index': anyOf(admin, projectReader),
  'compute:flavor-extra-specs:update': admin,
  'compute:flavor-access': admin,
  'compute:keypairs': authenticated,
  'compute:os-quota-sets:defaults': authenticated,
  'compute:os-quota-sets:show': anyOf(admin, projectReader),
  'compute:os-quota-sets:update': admin,
  'compute:os-quota-sets:delete': admin,
  'compute:limits': authenticated,
  'compute:servers:index': anyOf(admin, projectReader),
  'compute:servers:index:get_all_tenants': admin,
  'compute:servers:show': anyOf(admin, projectReader),
  'compute:servers:create': projectMember,
  'compute:servers:delete': anyOf(admin, projectMember),
  'compute:servers:update': anyOf(admin, projectMember),
  'compute:servers:action': anyOf(admin, projectMember),
  'compute:servers:console-output': anyOf(admin, projectMember),
  'compute:server-metadata:index': anyOf(admin, projectReader),
  'compute:server-metadata:update': anyOf(admin, projectMember),
  'compute:os-hypervisors': admin,
});
