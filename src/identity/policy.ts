import { admin, anyOf, authenticated, definePolicy, ownScope, self, type Rule } from '../lib/http/policy.ts';
import type { AuthContext } from '../lib/http/auth.ts';

/** The target domain is the one of the token's project, as Keystone's get_domain allows. */
const projectDomain: Rule = (auth, target) => target.domain_id !== undefined && target.domain_id === auth.project?.domainId;

/** Keystone's default rules, reduced to Nubo's roles: `admin` on any project is the cloud
 * administrator; everyone else sees themselves and their own scope. */
definePolicy({
  'identity:admin_required': admin,
  // Keystone's service_admin_or_token_subject: a service (radosgw, a Swift proxy) validates the
  // tokens its clients bring.
  'identity:service_admin_required': anyOf(admin, service),
  'identity:validate_token': authenticated,
  'identity:revoke_token': authenticated,
  'identity:get_auth_catalog': authenticated,
  'identity:get_auth_projects': authenticated,
  'identity:get_auth_domains': authenticated,
  'identity:get_auth_system': authenticated,

  'identity:list_domains': admin,
  'identity:get_domain': anyOf(admin, ownScope, projectDomain),
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

  'identity:list_groups': admin,
  'identity:get_group': admin,
  'identity:create_group': admin,
  'identity:update_group': admin,
  'identity:delete_group': admin,
  'identity:list_users_in_group': admin,
  'identity:add_user_to_group': admin,
  'identity:check_user_in_group': admin,
  'identity:remove_user_from_group': admin,
  'identity:list_groups_for_user': anyOf(admin, self),
  'identity:get_domain_config': admin,
  'identity:list_project_tags': anyOf(admin, ownScope),
  'identity:get_project_tag': anyOf(admin, ownScope),
  'identity:update_project_tags': admin,
  'identity:create_project_tag': admin,
  'identity:delete_project_tag': admin,
  'identity:delete_project_tags': admin,

  // Trusts are checked against the trust itself in their handlers (trustor, trustee, admin).
  'identity:create_trust': authenticated,
  'identity:list_trusts': authenticated,
  'identity:get_trust': authenticated,
  'identity:delete_trust': authenticated,
  'identity:list_roles_for_trust': authenticated,
  'identity:get_role_for_trust': authenticated,
  'identity:list_system_grants_for_user': admin,
  'identity:check_system_grant_for_user': admin,
  'identity:create_system_grant_for_user': admin,
  'identity:revoke_system_grant_for_user': admin,
  'identity:list_system_grants_for_group': admin,
  'identity:check_system_grant_for_group': admin,
  'identity:create_system_grant_for_group': admin,
  'identity:revoke_system_grant_for_group': admin,

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
  'identity:update_region': admin,
  'identity:delete_region': admin,

  'identity:list_endpoint_groups': admin,
  'identity:get_endpoint_group': admin,
  'identity:create_endpoint_group': admin,
  'identity:update_endpoint_group': admin,
  'identity:delete_endpoint_group': admin,
  'identity:list_endpoints_associated_with_endpoint_group': admin,
  'identity:list_projects_associated_with_endpoint_group': admin,
  'identity:get_endpoint_group_in_project': admin,
  'identity:add_endpoint_group_to_project': admin,
  'identity:remove_endpoint_group_from_project': admin,
  'identity:list_endpoint_groups_for_project': admin,
  'identity:list_endpoints_for_project': admin,
  'identity:check_endpoint_in_project': admin,
  'identity:add_endpoint_to_project': admin,
  'identity:remove_endpoint_from_project': admin,
  'identity:list_projects_for_endpoint': admin,

  'identity:list_policies': admin,
  'identity:get_policy': admin,
  'identity:create_policy': admin,
  'identity:update_policy': admin,
  'identity:delete_policy': admin,

  // Any token reaches the credential routes; these rules are then checked against the credential.
  'identity:credential_api': authenticated,
  'identity:get_credential': anyOf(admin, self),
  'identity:create_credential': anyOf(admin, self),
  'identity:update_credential': anyOf(admin, self),
  'identity:delete_credential': anyOf(admin, self),
  'identity:ec2_list_credentials': anyOf(admin, self),
  // A service reads the secret to check later requests itself, as radosgw does (Ceph's docs give
  // its user this rule rather than admin).
  'identity:ec2_get_credential': anyOf(admin, self, service),
  'identity:ec2_create_credential': anyOf(admin, self),
  'identity:ec2_delete_credential': anyOf(admin, self),
  // Only a service (or an admin) turns a signed request into a token.
  'identity:ec2tokens_validate': anyOf(admin, service),
  'identity:s3tokens_validate': anyOf(admin, service),
});

function service(auth: AuthContext): boolean {
  return auth.roles.some((r) => r.name === 'service');
}
