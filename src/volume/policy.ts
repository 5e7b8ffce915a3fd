import type { AuthContext } from '../lib/http/auth.ts';
import { admin, anyOf, authenticated, definePolicy, projectMember, projectReader } from '../lib/http/policy.ts';

// Every route's project is in its path; members act in their own project, admins in any.
const member = anyOf(admin, projectMember);
const reader = anyOf(admin, projectReader);

definePolicy({
  'volume:get': reader,
  'volume:create': member,
  'volume:update': member,
  'volume:delete': member,
  'volume:extend': member,
  'volume:reset_status': admin,
  'volume:force_delete': admin,
  'volume:snapshot:get': reader,
  'volume:snapshot:create': member,
  'volume:snapshot:update': member,
  'volume:snapshot:delete': member,
  'volume:snapshot:reset_status': admin,
  'volume:backup:get': reader,
  'volume:backup:create': member,
  'volume:backup:update': member,
  'volume:backup:delete': member,
  'volume:backup:restore': member,
  'volume:backup:reset_status': admin,
  'volume:type:get': reader,
  'volume:type:manage': admin,
  'volume:quota:show': authenticated,
  'volume:quota:update': admin,
  'volume:limits': reader,
  'volume:availability_zone': reader,
});

export const isAdmin = (auth: AuthContext) => admin(auth, {});
