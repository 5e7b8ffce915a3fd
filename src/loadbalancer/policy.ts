import type { AuthContext } from '../lib/http/auth.ts';
import { admin, anyOf, definePolicy, projectMember, projectReader } from '../lib/http/policy.ts';

// Octavia's paths name no project: members act in their token's project, admins in any.
const member = anyOf(admin, projectMember);
const reader = anyOf(admin, projectReader);

definePolicy({
  'loadbalancer:read': reader,
  'loadbalancer:write': member,
  'loadbalancer:provider': reader,
  // A project reads its own quotas (checked by the route); only admins set them.
  'loadbalancer:quota:read': reader,
  'loadbalancer:quota:write': admin,
  // As in Octavia, a failover is an operator's tool.
  'loadbalancer:failover': admin,
});

export const isAdmin = (auth: AuthContext) => admin(auth, {});
