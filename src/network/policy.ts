import { admin, anyOf, definePolicy, projectMember, projectReader } from '../lib/http/policy.ts';

// Neutron's rules, by Neutron's names. Reading a resource of another project that is shared or
// external is decided by the queries (they return what the caller may see), not here.
const owner = anyOf(admin, projectMember);
const reader = anyOf(admin, projectReader);

definePolicy({
  'network:create_network': projectMember,
  'network:create_network:shared': admin,
  'network:create_network:router:external': admin,
  'network:create_network:provider': admin,
  'network:get_network': reader,
  'network:update_network': owner,
  'network:delete_network': owner,
  'network:create_subnet': projectMember,
  'network:get_subnet': reader,
  'network:update_subnet': owner,
  'network:delete_subnet': owner,
  'network:create_port': projectMember,
  /** Setting mac_address, binding:host_id, device_owner of a network: service, or a fixed IP on
   * another project's network. */
  'network:create_port:admin_fields': admin,
  'network:get_port': reader,
  'network:update_port': owner,
  'network:delete_port': owner,
  'network:create_security_group': projectMember,
  'network:get_security_group': reader,
  'network:update_security_group': owner,
  'network:delete_security_group': owner,
  'network:create_security_group_rule': projectMember,
  'network:get_security_group_rule': reader,
  'network:delete_security_group_rule': owner,
  'network:create_router': projectMember,
  'network:get_router': reader,
  'network:update_router': owner,
  'network:delete_router': owner,
  'network:add_router_interface': owner,
  'network:remove_router_interface': owner,
  'network:create_floatingip': projectMember,
  'network:get_floatingip': reader,
  'network:update_floatingip': owner,
  'network:delete_floatingip': owner,
  'network:get_quota': reader,
  'network:update_quota': admin,
  'network:delete_quota': admin,
  'network:get_extension': anyOf(admin, projectReader),
});
