import { admin, anyOf, authenticated, definePolicy, ownScope, self } from '../lib/http/policy.ts';

/** Keystone's default rules, reduced to Nubo's roles: `admin` on any project is the cloud
 * administrator; everyone else sees themselves and their own scope. */
definePolicy({
  'identity:admin_required': admin,
  'identity:validate_token': authenticated,
  'identity:revoke_token': authenticated,
  'identity:get_auth_catalog': authenticated,
  'identity:get_auth_projects': authenticated,
  'identity:get_auth_domains': authenticated,

  'identity:list_domains': admin,
  'identity:get_domain': anyOf(admin, ownScope),
  'identity:create_domain': admin,
  'identity:update_domain': admin,
  'identity:delete_domain': admin,

  'identity:list_projects': admin,
  'identity:get_project': anyOf(admin, ownScope),
  'identity:create_project': admin,
  'identity:update_project': admin,
  'identity:delete_project': admin,
  'identity:list_user_projects': anyOf(admin, self),

  'identity:list_users': admin,
  'identity:get_user': anyOf(admin, self),
  'identity:create_user': admin,
  'identity:update_user': admin,
  'identity:delete_user': admin,
  'identity:change_password': self,

  'identity:list_roles': admin,
  'identity:get_role': admin,
  'identity:create_role': admin,
  'identity:update_role': admin,
  'identity:delete_role': admin,
  'identity:create_grant': admin,
  'identity:check_grant': admin,
  'identity:list_grants': admin,
  'identity:revoke_grant': admin,
  'identity:list_role_assignments': admin,

  'identity:list_application_credentials': anyOf(admin, self),
  'identity:get_application_credential': anyOf(admin, self),
  'identity:create_application_credential': self,
  'identity:delete_application_credential': anyOf(admin, self),
  'identity:list_access_rules': anyOf(admin, self),
  'identity:get_access_rule': anyOf(admin, self),
  'identity:delete_access_rule': anyOf(admin, self),

  'identity:list_regions': authenticated,
  'identity:get_region': authenticated,
  'identity:create_region': admin,
  'identity:list_services': admin,
  'identity:get_service': admin,
  'identity:create_service': admin,
  'identity:delete_service': admin,
  'identity:list_endpoints': admin,
  'identity:get_endpoint': admin,
  'identity:create_endpoint': admin,
  'identity:delete_endpoint': admin,
});
