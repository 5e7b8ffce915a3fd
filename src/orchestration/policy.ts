import { admin, anyOf, definePolicy, projectMember, projectReader } from '../lib/http/policy.ts';

// Every route's project is in its path; members act in their own project, admins in any.
const member = anyOf(admin, projectMember);
const reader = anyOf(admin, projectReader);

definePolicy({
  'stacks:index': reader,
  'stacks:show': reader,
  'stacks:create': member,
  'stacks:preview': member,
  'stacks:update': member,
  'stacks:preview_update': member,
  'stacks:delete': member,
  'stacks:abandon': member,
  'stacks:template': reader,
  'stacks:validate_template': member,
  'stacks:list_resource_types': reader,
  'stacks:list_template_versions': reader,
  'resource:index': reader,
  'resource:show': reader,
  'events:index': reader,
  'resource:signal': member,
});
